package addernet.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import net.razorvine.pickle.IObjectPickler;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.Pickler;

/**
 * Writes tensors as {@code torch.save(state_dict)} does (docs/torch.md): a zip with {@code
 * <root>/data.pkl} (an OrderedDict of tensors rebuilt by {@code torch._utils._rebuild_tensor_v2}),
 * one raw little-endian storage per tensor under {@code <root>/data/<index>}, and the {@code
 * version} and {@code byteorder} records. Only those globals appear, so the file also loads with
 * {@code torch.load(..., weights_only=True)}.
 */
public final class StateDictWriter {
  /** The zip's root folder; it also marks the file as written by addernet. */
  public static final String ROOT = "addernet_export";

  private StateDictWriter() {}

  public static void write(Path file, Map<String, TorchTensor> tensors) throws IOException {
    List<byte[]> storages = new ArrayList<>();
    List<Object> entries = new ArrayList<>();
    for (Map.Entry<String, TorchTensor> e : tensors.entrySet()) {
      TorchTensor t = e.getValue();
      String key = Integer.toString(storages.size());
      storages.add(bytes(t));
      entries.add(e.getKey());
      entries.add(new PickledTensor(t, key));
    }
    ByteArrayOutputStream pkl = new ByteArrayOutputStream();
    new TorchPickler().dump(new PickledDict(entries), pkl);
    try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
      // Stored, not deflated, as torch.save does: PyTorch maps storages straight out of the zip.
      zip.setMethod(ZipOutputStream.STORED);
      put(zip, ROOT + "/data.pkl", pkl.toByteArray());
      put(zip, ROOT + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
      for (int i = 0; i < storages.size(); i++) {
        put(zip, ROOT + "/data/" + i, storages.get(i));
      }
      put(zip, ROOT + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    }
  }

  private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
    ZipEntry e = new ZipEntry(name);
    CRC32 crc = new CRC32();
    crc.update(data);
    e.setSize(data.length);
    e.setCompressedSize(data.length);
    e.setCrc(crc.getValue());
    zip.putNextEntry(e);
    zip.write(data);
    zip.closeEntry();
  }

  private static byte[] bytes(TorchTensor t) {
    int n = (int) t.count();
    return switch (t.dtype()) {
      case FLOAT32 -> {
        ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(t.floats(), 0, n);
        yield b.array();
      }
      case INT64 -> {
        ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(t.longs(), 0, n);
        yield b.array();
      }
      default -> throw new IllegalArgumentException("only float32 and int64 tensors are written, not " + t.dtype());
    };
  }

  private record PickledDict(List<Object> keysAndValues) {}

  private record PickledTensor(TorchTensor tensor, String storageKey) {}

  private static final class TorchPickler extends Pickler {
    TorchPickler() {
      super(false);
    }

    @Override
    protected IObjectPickler getCustomPickler(Class<?> t) {
      if (t == PickledDict.class) {
        return (o, out, p) -> {
          emptyOrderedDict(out);
          out.write(Opcodes.MARK);
          for (Object x : ((PickledDict) o).keysAndValues()) {
            p.save(x);
          }
          out.write(Opcodes.SETITEMS);
        };
      }
      if (t == PickledTensor.class) {
        return (o, out, p) -> {
          PickledTensor pt = (PickledTensor) o;
          TorchTensor tt = pt.tensor();
          global(out, "torch._utils", "_rebuild_tensor_v2");
          out.write(Opcodes.MARK);
          // The storage, by persistent id: ('storage', torch.FloatStorage, key, 'cpu', numel).
          out.write(Opcodes.MARK);
          p.save("storage");
          global(out, "torch", tt.dtype().storageClass);
          p.save(pt.storageKey());
          p.save("cpu");
          p.save((int) tt.count());
          out.write(Opcodes.TUPLE);
          out.write(Opcodes.BINPERSID);
          p.save(0);
          int[] shape = tt.shape();
          Object[] size = new Object[shape.length];
          Object[] stride = new Object[shape.length];
          int s = 1;
          for (int i = shape.length - 1; i >= 0; i--) {
            size[i] = shape[i];
            stride[i] = s;
            s *= shape[i];
          }
          p.save(size);
          p.save(stride);
          p.save(false);
          emptyOrderedDict(out);
          out.write(Opcodes.TUPLE);
          out.write(Opcodes.REDUCE);
        };
      }
      return super.getCustomPickler(t);
    }

    private static void emptyOrderedDict(OutputStream out) throws IOException {
      global(out, "collections", "OrderedDict");
      out.write(Opcodes.EMPTY_TUPLE);
      out.write(Opcodes.REDUCE);
    }

    private static void global(OutputStream out, String module, String name) throws IOException {
      out.write(Opcodes.GLOBAL);
      out.write((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }
  }
}
