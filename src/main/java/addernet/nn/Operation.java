package addernet.nn;

/**
 * What a weighted layer does with an input value x and a weight w: the adder layer accumulates
 * -|x - w| (AdderNet), its CNN twin accumulates x * w. The only place the two differ.
 */
public enum Operation {
  ADDER("adder") {
    @Override
    void forward(float[] c, int k, int m, float[] w, int o, float[] y, Workers workers) {
      if (VECTOR) {
        VectorKernels.forward(true, c, k, m, w, o, y, workers);
        return;
      }
      PatchKernels.adderForward(c, k, m, w, o, y, workers);
    }

    @Override
    void patchGradient(
        float[] c, int k, int m, float[] w, int o, float[] g, float[] gc, Workers workers) {
      if (VECTOR) {
        VectorKernels.patchGradient(true, c, k, m, w, o, g, gc, workers);
        return;
      }
      PatchKernels.adderPatchGradient(c, k, m, w, o, g, gc, workers);
    }

    @Override
    void weightGradient(
        float[] c, int k, int m, float[] w, int o, float[] g, float[] gw, Workers workers) {
      if (VECTOR) {
        VectorKernels.weightGradient(true, c, k, m, w, o, g, gw, workers);
        return;
      }
      PatchKernels.weightGradient(PatchKernels.transposed(c, k, m, workers), k, m, g, o, gw, workers);
      PatchKernels.adderWeightCorrection(g, m, w, o, k, gw);
    }
  },
  MULTIPLY("multiply") {
    @Override
    void forward(float[] c, int k, int m, float[] w, int o, float[] y, Workers workers) {
      if (VECTOR) {
        VectorKernels.forward(false, c, k, m, w, o, y, workers);
        return;
      }
      PatchKernels.multiplyForward(c, k, m, w, o, y, workers);
    }

    @Override
    void patchGradient(
        float[] c, int k, int m, float[] w, int o, float[] g, float[] gc, Workers workers) {
      if (VECTOR) {
        VectorKernels.patchGradient(false, c, k, m, w, o, g, gc, workers);
        return;
      }
      PatchKernels.multiplyPatchGradient(c, k, m, w, o, g, gc, workers);
    }

    @Override
    void weightGradient(
        float[] c, int k, int m, float[] w, int o, float[] g, float[] gw, Workers workers) {
      if (VECTOR) {
        VectorKernels.weightGradient(false, c, k, m, w, o, g, gw, workers);
        return;
      }
      PatchKernels.weightGradient(PatchKernels.transposed(c, k, m, workers), k, m, g, o, gw, workers);
    }
  };

  /**
   * Whether the vector-API kernels run. They need {@code --add-modules jdk.incubator.vector}
   * (set by scripts/addernet and the tests); without it the plain loops give the same results,
   * more slowly. {@code -Daddernet.kernels=plain} forces the plain loops.
   */
  public static final boolean VECTOR =
      ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
          && !"plain".equals(System.getProperty("addernet.kernels"));

  private final String keyword;

  Operation(String keyword) {
    this.keyword = keyword;
  }

  /** The word used in spec files and checkpoints. */
  public String keyword() {
    return keyword;
  }

  public static Operation fromKeyword(String word) {
    for (Operation op : values()) {
      if (op.keyword.equals(word)) {
        return op;
      }
    }
    return null;
  }

  private boolean adder() {
    return this == ADDER;
  }

  /**
   * The three products on a block of {@code cols} columns, on the calling thread, vector kernels
   * only ({@link #VECTOR}): C and dC at [cOff + k * cs + j], Y and G at [yOff + o * ys + j], dW
   * at gw[gwOff + o * K + k]. See {@link VectorKernels}.
   */
  final void forwardColumns(
      float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] y, int yOff, int ys) {
    VectorKernels.forwardColumns(adder(), c, cOff, cs, k, cols, w, o, y, yOff, ys);
  }

  final void patchGradientColumns(
      float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] g, int gOff, int gs,
      float[] gc) {
    VectorKernels.patchGradientColumns(adder(), c, cOff, cs, k, cols, w, o, g, gOff, gs, gc);
  }

  final void weightGradientColumns(
      float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] g, int gOff, int gs,
      float[] gw, int gwOff) {
    VectorKernels.weightGradientColumns(adder(), c, cOff, cs, k, cols, w, o, g, gOff, gs, gw, gwOff);
  }

  /** Y (O x M) from patches C (K x M) and weights W (O x K). */
  abstract void forward(float[] c, int k, int m, float[] w, int o, float[] y, Workers workers);

  /** dL/dC (K x M) from dL/dY (O x M). */
  abstract void patchGradient(
      float[] c, int k, int m, float[] w, int o, float[] g, float[] gc, Workers workers);

  /** dL/dW (O x K) from dL/dY (O x M) and the patches C (K x M). */
  abstract void weightGradient(
      float[] c, int k, int m, float[] w, int o, float[] g, float[] gw, Workers workers);
}
