package addernet.gen;

import addernet.io.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A folder's weights read back from its per-column images {@code weights_colJ.mem}: as layers'
 * weights, for generating the folder again with another PE ({@link AcceleratorGenerator#twin}),
 * or as the weight stream that co-simulation and the testbenches send.
 */
public final class WeightImages {
  private WeightImages() {}

  /** The lines of every column's weight image, {@code weights_colJ.mem}. */
  private static List<List<String>> lines(Path rtlDir, AccelManifest m) {
    List<List<String>> words = new ArrayList<>();
    for (int j = 0; j < m.cols(); j++) {
      Path mem = rtlDir.resolve(m.memFiles().get(j));
      try {
        words.add(Files.readAllLines(mem));
      } catch (IOException e) {
        throw new UserError("cannot read " + mem + ": " + e.getMessage(), e);
      }
    }
    return words;
  }

  /**
   * Every layer's weights ([t][k]) back from the per-column ROM images: column j holds, layer
   * after layer, the weights of channels j, j + C, ... one K-long block each (GenerateAccelerator).
   */
  static int[][] weights(Path rtlDir, AccelManifest m) {
    int cols = m.cols();
    List<List<String>> words = lines(rtlDir, m);
    int bits = m.dataBits();
    int[][] out = new int[m.layers().size()][];
    int base = 0;
    for (int i = 0; i < m.layers().size(); i++) {
      AccelManifest.LayerShape l = m.layers().get(i);
      long kLong = (long) l.inC() * l.kernel() * l.kernel();
      if (l.inC() < 1 || l.kernel() < 1 || l.outC() < 1 || kLong * l.outC() > Integer.MAX_VALUE - 8) {
        throw new UserError(rtlDir.resolve(AcceleratorGenerator.CONFIG_FILE) + ": field layers[" + i + "] has "
            + l.outC() + " channels of " + l.inC() + " x " + l.kernel() + " x " + l.kernel()
            + " weights, not a layer this generator writes");
      }
      int k = (int) kLong;
      int blocks = (l.outC() + cols - 1) / cols;
      out[i] = new int[l.outC() * k];
      for (int t = 0; t < l.outC(); t++) {
        List<String> col = words.get(t % cols);
        for (int q = 0; q < k; q++) {
          int line = base + (t / cols) * k + q;
          if (line >= col.size()) {
            throw new UserError(rtlDir.resolve(m.memFiles().get(t % cols)) + " has " + col.size()
                + " words, " + l.name() + " needs word " + line);
          }
          long w;
          try {
            w = Long.parseLong(col.get(line).strip(), 16);
          } catch (NumberFormatException e) {
            throw new UserError(rtlDir.resolve(m.memFiles().get(t % cols)) + " line " + (line + 1)
                + ": expected a hex weight, got \"" + col.get(line).strip() + "\"");
          }
          out[i][t * k + q] = (int) (w << (64 - bits) >> (64 - bits)); // sign-extend
        }
      }
      base += blocks * k;
    }
    return out;
  }

  /**
   * The weight stream of a folder (docs/accelerator.md, "Weights at run time"): beat b is word
   * b div C of column b mod C's image {@code weights_colJ.mem}, as the low dataBits bits.
   */
  public static int[] stream(Path rtlDir, AccelManifest m) {
    int cols = m.cols();
    List<List<String>> words = lines(rtlDir, m);
    int depth = words.get(0).size();
    int[] beats = new int[cols * depth];
    for (int j = 0; j < cols; j++) {
      if (words.get(j).size() != depth) {
        throw new UserError(rtlDir.resolve(m.memFiles().get(j)) + " has " + words.get(j).size()
            + " words, " + rtlDir.resolve(m.memFiles().get(0)) + " " + depth + "; every column's image is as long");
      }
      for (int a = 0; a < depth; a++) {
        String w = words.get(j).get(a).strip();
        try {
          beats[a * cols + j] = Integer.parseInt(w, 16);
        } catch (NumberFormatException e) {
          throw new UserError(rtlDir.resolve(m.memFiles().get(j)) + " line " + (a + 1)
              + ": expected a hex weight, got \"" + w + "\"");
        }
      }
    }
    return beats;
  }
}
