package addernet.torch;

import addernet.io.Names;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a {@code state_dict} written by {@code torch.save} (docs/torch.md): a zip holding {@code
 * <root>/data.pkl}, a pickle of an ordered dict from names to tensors, and each tensor's storage as
 * raw little-endian bytes under {@code <root>/data/<key>}, which the pickle names by persistent id.
 *
 * <p>This class is the zip and storage layer: the archive's entries, its byte order, and every
 * tensor gathered from its storage. {@link StatePickle} turns {@code data.pkl} into the dict of
 * tensor views it reads from. The file is a claim about sizes: every zip entry and tensor is
 * checked against the limits below (docs/torch.md, "Limits") before it is expanded or allocated,
 * so that every refusal is one message naming the file, whatever the file holds.
 */
public final class StateDictReader {
  private StateDictReader() {}

  /** The most bytes {@code data.pkl} may expand to. */
  public static final int MAX_PICKLE_BYTES = 16 << 20;

  /** The most storage bytes read from one file, all storages together. */
  public static final long MAX_STORAGE_BYTES = 1L << 30;

  /** The most tensor elements one file may give, all tensors together (1 GiB of float32). */
  public static final long MAX_ELEMENTS = 1L << 28;

  /** The most zip entries one file may hold; torch.save writes one per storage and a few more. */
  public static final int MAX_ENTRIES = 100_000;

  /** The tensors in the file's order. */
  public static LinkedHashMap<String, TorchTensor> read(Path file) {
    String shown = Names.shown(file);
    if (!Files.exists(file)) {
      throw new TorchFormatException(shown + ": no such file");
    }
    if (!Files.isRegularFile(file)) {
      // Opening a FIFO would wait for a writer forever; a folder or device is no state_dict either.
      throw new TorchFormatException(shown + ": not a regular file (a folder, FIFO or device); expected the file"
          + " torch.save wrote");
    }
    byte[] head = new byte[4];
    try (InputStream in = Files.newInputStream(file)) {
      int n = in.readNBytes(head, 0, 4);
      if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] <= 5) {
        throw new TorchFormatException(shown + ": a pickle without the zip around it (PyTorch's legacy format,"
            + " before 1.6); save it again with torch.save(model.state_dict(), FILE) from PyTorch 1.6 or later");
      }
      if (n < 4 || head[0] != 'P' || head[1] != 'K') {
        throw new TorchFormatException(shown + ": not a PyTorch file (torch.save writes a zip archive;"
            + " this one does not start like a zip)");
      }
    } catch (NoSuchFileException e) {
      throw new TorchFormatException(shown + ": no such file");
    } catch (IOException e) {
      throw new TorchFormatException(shown + ": cannot read: " + e.getMessage(), e);
    }
    try (ZipFile zip = new ZipFile(file.toFile())) {
      return read(shown, zip);
    } catch (ZipException e) {
      throw new TorchFormatException(shown + ": not a readable zip archive (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw new TorchFormatException(shown + ": cannot read: " + e.getMessage(), e);
    } catch (TorchFormatException e) {
      throw e;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      // The bounds above should leave nothing to reach here; if something does, it is still the file's fault.
      throw new TorchFormatException(shown + ": not a state_dict this reader can take ("
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + Names.printable(e.getMessage()))
          + ")", e);
    }
  }

  private static LinkedHashMap<String, TorchTensor> read(String shown, ZipFile zip) throws IOException {
    String root = root(shown, zip);
    ZipEntry order = zip.getEntry(root + "/byteorder");
    if (order != null) {
      String s = new String(entryBytes(shown, zip, order, 16), StandardCharsets.US_ASCII).strip();
      if (!s.equals("little")) {
        throw new TorchFormatException(shown + ": storages are " + Names.printable(s) + "-endian; only"
            + " little-endian files (as written on x86 and ARM) are read");
      }
    }
    String pklName = root + "/data.pkl";
    byte[] pkl = entryBytes(shown, zip, zip.getEntry(pklName), MAX_PICKLE_BYTES);
    Object top = StatePickle.load(pkl, shown + ": " + Names.shown(pklName));
    if (!(top instanceof Map<?, ?> map)) {
      throw new TorchFormatException(shown + ": holds " + StatePickle.describe(top) + ", not a state_dict (an ordered dict"
          + " of tensors); save it with torch.save(model.state_dict(), FILE)");
    }
    Budget budget = new Budget();
    Map<String, byte[]> storages = new HashMap<>();
    LinkedHashMap<String, StatePickle.TensorRef> refs = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getKey() instanceof String key)) {
        throw new TorchFormatException(shown + ": a state_dict key is " + StatePickle.describe(e.getKey()) + ", not a string");
      }
      String problem = Names.problem(key);
      if (problem != null) {
        throw new TorchFormatException(shown + ": state_dict key " + Names.printable(key) + " " + problem);
      }
      if (!(e.getValue() instanceof StatePickle.TensorRef t)) {
        throw new TorchFormatException(shown + ": state_dict entry '" + key + "' holds " + StatePickle.describe(e.getValue())
            + ", not a tensor");
      }
      refs.put(key, t);
    }
    // The sizes of all tensors and storages are summed before the first is read, so that a file past
    // the limits costs nothing but this loop.
    long elements = 0;
    long storageBytes = 0;
    Map<String, Long> claimed = new HashMap<>();
    for (Map.Entry<String, StatePickle.TensorRef> e : refs.entrySet()) {
      StatePickle.TensorRef t = e.getValue();
      long count = 1;
      for (int d : t.shape()) {
        count = Math.min(count * d, MAX_ELEMENTS + 1);
      }
      elements += count;
      StatePickle.StorageRef s = t.storage();
      if (s.numel() < 0 || s.numel() > MAX_STORAGE_BYTES / s.dtype().bytes) {
        throw new TorchFormatException(shown + ": state_dict entry '" + e.getKey() + "': its storage "
            + Names.shown(s.key()) + " claims " + s.numel() + " elements; at most " + MAX_STORAGE_BYTES
            + " bytes of storage are read (docs/torch.md, \"Limits\")");
      }
      long bytes = s.numel() * s.dtype().bytes;
      if (claimed.put(s.key(), bytes) == null) {
        storageBytes += bytes;
      }
    }
    if (elements > MAX_ELEMENTS) {
      throw new TorchFormatException(shown + ": its " + refs.size() + " tensors hold more than " + MAX_ELEMENTS
          + " elements together, the limit (docs/torch.md, \"Limits\")");
    }
    if (storageBytes > MAX_STORAGE_BYTES) {
      throw new TorchFormatException(shown + ": its storages claim more than " + MAX_STORAGE_BYTES
          + " bytes together, the limit (docs/torch.md, \"Limits\")");
    }
    LinkedHashMap<String, TorchTensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, StatePickle.TensorRef> e : refs.entrySet()) {
      out.put(e.getKey(), materialize(shown, zip, root, e.getKey(), e.getValue(), budget, storages));
    }
    return out;
  }

  /** What the storages of one file have used of the limits. */
  private static final class Budget {
    long storageBytes;
    long elements;
  }

  /**
   * An entry's bytes, refused when its declared or its actual expanded size exceeds {@code max}:
   * a zip's sizes are claims, and a small file may expand a thousandfold.
   */
  private static byte[] entryBytes(String shown, ZipFile zip, ZipEntry entry, long max) throws IOException {
    String name = shown + ": " + Names.shown(entry.getName());
    if (entry.getSize() > max) {
      throw new TorchFormatException(name + ": declares " + entry.getSize() + " bytes expanded; at most " + max
          + " are read (docs/torch.md, \"Limits\")");
    }
    byte[] b;
    try (InputStream in = zip.getInputStream(entry)) {
      b = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 16));
    }
    if (b.length > max) {
      throw new TorchFormatException(name + ": expands to more than " + max + " bytes"
          + (entry.getSize() >= 0 ? " (it declares " + entry.getSize() + ")" : "") + "; at most " + max
          + " are read (docs/torch.md, \"Limits\")");
    }
    if (entry.getSize() >= 0 && b.length != entry.getSize()) {
      throw new TorchFormatException(name + ": expands to " + b.length + " bytes, but declares " + entry.getSize());
    }
    return b;
  }

  private static String root(String shown, ZipFile zip) {
    if (zip.size() > MAX_ENTRIES) {
      throw new TorchFormatException(shown + ": a zip of " + zip.size() + " entries; a state_dict has one per"
          + " storage and a few more, and at most " + MAX_ENTRIES + " are read");
    }
    List<String> roots = new ArrayList<>();
    for (ZipEntry e : Collections.list(zip.entries())) {
      String n = e.getName();
      int slash = n.indexOf('/');
      if (slash > 0 && n.substring(slash).equals("/data.pkl")) {
        roots.add(n.substring(0, slash));
      }
    }
    if (roots.size() != 1) {
      throw new TorchFormatException(shown + ": a zip, but " + (roots.isEmpty() ? "without" : "with more than one")
          + " <folder>/data.pkl; torch.save writes exactly one");
    }
    return roots.get(0);
  }

  private static TorchTensor materialize(String shown, ZipFile zip, String root, String key, StatePickle.TensorRef t,
      Budget budget, Map<String, byte[]> storages) throws IOException {
    String where = shown + ": state_dict entry '" + key + "'";
    int[] shape = t.shape();
    long count = 1;
    for (int d : shape) {
      count *= d;
      if (count > MAX_ELEMENTS) {
        throw new TorchFormatException(where + ": shape " + java.util.Arrays.toString(shape) + " holds more than "
            + MAX_ELEMENTS + " elements, the limit for a whole file (docs/torch.md, \"Limits\")");
      }
    }
    StatePickle.StorageRef s = t.storage();
    if (s.dtype() != TorchTensor.DType.FLOAT32 && s.dtype() != TorchTensor.DType.INT64) {
      // Only float32 and int64 are ever used; the matcher names the dtype of anything else.
      return new TorchTensor(s.dtype(), shape, null, null);
    }
    if (s.numel() < 0 || s.numel() > MAX_STORAGE_BYTES / s.dtype().bytes) {
      throw new TorchFormatException(where + ": its storage " + Names.shown(s.key()) + " claims " + s.numel()
          + " elements; at most " + MAX_STORAGE_BYTES + " bytes of storage are read (docs/torch.md, \"Limits\")");
    }
    // The farthest element the view reaches, so that no index below can leave the storage.
    long reach = t.offset();
    boolean inside = t.offset() >= 0;
    for (int d = 0; d < shape.length && count > 0; d++) {
      long stride = t.stride()[d];
      if (stride < 0 || stride > s.numel()) {
        inside = false;
        break;
      }
      reach += (shape[d] - 1L) * stride;
    }
    if (count > 0 && (!inside || reach >= s.numel())) {
      throw new TorchFormatException(where + ": its shape " + java.util.Arrays.toString(shape) + ", strides "
          + java.util.Arrays.toString(t.stride()) + " and offset " + t.offset() + " reach outside its storage of "
          + s.numel() + " elements");
    }
    if (budget.elements + count > MAX_ELEMENTS) {
      throw new TorchFormatException(where + ": brings the file's tensors to more than " + MAX_ELEMENTS
          + " elements, the limit (docs/torch.md, \"Limits\")");
    }
    budget.elements += count;
    String entryName = root + "/data/" + s.key();
    byte[] raw = storages.get(entryName);
    long bytes = s.numel() * s.dtype().bytes;
    if (raw == null) {
      ZipEntry entry = zip.getEntry(entryName);
      if (entry == null) {
        throw new TorchFormatException(where + ": its storage " + Names.shown(entryName) + " is missing from the zip");
      }
      if (budget.storageBytes + bytes > MAX_STORAGE_BYTES) {
        throw new TorchFormatException(where + ": its storage brings the file to more than " + MAX_STORAGE_BYTES
            + " bytes of storage, the limit (docs/torch.md, \"Limits\")");
      }
      // torch.save writes each storage's exact size; a storage is never expanded past what the pickle claims.
      if (entry.getSize() >= 0 && entry.getSize() != bytes) {
        throw new TorchFormatException(where + ": its storage " + Names.shown(entryName) + " declares "
            + entry.getSize() + " bytes; the pickle says " + s.numel() + " elements of " + s.dtype().bytes + " bytes");
      }
      raw = entryBytes(shown, zip, entry, bytes);
      if (raw.length < bytes) {
        throw new TorchFormatException(where + ": its storage holds " + raw.length / s.dtype().bytes
            + " elements, the pickle says " + s.numel());
      }
      budget.storageBytes += raw.length;
      storages.put(entryName, raw);
    } else if (raw.length < bytes) {
      throw new TorchFormatException(where + ": its storage holds " + raw.length / s.dtype().bytes
          + " elements, the pickle says " + s.numel());
    }
    ByteBuffer buf = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) count;
    float[] floats = s.dtype() == TorchTensor.DType.FLOAT32 ? new float[n] : null;
    long[] longs = floats == null ? new long[n] : null;
    int[] idx = new int[shape.length];
    for (int i = 0; i < n; i++) {
      long at = t.offset();
      for (int d = 0; d < shape.length; d++) {
        at += (long) idx[d] * t.stride()[d];
      }
      if (floats != null) {
        floats[i] = buf.getFloat((int) at * 4);
      } else {
        longs[i] = buf.getLong((int) at * 8);
      }
      for (int d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    return new TorchTensor(s.dtype(), shape, floats, longs);
  }
}
