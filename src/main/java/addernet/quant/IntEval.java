package addernet.quant;

import addernet.data.ImageSet;
import addernet.nn.Workers;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/** Test-set accuracy of the integer reference: argmax of the integer logits, first index on ties. */
public final class IntEval {
  private IntEval() {}

  public static int[] pixels(ImageSet set, int index) {
    int plane = set.pixelsPerImage();
    int[] p = new int[plane];
    for (int i = 0; i < plane; i++) {
      p[i] = set.pixels()[index * plane + i] & 0xff;
    }
    return p;
  }

  public static int predict(IntNetwork net, int[] pixels) {
    return argmax(net.logits(pixels));
  }

  /** The class of the largest logit, the first on ties. */
  static int argmax(int[] logits) {
    int best = 0;
    for (int c = 1; c < logits.length; c++) {
      if (logits[c] > logits[best]) {
        best = c;
      }
    }
    return best;
  }

  /**
   * Every image's integer logits, {@code logits[i * K + c]}, and the accuracy (argmax as {@link
   * #predict}); {@code done} is told of each finished image.
   */
  public static double logits(IntNetwork net, ImageSet set, Workers workers, int[] logits, IntConsumer done) {
    int k = logits.length / Math.max(1, set.count());
    AtomicInteger correct = new AtomicInteger();
    workers.forRange(set.count(), 1, (from, to) -> {
      for (int i = from; i < to; i++) {
        int[] l = net.logits(pixels(set, i));
        System.arraycopy(l, 0, logits, i * k, k);
        if (argmax(l) == set.label(i)) {
          correct.incrementAndGet();
        }
        done.accept(i);
      }
    });
    return (double) correct.get() / set.count();
  }

  /** Accuracy on the whole set; {@code done} is told of each finished image (for progress bars). */
  public static double accuracy(IntNetwork net, ImageSet set, Workers workers, IntConsumer done) {
    AtomicInteger correct = new AtomicInteger();
    // Images are independent and the reference is pure, so the parallel result is the serial one.
    workers.forRange(set.count(), 1, (from, to) -> {
      for (int i = from; i < to; i++) {
        if (predict(net, pixels(set, i)) == set.label(i)) {
          correct.incrementAndGet();
        }
        done.accept(i);
      }
    });
    return (double) correct.get() / set.count();
  }
}
