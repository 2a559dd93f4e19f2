package addernet.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's ceiling for the two inner operations of the weighted layers, measured in process
 * on data that stays in L1: the adder's accumulate of |x - w| (a subtract, an abs, which is an
 * and-not of the sign bit, and an add per 8 lanes with 256-bit vectors) and the fused
 * multiply-add of the products. Each loop keeps 12 independent sums, more than the adds' latency
 * times their throughput, so it runs at the rate of the execution ports alone; the weighted-layer
 * kernels' rates in a profile are read against these. Vector kernels only ({@link
 * Operation#VECTOR}).
 */
public final class KernelPeak {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
  private static final int L = S.length();
  private static final int ROWS = 64;

  /** Lane operations per second on all the workers' threads at once, best of a few tries. */
  public record Peak(double adderPerSecond, double fmaPerSecond, int threads) {}

  private KernelPeak() {}

  /** About {@code seconds} per operation, split into tries. */
  public static Peak measure(Workers workers, double seconds) {
    int threads = workers.threads();
    double adder = best(workers, true, seconds);
    double fma = best(workers, false, seconds);
    return new Peak(adder, fma, threads);
  }

  private static double best(Workers workers, boolean adder, double seconds) {
    int threads = workers.threads();
    // Tries start at one pass over the rows, so the loop is compiled before the tries that
    // count, and double until a try takes a twentieth of the time; at least 3 such tries.
    long reps = 1;
    double best = 0;
    int full = 0;
    long end = System.nanoTime() + (long) (seconds * 1e9);
    float[] sink = new float[threads * L];
    while (full < 3 || System.nanoTime() < end) {
      long rr = reps;
      long t0 = System.nanoTime();
      workers.forRange(threads, 1, Long.MAX_VALUE, (from, to) -> {
        for (int t = from; t < to; t++) {
          float s = adder ? adderLoop(rr) : fmaLoop(rr);
          sink[t * L] = s;
        }
      });
      double dt = (System.nanoTime() - t0) / 1e9;
      if (dt < seconds / 20) {
        reps *= 2;
      } else {
        full++;
        best = Math.max(best, (double) threads * rr * ROWS * 12 * L / dt);
      }
    }
    if (Float.isNaN(sink[0])) {
      throw new IllegalStateException("peak loop produced NaN");
    }
    return best;
  }

  private static float[] rows() {
    float[] c = new float[ROWS * 2 * L];
    for (int i = 0; i < c.length; i++) {
      c[i] = (i % 7) * 0.25f;
    }
    return c;
  }

  private static float[] weights() {
    float[] w = new float[ROWS * 6];
    for (int i = 0; i < w.length; i++) {
      w[i] = (i % 5) * 0.5f - 1f;
    }
    return w;
  }

  /** sum |c - w| over 2 column vectors x 6 weights per row, 12 sums. */
  private static float adderLoop(long reps) {
    float[] c = rows();
    float[] w = weights();
    FloatVector z = FloatVector.zero(S);
    FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
    FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
    for (long r = 0; r < reps; r++) {
      for (int k = 0; k < ROWS; k++) {
        FloatVector cv = FloatVector.fromArray(S, c, k * 2 * L);
        FloatVector dv = FloatVector.fromArray(S, c, k * 2 * L + L);
        int q = k * 6;
        a0 = a0.add(cv.sub(w[q]).abs());
        a1 = a1.add(cv.sub(w[q + 1]).abs());
        a2 = a2.add(cv.sub(w[q + 2]).abs());
        a3 = a3.add(cv.sub(w[q + 3]).abs());
        a4 = a4.add(cv.sub(w[q + 4]).abs());
        a5 = a5.add(cv.sub(w[q + 5]).abs());
        b0 = b0.add(dv.sub(w[q]).abs());
        b1 = b1.add(dv.sub(w[q + 1]).abs());
        b2 = b2.add(dv.sub(w[q + 2]).abs());
        b3 = b3.add(dv.sub(w[q + 3]).abs());
        b4 = b4.add(dv.sub(w[q + 4]).abs());
        b5 = b5.add(dv.sub(w[q + 5]).abs());
      }
    }
    return a0.add(a1).add(a2).add(a3).add(a4).add(a5)
        .add(b0.add(b1).add(b2).add(b3).add(b4).add(b5)).lane(0);
  }

  /** sum c * w over the same shape, as fused multiply-adds. */
  private static float fmaLoop(long reps) {
    float[] c = rows();
    float[] w = weights();
    FloatVector z = FloatVector.zero(S);
    FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
    FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
    for (long r = 0; r < reps; r++) {
      for (int k = 0; k < ROWS; k++) {
        FloatVector cv = FloatVector.fromArray(S, c, k * 2 * L);
        FloatVector dv = FloatVector.fromArray(S, c, k * 2 * L + L);
        int q = k * 6;
        FloatVector w0 = FloatVector.broadcast(S, w[q]);
        FloatVector w1 = FloatVector.broadcast(S, w[q + 1]);
        FloatVector w2 = FloatVector.broadcast(S, w[q + 2]);
        FloatVector w3 = FloatVector.broadcast(S, w[q + 3]);
        FloatVector w4 = FloatVector.broadcast(S, w[q + 4]);
        FloatVector w5 = FloatVector.broadcast(S, w[q + 5]);
        a0 = cv.fma(w0, a0);
        a1 = cv.fma(w1, a1);
        a2 = cv.fma(w2, a2);
        a3 = cv.fma(w3, a3);
        a4 = cv.fma(w4, a4);
        a5 = cv.fma(w5, a5);
        b0 = dv.fma(w0, b0);
        b1 = dv.fma(w1, b1);
        b2 = dv.fma(w2, b2);
        b3 = dv.fma(w3, b3);
        b4 = dv.fma(w4, b4);
        b5 = dv.fma(w5, b5);
      }
    }
    return a0.add(a1).add(a2).add(a3).add(a4).add(a5)
        .add(b0.add(b1).add(b2).add(b3).add(b4).add(b5)).lane(0);
  }
}
