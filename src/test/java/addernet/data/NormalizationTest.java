package addernet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.CheckpointException;
import addernet.train.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NormalizationTest {
  @TempDir Path dir;

  @Test
  void onePairAppliesToEveryChannelAndOnePerChannelToItsOwn() {
    Normalization one = Normalization.parse("--normalize", "0.25,0.5");
    assertTrue(one.uniform());
    assertEquals((float) ((100 / 255.0 - 0.25) / 0.5), one.apply(2, 100));
    Normalization three = Normalization.parse("--normalize", "0.1, 0.2,0.3/0.5,0.25,2");
    assertFalse(three.uniform());
    assertEquals(3, three.pairs());
    assertEquals((float) ((255 / 255.0 - 0.2) / 0.25), three.apply(1, 255));
    assertEquals((float) ((0 - 0.3) / 2), three.apply(2, 0));
    assertThrows(IllegalStateException.class, three::mean, "a per-channel normalization has no single mean");
    // a list of one pair is the uniform normalization, not a second spelling of it
    assertEquals(one, Normalization.parse("--normalize", "0.25/0.5"));
  }

  @Test
  void refusesMalformedTextNamingTheOptionAndWhatWasExpected() {
    for (String bad : new String[] {"0.5", "0.5,0", "a,b", "0.1,0.2/0.3", "1/2/3", "0.5,-1", "NaN,1", "0.1,0.2/0.3,0"}) {
      UserError e = assertThrows(UserError.class, () -> Normalization.parse("--normalize", bad), bad);
      assertTrue(e.getMessage().startsWith("--normalize: "), e.getMessage());
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
  }

  @Test
  void channelStatisticsAreEachPlanesMeanAndStd() {
    SplittableRandom r = new SplittableRandom(3);
    int n = 5;
    byte[] px = new byte[n * 2 * 4 * 4];
    for (int i = 0; i < px.length; i++) {
      // plane 1 brighter than plane 0
      px[i] = (byte) ((i / 16) % 2 == 0 ? r.nextInt(100) : 100 + r.nextInt(156));
    }
    ImageSet set = new ImageSet("t", n, 2, 4, 4, px, new byte[n]);
    Normalization s = set.channelStatistics();
    for (int c = 0; c < 2; c++) {
      double sum = 0;
      double sq = 0;
      for (int i = 0; i < n; i++) {
        for (int p = 0; p < 16; p++) {
          double v = (px[(i * 2 + c) * 16 + p] & 0xff) / 255.0;
          sum += v;
          sq += v * v;
        }
      }
      double mean = sum / (n * 16);
      assertEquals(mean, s.mean(c), 1e-12);
      assertEquals(Math.sqrt(sq / (n * 16) - mean * mean), s.std(c), 1e-12);
    }
    assertTrue(s.mean(1) > s.mean(0));
  }

  @Test
  void fillNormalizesEachPlaneThroughItsOwnPairAndPadsWithItsOwnZero() {
    byte[] px = new byte[2 * 2 * 2];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (30 * i);
    }
    ImageSet set = new ImageSet("t", 1, 2, 2, 2, px, new byte[1]);
    Normalization n = Normalization.parse("--normalize", "0.1,0.6/0.5,0.2");
    float[] out = new float[8];
    set.fill(new int[] {0}, 0, 1, n, Augmentation.NONE, null, out, new int[1]);
    for (int i = 0; i < 8; i++) {
      int c = i / 4;
      assertEquals((float) (((30 * i) / 255.0 - (c == 0 ? 0.1 : 0.6)) / (c == 0 ? 0.5 : 0.2)), out[i], "element " + i);
    }
    ImageSet grey = new ImageSet("g", 1, 1, 2, 2, new byte[4], new byte[1]);
    DataMismatchException e = assertThrows(DataMismatchException.class,
        () -> grey.fill(new int[] {0}, 0, 1, n, Augmentation.NONE, null, new float[4], new int[1]));
    assertTrue(e.getMessage().contains("2 per-channel pairs but the images have 1 channel"), e.getMessage());
  }

  @Test
  void aCheckpointKeepsPerChannelPairsAndRefusesAnArrayOfTheWrongLength() throws Exception {
    NetworkSpec spec = NetworkSpec.parse("rgb", "input 3x8x8\nconv multiply 3->2 kernel=3\nbatchnorm\nrelu\nflatten\nfc multiply 72->4\n");
    Normalization n = Normalization.parse("--normalize", "0.4,0.5,0.6/0.2,0.25,0.3");
    Path ck = dir.resolve("ck");
    new Checkpoint(Network.build(spec, 1), n, 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    assertEquals(n, Checkpoint.load(ck).normalization());
    Path json = ck.resolve(Checkpoint.MANIFEST);
    String text = Files.readString(json);
    Files.writeString(json, text.replaceFirst("\"std\" : \\[ [^\\]]*\\]", "\"std\" : [ 0.2, 0.25 ]"));
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(ck));
    assertTrue(e.getMessage().contains("input_normalization.std"), e.getMessage());
    assertTrue(e.getMessage().contains("one number per input channel (3), holds 2"), e.getMessage());
    Files.writeString(json, text.replaceFirst("\"std\" : \\[ [^\\]]*\\]", "\"std\" : 0.25"));
    e = assertThrows(CheckpointException.class, () -> Checkpoint.load(ck));
    assertTrue(e.getMessage().contains("input_normalization.std"), e.getMessage());
  }
}
