package addernet.export;

import addernet.io.StrictJson;
import addernet.quant.Requant;
import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;

/**
 * A layer's requantizer as the manifest describes it (contract section 7): the shift, the clamp
 * the next layer fixes, the power-of-two terms of every channel and the 64-bit bound on the sum.
 */
final class PackageRequant {
  private static final BigInteger BOUND = BigInteger.ONE.shiftLeft(62);

  private PackageRequant() {}

  static Requant read(StrictJson<PackageException> json, JsonNode r, String f, int channels, boolean last,
      int outBits) {
    // Contract section 7: after ReLU the clamp is the next layer's non-negative data range; the
    // last layer's is the whole logit range. Neither is a free choice.
    String why = last ? " (the " + outBits + "-bit logit range)" : " (ReLU into the next layer's " + outBits + "-bit data)";
    return read(json, r, f, channels, last, outBits, why);
  }

  /** A requantizer clamped to signed or non-negative {@code outBits}-bit data, {@code why} saying why. */
  static Requant read(StrictJson<PackageException> json, JsonNode r, String f, int channels, boolean signed,
      int outBits, String why) {
    int shift = json.integer(r, "shift", f + ".shift", 0, 62);
    int lo = signed ? (int) -(1L << (outBits - 1)) : 0;
    int hi = (int) ((1L << (outBits - 1)) - 1);
    json.integer(r, "lo", f + ".lo", lo, lo, why);
    json.integer(r, "hi", f + ".hi", hi, hi, why);
    JsonNode terms = json.array(r, "terms", f + ".terms");
    JsonNode bias = json.array(r, "bias", f + ".bias");
    if (terms.size() != channels) {
      throw json.bad(f + ".terms", "must hold one list per output channel (" + channels + "), got " + terms.size());
    }
    if (bias.size() != channels) {
      throw json.bad(f + ".bias", "must hold one integer per output channel (" + channels + "), got " + bias.size());
    }
    int[][] t = new int[channels][];
    long[] b = new long[channels];
    int most = 0;
    for (int c = 0; c < channels; c++) {
      JsonNode tc = terms.get(c);
      String fc = f + ".terms[" + c + "]";
      if (!tc.isArray()) {
        throw json.bad(fc, "must be a list of integers, got " + StrictJson.shown(tc));
      }
      t[c] = new int[tc.size()];
      for (int j = 0; j < tc.size(); j++) {
        JsonNode d = tc.get(j);
        String fj = fc + "[" + j + "]";
        if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() == 0
            || Math.abs(d.intValue()) - 1 > Requant.MAX_EXPONENT) {
          throw json.bad(fj, "must be a non-zero integer in +-1..+-" + (Requant.MAX_EXPONENT + 1) + ", got "
              + StrictJson.shown(d));
        }
        t[c][j] = d.intValue();
        if (j > 0 && Math.abs(t[c][j]) >= Math.abs(t[c][j - 1])) {
          throw json.bad(fj, Math.abs(t[c][j]) == Math.abs(t[c][j - 1])
              ? "repeats the power of two of " + fc + "[" + (j - 1) + "] (each power at most once per channel), got " + t[c][j]
              : "must be a smaller power of two than " + fc + "[" + (j - 1) + "] = " + t[c][j - 1]
                  + " (most significant first), got " + t[c][j]);
        }
      }
      most = Math.max(most, t[c].length);
      JsonNode bc = bias.get(c);
      if (!bc.isIntegralNumber() || !bc.canConvertToLong()) {
        throw json.bad(f + ".bias[" + c + "]", "must be a 64-bit integer, got " + StrictJson.shown(bc));
      }
      b[c] = bc.longValue();
    }
    json.integer(r, "max_terms", f + ".max_terms", most, most, " (the most terms of any channel)");
    return new Requant(shift, t, b, lo, hi);
  }

  /**
   * Contract section 7: |v| <= D 2^(A + e_max) + |bias| must stay below 2^62. Computed exactly
   * (a bias may be any long, and 2^(A + e_max) alone can pass 2^63).
   */
  static void checkBound(Requant r, int accBits, String f) throws PackageException {
    for (int c = 0; c < r.channels(); c++) {
      int emax = 0;
      for (int t : r.terms()[c]) {
        emax = Math.max(emax, Math.abs(t) - 1);
      }
      BigInteger abs = BigInteger.valueOf(r.bias()[c]).abs();
      BigInteger reach = BigInteger.valueOf(r.terms()[c].length).shiftLeft(accBits + emax).add(abs);
      if (reach.compareTo(BOUND) >= 0) {
        String field = abs.compareTo(BOUND) >= 0 ? f + ".bias[" + c + "]" : f + ".terms[" + c + "]";
        throw new PackageException(ModelPackage.MANIFEST + ": " + field + ": the requantized sum can reach "
            + r.terms()[c].length + " * 2^" + (accBits + emax) + " + |" + r.bias()[c] + "| = " + reach
            + "; the contract's 64-bit bound (section 7) needs it below 2^62");
      }
    }
  }
}
