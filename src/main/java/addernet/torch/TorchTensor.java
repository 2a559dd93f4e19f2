package addernet.torch;

import java.util.Arrays;

/**
 * One tensor of a state_dict, contiguous in PyTorch's row-major order: float32 values in {@code
 * floats}, or 64-bit integers in {@code longs} (batch norm's {@code num_batches_tracked}).
 */
public record TorchTensor(DType dtype, int[] shape, float[] floats, long[] longs) {
  /** The storage element types a state_dict may hold, by the name of their legacy storage class. */
  public enum DType {
    FLOAT32("FloatStorage", 4),
    FLOAT64("DoubleStorage", 8),
    FLOAT16("HalfStorage", 2),
    BFLOAT16("BFloat16Storage", 2),
    INT64("LongStorage", 8),
    INT32("IntStorage", 4),
    INT16("ShortStorage", 2),
    INT8("CharStorage", 1),
    UINT8("ByteStorage", 1),
    BOOL("BoolStorage", 1);

    final String storageClass;
    final int bytes;

    DType(String storageClass, int bytes) {
      this.storageClass = storageClass;
      this.bytes = bytes;
    }

    static DType ofStorageClass(String name) {
      for (DType d : values()) {
        if (d.storageClass.equals(name)) {
          return d;
        }
      }
      return null;
    }

    /** As PyTorch prints it, e.g. torch.float32. */
    public String torchName() {
      return "torch." + name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static TorchTensor ofFloats(int[] shape, float[] values) {
    return new TorchTensor(DType.FLOAT32, shape, values, null);
  }

  public static TorchTensor scalarLong(long value) {
    return new TorchTensor(DType.INT64, new int[0], null, new long[] {value});
  }

  public long count() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** The shape as PyTorch prints it, e.g. [6, 1, 5, 5]. */
  public String shapeText() {
    return Arrays.toString(shape);
  }
}
