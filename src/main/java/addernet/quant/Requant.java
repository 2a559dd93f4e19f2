package addernet.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The requantization of one layer (numeric contract, section 7): per output channel, a sum of
 * signed shifted copies of the accumulator plus a bias, an arithmetic right shift and a clamp.
 * BN, ReLU and the next layer's scale are all folded into these integers.
 *
 * @param shift the right shift S, shared by all channels of the layer
 * @param terms per channel, its digits coded as {@code sign * (e + 1)} (so 0 is never a digit)
 * @param bias per channel, the rounding half 2^(S-1) included
 * @param lo lower clamp (0 after ReLU)
 * @param hi upper clamp
 */
public record Requant(int shift, int[][] terms, long[] bias, int lo, int hi) {
  /** Largest digit exponent accepted; with A <= 30 accumulator bits this keeps v within 2^62. */
  public static final int MAX_EXPONENT = 30;

  public Requant {
    if (shift < 0 || shift > 62) {
      throw new IllegalArgumentException("requant shift must be in 0..62, got " + shift);
    }
    if (terms.length != bias.length) {
      throw new IllegalArgumentException(
          "requant has " + terms.length + " channels of digits but " + bias.length + " biases");
    }
    if (lo > hi) {
      throw new IllegalArgumentException("requant clamp is empty: lo " + lo + " > hi " + hi);
    }
    for (int c = 0; c < terms.length; c++) {
      for (int t : terms[c]) {
        if (t == 0 || Math.abs(t) - 1 > MAX_EXPONENT) {
          throw new IllegalArgumentException(
              "requant digit " + t + " of channel " + c + " is outside +-1..+-" + (MAX_EXPONENT + 1));
        }
      }
    }
  }

  public int channels() {
    return bias.length;
  }

  /** The largest number of digits of any channel: the adders a requantization unit needs. */
  public int maxTerms() {
    return Arrays.stream(terms).mapToInt(t -> t.length).max().orElse(0);
  }

  /** Applies the contract's section 7 to one accumulator value of channel {@code c}. */
  public int apply(int c, long acc) {
    long v = bias[c];
    for (int t : terms[c]) {
      long shifted = acc << (Math.abs(t) - 1);
      v = t > 0 ? v + shifted : v - shifted;
    }
    long q = v >> shift;
    return (int) Math.max(lo, Math.min(hi, q));
  }

  /**
   * Folds per-channel affine maps {@code q = a[c] * acc + b[c]} into the integer form of section 7:
   * the shift S gives the largest |a| {@code precisionBits} significant bits, each a[c] * 2^S is
   * rounded to an integer, written in canonical signed digits (non-adjacent form) and cut to its
   * {@code maxTerms} most significant digits.
   */
  public static Requant fromAffine(
      double[] a, double[] b, int precisionBits, int maxTerms, int lo, int hi) {
    double amax = 0;
    for (double v : a) {
      if (!Double.isFinite(v)) {
        throw new IllegalArgumentException("requant multiplier is not finite: " + v);
      }
      amax = Math.max(amax, Math.abs(v));
    }
    int shift = 0;
    if (amax > 0) {
      int exp = Math.getExponent(amax); // floor(log2 amax)
      shift = Math.max(0, Math.min(MAX_EXPONENT, precisionBits - 1 - exp));
    }
    int[][] terms = new int[a.length][];
    long[] bias = new long[a.length];
    double scale = Math.scalb(1.0, shift);
    for (int c = 0; c < a.length; c++) {
      long m = Math.round(a[c] * scale);
      terms[c] = signedDigits(m, maxTerms);
      bias[c] = Math.round(b[c] * scale) + (shift > 0 ? 1L << (shift - 1) : 0);
    }
    return new Requant(shift, terms, bias, lo, hi);
  }

  /** The non-adjacent form of {@code m}, most significant digit first, cut to {@code max} digits. */
  static int[] signedDigits(long m, int max) {
    List<Integer> digits = new ArrayList<>();
    long v = Math.abs(m);
    int sign = m < 0 ? -1 : 1;
    for (int e = 0; v != 0; e++, v >>= 1) {
      if ((v & 1) != 0) {
        long d = 2 - (v & 3); // +1 or -1, so that the next digit is 0
        v -= d;
        if (e > MAX_EXPONENT) {
          throw new IllegalArgumentException("multiplier " + m + " needs a digit above 2^" + MAX_EXPONENT);
        }
        digits.add((int) (sign * d * (e + 1)));
      }
    }
    Collections.reverse(digits);
    return digits.subList(0, Math.min(max, digits.size())).stream().mapToInt(Integer::intValue).toArray();
  }

  /** The real multiplier the digits of channel {@code c} stand for, i.e. a_c (for reports). */
  public double multiplier(int c) {
    double m = 0;
    for (int t : terms[c]) {
      m += Math.signum(t) * Math.pow(2, Math.abs(t) - 1);
    }
    return m / Math.pow(2, shift);
  }
}
