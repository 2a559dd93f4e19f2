package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.quant.PeOp;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random networks, shapes and widths: the reference's accumulators never leave the width the
 * contract's section 3 gives them, and the requantization sum never leaves 64 bits (section 7).
 */
class AccumulatorBoundPropertyTest {
  private record Built(IntNetwork net, List<Integer> bits) {}

  /** A random chain of adder layers; weights and requantization drawn over their whole ranges. */
  private static Built randomNetwork(SplittableRandom rnd, boolean extreme) {
    int c = rnd.nextInt(1, 4);
    int h = rnd.nextInt(4, 13);
    int w = rnd.nextInt(4, 13);
    int inC = c;
    int inH = h;
    int inW = w;
    int layersWanted = rnd.nextInt(1, 4);
    List<IntLayer> layers = new ArrayList<>();
    List<Integer> bitsList = new ArrayList<>();
    int[] bits = new int[layersWanted];
    for (int i = 0; i < layersWanted; i++) {
      bits[i] = rnd.nextInt(4, 17);
    }
    for (int i = 0; i < layersWanted; i++) {
      boolean last = i == layersWanted - 1;
      boolean fc = last || Math.min(h, w) < 3 || rnd.nextInt(4) == 0;
      int k;
      int stride = 1;
      int pad = 0;
      if (fc) {
        if (h != w) {
          // Make the input square for a fully-connected layer by a conv that squares it up.
          fc = false;
        }
      }
      int out = rnd.nextInt(1, 9);
      int b = bits[i];
      if (fc) {
        k = h;
      } else {
        k = rnd.nextInt(1, Math.min(h, w) + 1);
        if (h != w && last) {
          k = Math.min(h, w);
        }
        stride = rnd.nextInt(1, 3);
        pad = rnd.nextInt(0, Math.max(1, k / 2 + 1));
      }
      long lo = -(1L << (b - 1));
      long hiV = (1L << (b - 1)) - 1;
      int[] weights = new int[out * c * k * k];
      for (int j = 0; j < weights.length; j++) {
        // Worst case: the most negative weight against the largest activation.
        weights[j] = extreme ? (int) lo : (int) rnd.nextLong(lo, hiV + 1);
      }
      int outBits = last ? 16 : bits[i + 1];
      int qlo = last ? -(1 << 15) : 0;
      int qhi = (1 << (outBits - 1)) - 1;
      double[] a = new double[out];
      double[] bb = new double[out];
      for (int t = 0; t < out; t++) {
        a[t] = (rnd.nextBoolean() ? 1 : -1) * Math.pow(2, rnd.nextDouble(-12, 2));
        bb[t] = rnd.nextDouble(-1e4, 1e4);
      }
      Requant rq = Requant.fromAffine(a, bb, rnd.nextInt(4, 20), rnd.nextInt(1, 9), qlo, qhi);
      IntLayer l = new IntLayer("l" + i, fc, c, h, w, out, k, stride, pad, b, weights, rq,
          !fc && !last && rnd.nextBoolean()
              && IntLayer.convHeight(h, k, stride, pad) >= 2 && IntLayer.convHeight(w, k, stride, pad) >= 2);
      layers.add(l);
      bitsList.add(b);
      c = l.outChannels();
      h = l.outHeight();
      w = l.outWidth();
      if (!last && (h < 1 || w < 1)) {
        break;
      }
    }
    return new Built(new IntNetwork("random", inC, inH, inW, layers, 16), bitsList);
  }

  @Test
  void referenceNeverExceedsTheContractAccumulatorOnRandomNetworks() {
    SplittableRandom rnd = new SplittableRandom(2024);
    int checkedOutputs = 0;
    int tightCases = 0;
    for (int n = 0; n < 300; n++) {
      boolean extreme = n % 3 == 0;
      Built b = randomNetwork(rnd, extreme);
      IntNetwork net = b.net();
      int[] pixels = new int[net.inChannels() * net.inHeight() * net.inWidth()];
      for (int i = 0; i < pixels.length; i++) {
        pixels[i] = extreme ? 255 : rnd.nextInt(256);
      }
      int[] x = net.trace(pixels).get(0);
      for (int i = 0; i < net.layers().size(); i++) {
        IntLayer l = net.layers().get(i);
        int accBits = net.accBits(i);
        assertEquals(PeOp.ADDER.accumulatorBits(l.dataBits(), l.k()), accBits);
        long min = -(1L << (accBits - 1));
        long[] seen = {0, Long.MAX_VALUE};
        int layer = i;
        int[] out = IntNetwork.forward(l, x, (t, acc) -> {
          assertTrue(acc <= 0 && acc >= min,
              "network " + net.layers() .size() + " layers, layer " + layer + ": acc " + acc
                  + " outside " + accBits + "-bit range");
          // Section 7: the exact requantization sum must fit the 64-bit arithmetic it is done in.
          BigInteger v = BigInteger.valueOf(l.requant().bias()[t]);
          for (int d : l.requant().terms()[t]) {
            BigInteger sh = BigInteger.valueOf(acc).shiftLeft(Math.abs(d) - 1);
            v = d > 0 ? v.add(sh) : v.subtract(sh);
          }
          assertTrue(v.bitLength() < 63, "requantization sum " + v + " leaves 64 bits");
          seen[1] = Math.min(seen[1], acc);
        });
        checkedOutputs += out.length;
        // With the worst-case operands and no padding the bound is reached exactly.
        if (extreme && l.padding() == 0 && layer == 0 && l.dataBits() <= 9) {
          assertTrue(-(long) l.k() * ((1L << l.dataBits()) - 1) >= min);
          if (seen[1] == -(long) l.k() * ((1L << (l.dataBits() - 1)) - 1 + (1L << (l.dataBits() - 1)))) {
            tightCases++;
          }
        }
        x = out;
      }
    }
    assertTrue(checkedOutputs > 10_000, "only " + checkedOutputs + " outputs checked");
    assertTrue(tightCases > 0, "no case reached the bound; the property would be vacuous");
  }

  @Test
  void oneBitNarrowerThanTheBoundOverflowsAtTheWorstCase() {
    for (int b = 4; b <= 16; b++) {
      for (int k : new int[] {1, 25, 150, 400, 1024}) {
        int a = PeOp.ADDER.accumulatorBits(b, k);
        long worst = -(long) k * ((1L << b) - 1);
        assertTrue(worst >= -(1L << (a - 1)), "B=" + b + " K=" + k);
        assertTrue(worst < -(1L << (a - 2)), "B=" + b + " K=" + k + ": " + (a - 1) + " bits would do");
      }
    }
  }
}
