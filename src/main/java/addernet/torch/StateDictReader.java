package addernet.torch;

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
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

/**
 * Reads a {@code state_dict} written by {@code torch.save} (docs/torch.md): a zip holding {@code
 * <root>/data.pkl}, a pickle of an ordered dict from names to tensors, and each tensor's storage as
 * raw little-endian bytes under {@code <root>/data/<key>}, which the pickle names by persistent id.
 *
 * <p>A pickle is a program for a small stack machine whose "global" instruction names any Python
 * callable. Pyrolite never runs Python, but it would build a generic object for any name; this
 * reader resolves names itself and refuses every one but the few a state_dict needs, so that a
 * file holding anything else (a whole pickled model, arbitrary objects) is rejected by name.
 */
public final class StateDictReader {
  private StateDictReader() {}

  /** The tensors in the file's order. */
  public static LinkedHashMap<String, TorchTensor> read(Path file) {
    byte[] head = new byte[4];
    try (InputStream in = Files.newInputStream(file)) {
      int n = in.readNBytes(head, 0, 4);
      if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] <= 5) {
        throw new TorchFormatException(file + ": a pickle without the zip around it (PyTorch's legacy format,"
            + " before 1.6); save it again with torch.save(model.state_dict(), FILE) from PyTorch 1.6 or later");
      }
      if (n < 4 || head[0] != 'P' || head[1] != 'K') {
        throw new TorchFormatException(file + ": not a PyTorch file (torch.save writes a zip archive;"
            + " this one does not start like a zip)");
      }
    } catch (NoSuchFileException e) {
      throw new TorchFormatException(file + ": no such file");
    } catch (IOException e) {
      throw new TorchFormatException(file + ": cannot read: " + e.getMessage(), e);
    }
    try (ZipFile zip = new ZipFile(file.toFile())) {
      String root = root(file, zip);
      ZipEntry order = zip.getEntry(root + "/byteorder");
      if (order != null) {
        String s = new String(zip.getInputStream(order).readAllBytes(), StandardCharsets.US_ASCII).strip();
        if (!s.equals("little")) {
          throw new TorchFormatException(file + ": storages are '" + s + "'-endian; only little-endian files"
              + " (as written on x86 and ARM) are read");
        }
      }
      Object top;
      try (InputStream pkl = zip.getInputStream(zip.getEntry(root + "/data.pkl"))) {
        top = new SafeUnpickler(file).load(pkl);
      } catch (PickleException | ClassCastException | IndexOutOfBoundsException | NullPointerException e) {
        throw new TorchFormatException(file + ": " + root + "/data.pkl is not a state_dict pickle: " + e.getMessage(), e);
      }
      if (!(top instanceof Map<?, ?> map)) {
        throw new TorchFormatException(file + ": holds " + describe(top) + ", not a state_dict (an ordered dict"
            + " of tensors); save it with torch.save(model.state_dict(), FILE)");
      }
      LinkedHashMap<String, TorchTensor> out = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new TorchFormatException(file + ": state_dict key " + e.getKey() + " is not a string");
        }
        if (!(e.getValue() instanceof TensorRef t)) {
          throw new TorchFormatException(file + ": state_dict entry '" + key + "' holds " + describe(e.getValue())
              + ", not a tensor");
        }
        out.put(key, materialize(file, zip, root, key, t));
      }
      return out;
    } catch (ZipException e) {
      throw new TorchFormatException(file + ": not a readable zip archive (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw new TorchFormatException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static String root(Path file, ZipFile zip) {
    List<String> roots = new ArrayList<>();
    for (ZipEntry e : Collections.list(zip.entries())) {
      String n = e.getName();
      int slash = n.indexOf('/');
      if (slash > 0 && n.substring(slash).equals("/data.pkl")) {
        roots.add(n.substring(0, slash));
      }
    }
    if (roots.size() != 1) {
      throw new TorchFormatException(file + ": a zip, but " + (roots.isEmpty() ? "without" : "with more than one")
          + " <folder>/data.pkl; torch.save writes exactly one");
    }
    return roots.get(0);
  }

  private static String describe(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof Map<?, ?>) {
      return "a dict";
    }
    if (o instanceof Object[] || o instanceof List<?>) {
      return "a tuple or list";
    }
    if (o instanceof String s) {
      return "the string '" + s + "'";
    }
    return "a " + o.getClass().getSimpleName() + " value";
  }

  private static TorchTensor materialize(Path file, ZipFile zip, String root, String key, TensorRef t)
      throws IOException {
    String where = file + ": state_dict entry '" + key + "'";
    int[] shape = t.shape();
    long count = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new TorchFormatException(where + ": negative size in shape " + java.util.Arrays.toString(shape));
      }
      count *= d;
      if (count > Integer.MAX_VALUE / 8) {
        throw new TorchFormatException(where + ": " + count + "+ elements, too large for this reader");
      }
    }
    StorageRef s = t.storage();
    if (s.dtype() != TorchTensor.DType.FLOAT32 && s.dtype() != TorchTensor.DType.INT64) {
      // Only float32 and int64 are ever used; the matcher names the dtype of anything else.
      return new TorchTensor(s.dtype(), shape, null, null);
    }
    ZipEntry entry = zip.getEntry(root + "/data/" + s.key());
    if (entry == null) {
      throw new TorchFormatException(where + ": its storage " + root + "/data/" + s.key() + " is missing from the zip");
    }
    byte[] raw;
    try (InputStream in = zip.getInputStream(entry)) {
      raw = in.readNBytes((int) Math.min((long) s.numel() * s.dtype().bytes, Integer.MAX_VALUE - 16));
    }
    long elements = raw.length / s.dtype().bytes;
    if (elements < s.numel()) {
      throw new TorchFormatException(where + ": its storage holds " + elements + " elements, the pickle says "
          + s.numel());
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
      if (at < 0 || at >= s.numel()) {
        throw new TorchFormatException(where + ": its shape and strides reach outside its storage");
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

  /** What the pickle's persistent id names: one storage of the zip. */
  record StorageRef(TorchTensor.DType dtype, String key, long numel) {}

  /** A tensor as the pickle describes it: a view into a storage. */
  record TensorRef(StorageRef storage, long offset, int[] shape, long[] stride) {}

  /** A storage class named by the pickle (torch.FloatStorage, ...); it is never called. */
  record StorageType(TorchTensor.DType dtype) {}

  /** The dict that collections.OrderedDict builds; the state it is given (_metadata) is dropped. */
  public static final class OrderedDict extends LinkedHashMap<Object, Object> {
    // Called by Pyrolite's BUILD instruction: a state_dict carries its modules' versions there.
    public void __setstate__(HashMap<?, ?> state) {}
  }

  private static final class SafeUnpickler extends Unpickler {
    private final Path file;

    SafeUnpickler(Path file) {
      this.file = file;
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
      switch (key) {
        case Opcodes.GLOBAL -> {
          String module = PickleUtils.readline(input);
          String name = PickleUtils.readline(input);
          stack.add(resolve(module, name));
          return NO_RETURN_VALUE;
        }
        case Opcodes.STACK_GLOBAL -> {
          Object name = stack.pop();
          Object module = stack.pop();
          stack.add(resolve(String.valueOf(module), String.valueOf(name)));
          return NO_RETURN_VALUE;
        }
        case Opcodes.SETITEMS -> {
          // Pyrolite gathers the pairs in a HashMap first; a state_dict's order is its layer order.
          List<Object> items = stack.pop_all_since_marker();
          @SuppressWarnings("unchecked")
          Map<Object, Object> dict = (Map<Object, Object>) stack.peek();
          for (int i = 0; i + 1 < items.size(); i += 2) {
            dict.put(items.get(i), items.get(i + 1));
          }
          return NO_RETURN_VALUE;
        }
        case Opcodes.INST, Opcodes.OBJ, Opcodes.NEWOBJ, Opcodes.NEWOBJ_EX, Opcodes.EXT1, Opcodes.EXT2,
            Opcodes.EXT4 -> throw new TorchFormatException(file + ": its pickle builds objects of a class"
                + " (opcode 0x" + Integer.toHexString(key & 0xff) + "); a state_dict holds only tensors and ordered"
                + " dicts, so it is refused without being run. Save torch.save(model.state_dict(), FILE)");
        default -> {
          return super.dispatch(key);
        }
      }
    }

    private Object resolve(String module, String name) {
      String full = module + "." + name;
      switch (full) {
        case "collections.OrderedDict":
          return (IObjectConstructor) args -> new OrderedDict();
        case "torch._utils._rebuild_tensor_v2":
        case "torch._utils._rebuild_tensor":
          return (IObjectConstructor) StateDictReader::rebuildTensor;
        case "torch._utils._rebuild_parameter":
          return (IObjectConstructor) args -> {
            if (args.length < 1 || !(args[0] instanceof TensorRef t)) {
              throw new PickleException("_rebuild_parameter without a tensor");
            }
            return t;
          };
        default:
          if (module.equals("torch")) {
            TorchTensor.DType d = TorchTensor.DType.ofStorageClass(name);
            if (d != null) {
              return new StorageType(d);
            }
          }
          throw new TorchFormatException(file + ": its pickle names " + full + "; a state_dict holds only tensors"
              + " and ordered dicts, so it is refused without being run (a whole pickled model is refused too:"
              + " save torch.save(model.state_dict(), FILE))");
      }
    }

    @Override
    protected Object persistentLoad(Object pid) {
      if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])
          || !(t[1] instanceof StorageType type) || !(t[4] instanceof Number numel)) {
        throw new PickleException("a persistent id that is not a storage ('storage', type, key, device, size)");
      }
      return new StorageRef(type.dtype(), String.valueOf(t[2]), numel.longValue());
    }
  }

  private static Object rebuildTensor(Object[] args) {
    if (args.length < 4 || !(args[0] instanceof StorageRef s) || !(args[1] instanceof Number offset)
        || !(args[2] instanceof Object[] size) || !(args[3] instanceof Object[] stride) || size.length != stride.length) {
      throw new PickleException("a tensor rebuilt from something other than (storage, offset, size, stride)");
    }
    int[] shape = new int[size.length];
    long[] strides = new long[size.length];
    for (int i = 0; i < size.length; i++) {
      long d = ((Number) size[i]).longValue();
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw new PickleException("tensor size " + d + " out of range");
      }
      shape[i] = (int) d;
      strides[i] = ((Number) stride[i]).longValue();
    }
    return new TensorRef(s, offset.longValue(), shape, strides);
  }
}
