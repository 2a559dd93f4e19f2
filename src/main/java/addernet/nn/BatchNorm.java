package addernet.nn;

import java.util.Arrays;
import java.util.List;

/**
 * Batch norm per channel over batch and positions, as PyTorch's BatchNorm1d/2d: training
 * normalizes with the batch's biased variance and moves the running statistics by {@code
 * momentum} using the unbiased variance; eval uses the running statistics.
 *
 * <p>One departure: after {@link #restartRunningStatistics()} the next training batch sets the
 * running statistics outright instead of moving them from (0, 1). An adder layer's outputs are
 * sums of hundreds of negative distances, so from (0, 1) the running mean needs a few dozen steps
 * to come near them, and a short run (a smoke test of a few batches) evaluated at chance.
 */
public final class BatchNorm implements Layer {
  public static final float DEFAULT_EPS = 1e-5f;
  public static final float DEFAULT_MOMENTUM = 0.1f;

  private final Shape shape;
  private final float eps;
  private final float momentum;
  private final Param gamma;
  private final Param beta;
  private final float[] runningMean;
  private final float[] runningVar;

  private final float[] invStd;
  private float[] normalized = new float[0];
  private Tensor output;
  private Tensor inputGrad;
  private int trainedBatch;
  private boolean restartStatistics;

  public BatchNorm(String name, Shape shape) {
    this.shape = shape;
    this.eps = DEFAULT_EPS;
    this.momentum = DEFAULT_MOMENTUM;
    int c = shape.channels();
    float[] ones = new float[c];
    Arrays.fill(ones, 1f);
    this.gamma = new Param(name + ".gamma", ones, false);
    this.beta = new Param(name + ".beta", new float[c], false);
    this.runningMean = new float[c];
    this.runningVar = new float[c];
    Arrays.fill(runningVar, 1f);
    this.invStd = new float[c];
  }

  public int channels() {
    return shape.channels();
  }

  public float eps() {
    return eps;
  }

  public float momentum() {
    return momentum;
  }

  public Param gamma() {
    return gamma;
  }

  public Param beta() {
    return beta;
  }

  /** Live running mean, one per channel. */
  public float[] runningMean() {
    return runningMean;
  }

  /** Live running (unbiased) variance, one per channel. */
  public float[] runningVar() {
    return runningVar;
  }

  /** The next training batch's statistics become the running statistics (a fresh run's start). */
  public void restartRunningStatistics() {
    restartStatistics = true;
  }

  @Override
  public Shape inputShape() {
    return shape;
  }

  @Override
  public Shape outputShape() {
    return shape;
  }

  @Override
  public List<Param> params() {
    return List.of(gamma, beta);
  }

  @Override
  public String describe() {
    return "batchnorm";
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    return forward(input, mode, workers, false);
  }

  /**
   * This layer followed by a ReLU, in one pass: the normalized values go through max(0, .) on
   * their way out instead of being written, read and written again by the ReLU layer. Same bits
   * as the two layers one after the other. Its backward is {@link #backwardThroughRelu}.
   */
  Tensor forwardWithRelu(Tensor input, Mode mode, Workers workers) {
    return forward(input, mode, workers, true);
  }

  private Tensor forward(Tensor input, Mode mode, Workers workers, boolean relu) {
    int batch = input.batch();
    int per = batch * shape.height() * shape.width();
    if (output == null || !output.sameLayout(shape, batch)) {
      output = new Tensor(shape, batch);
    }
    float[] x = input.data();
    float[] y = output.data();
    float[] g = gamma.value();
    float[] b = beta.value();
    if (mode == Mode.EVAL) {
      workers.forRange(
          shape.channels(),
          1,
          x.length,
          (from, to) -> {
            for (int c = from; c < to; c++) {
              float scale = (float) (g[c] / Math.sqrt(runningVar[c] + (double) eps));
              float shift = b[c] - runningMean[c] * scale;
              int base = c * per;
              if (relu) {
                for (int i = base; i < base + per; i++) {
                  y[i] = Math.max(0f, x[i] * scale + shift);
                }
              } else {
                for (int i = base; i < base + per; i++) {
                  y[i] = x[i] * scale + shift;
                }
              }
            }
          });
      trainedBatch = 0;
      return output;
    }
    if (per < 2) {
      throw new IllegalArgumentException(
          "batch norm in training needs at least 2 values per channel, got " + per);
    }
    if (normalized.length < x.length) {
      normalized = new float[x.length];
    }
    float[] xh = normalized;
    boolean restart = restartStatistics;
    workers.forRange(
        shape.channels(),
        1,
        4L * x.length,
        (from, to) -> {
          for (int c = from; c < to; c++) {
            int base = c * per;
            double mean;
            double sq;
            if (Operation.VECTOR) {
              mean = VectorKernels.sum(x, base, base + per) / per;
              sq = VectorKernels.squaredDeviation(x, base, base + per, (float) mean);
            } else {
              double sum = 0;
              for (int i = base; i < base + per; i++) {
                sum += x[i];
              }
              mean = sum / per;
              sq = 0;
              for (int i = base; i < base + per; i++) {
                double d = x[i] - mean;
                sq += d * d;
              }
            }
            double var = sq / per;
            float is = (float) (1.0 / Math.sqrt(var + eps));
            float mf = (float) mean;
            invStd[c] = is;
            float gc = g[c];
            float bc = b[c];
            if (relu) {
              for (int i = base; i < base + per; i++) {
                float v = (x[i] - mf) * is;
                xh[i] = v;
                y[i] = Math.max(0f, gc * v + bc);
              }
            } else {
              for (int i = base; i < base + per; i++) {
                float v = (x[i] - mf) * is;
                xh[i] = v;
                y[i] = gc * v + bc;
              }
            }
            if (restart) {
              runningMean[c] = (float) mean;
              runningVar[c] = (float) (sq / (per - 1));
            } else {
              runningMean[c] = (float) ((1 - momentum) * runningMean[c] + momentum * mean);
              runningVar[c] =
                  (float) ((1 - momentum) * runningVar[c] + momentum * sq / (per - 1));
            }
          }
        });
    restartStatistics = false;
    trainedBatch = batch;
    return output;
  }

  @Override
  public Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    return backward(outputGradient, needInputGradient, workers, false);
  }

  /**
   * The backward of {@link #forwardWithRelu}: {@code outputGradient} is the gradient of the
   * ReLU's output, zeroed here where that output is not positive.
   */
  Tensor backwardThroughRelu(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    return backward(outputGradient, needInputGradient, workers, true);
  }

  private Tensor backward(
      Tensor outputGradient, boolean needInputGradient, Workers workers, boolean relu) {
    int batch = outputGradient.batch();
    if (trainedBatch != batch) {
      throw new IllegalStateException("batchnorm: backward without a matching TRAIN forward");
    }
    int per = batch * shape.height() * shape.width();
    if (inputGrad == null || !inputGrad.sameLayout(shape, batch)) {
      inputGrad = new Tensor(shape, batch);
    }
    float[] dy = outputGradient.data();
    float[] dx = inputGrad.data();
    float[] xh = normalized;
    float[] y = output.data();
    float[] g = gamma.value();
    float[] dg = gamma.grad();
    float[] db = beta.grad();
    workers.forRange(
        shape.channels(),
        1,
        3L * dy.length,
        (from, to) -> {
          for (int c = from; c < to; c++) {
            int base = c * per;
            double sg = 0;
            double sb = 0;
            if (Operation.VECTOR) {
              double[] sums = new double[2];
              VectorKernels.dotAndSum(dy, xh, relu ? y : null, base, base + per, sums);
              sg = sums[0];
              sb = sums[1];
            } else {
              for (int i = base; i < base + per; i++) {
                float d = !relu || y[i] > 0f ? dy[i] : 0f;
                sg += d * xh[i];
                sb += d;
              }
            }
            dg[c] = (float) sg;
            db[c] = (float) sb;
            if (needInputGradient) {
              float k = g[c] * invStd[c];
              float mb = (float) (sb / per);
              float mg = (float) (sg / per);
              if (Operation.VECTOR) {
                VectorKernels.batchNormInputGradient(
                    dy, xh, relu ? y : null, k, mb, mg, dx, base, base + per);
              } else if (relu) {
                for (int i = base; i < base + per; i++) {
                  float d = y[i] > 0f ? dy[i] : 0f;
                  dx[i] = k * (d - mb - xh[i] * mg);
                }
              } else {
                for (int i = base; i < base + per; i++) {
                  dx[i] = k * (dy[i] - mb - xh[i] * mg);
                }
              }
            }
          }
        });
    return needInputGradient ? inputGrad : null;
  }
}
