package addernet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.DataMismatchException;
import addernet.data.ImageSet;
import addernet.nn.NetworkSpec;
import addernet.nn.Workers;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** 28 x 28 grey images meet a network that takes 1 x 32 x 32: they are zero-padded, centred. */
class PaddedInputTest {
  private static ImageSet grey(int n, int size, SplittableRandom r) {
    byte[] px = new byte[n * size * size];
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) r.nextInt(2);
      for (int p = 0; p < size * size; p++) {
        px[i * size * size + p] = (byte) (labels[i] == 1 ? 200 : r.nextInt(60));
      }
    }
    return new ImageSet("t", n, size, size, px, labels);
  }

  @Test
  void smallerGreyImagesArePaddedToTheNetworksInputAndTrain() throws Exception {
    NetworkSpec spec = NetworkSpec.parse("pad", "input 1x32x32\nconv multiply 1->2 kernel=4 stride=4\n"
        + "batchnorm\nrelu\navgpool\nflatten\nfc multiply 2->2\nbatchnorm");
    SplittableRandom r = new SplittableRandom(1);
    ImageSet train = grey(256, 28, r);
    ImageSet test = grey(32, 28, r);
    try (Workers w = new Workers(1)) {
      Trainer t = Trainer.start(spec, Recipe.defaults(1, 1), train, test, w);
      assertEquals(32, t.testImages().rows());
      assertEquals(0, t.testImages().pixels()[0]);
      assertEquals(test.pixels()[0], t.testImages().pixels()[2 * 32 + 2]);
      double[] eval = t.evaluate(test.padded(32));
      assertTrue(eval[1] >= 0 && eval[1] <= 1);
    }
  }

  @Test
  void largerImagesAreNotCroppedButRefused() {
    ImageSet big = grey(2, 36, new SplittableRandom(2));
    DataMismatchException e = assertThrows(DataMismatchException.class,
        () -> big.fitted("net", 1, 32, 32, 2));
    assertTrue(e.getMessage().contains("1x36x36") && e.getMessage().contains("1x32x32"), e.getMessage());
  }
}
