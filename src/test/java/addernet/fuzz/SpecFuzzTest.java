package addernet.fuzz;

import static addernet.fuzz.FuzzSupport.assertUserError;
import static addernet.fuzz.FuzzSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import addernet.energy.EnergyEstimate;
import addernet.energy.NetworkOps;
import addernet.energy.OperationEnergy;
import addernet.nn.NetworkSpec;
import addernet.nn.SpecException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random mutations of the shipped specs ({@code model/*.spec}): tokens dropped, numbers replaced
 * by extremes, negatives and non-numbers, lines dropped, duplicated or swapped. Each mutant
 * parses, and then keeps every documented bound and can be counted for the energy estimate
 * without overflow, or it is refused with a one-line {@link SpecException} naming its line.
 */
class SpecFuzzTest {
  @TempDir Path dir;

  private static final String[] NUMBERS = {
      "0", "-1", "-5", "1", "2", "3", "7", "1024", "1048576", "1048577", "65536", "2147483647",
      "2147483648", "99999999999999999999", "abc", "", "1.5", "1e3", "+5", "0x10", "\u0663", "NaN"};

  private static List<Path> shipped() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("model"))) {
      List<Path> specs = s.filter(p -> p.toString().endsWith(".spec")).sorted().toList();
      assertTrue(specs.size() >= 4, "shipped specs: " + specs);
      return specs;
    }
  }

  private static final Pattern NUMBER = Pattern.compile("\\d+");

  static String mutate(String text, SplittableRandom r) {
    List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
    int steps = 1 + r.nextInt(3);
    for (int s = 0; s < steps && !lines.isEmpty(); s++) {
      int at = r.nextInt(lines.size());
      int kind = r.nextInt(7);
      if (kind == 6) {
        // The input line's sizes reach every later shape: aim there more often than chance would.
        kind = 1;
        for (int i = 0; i < lines.size(); i++) {
          if (lines.get(i).startsWith("input")) {
            at = i;
          }
        }
      }
      String line = lines.get(at);
      switch (kind) {
        case 0 -> {
          String[] words = line.strip().split("\\s+");
          if (words.length > 0) {
            List<String> w = new ArrayList<>(Arrays.asList(words));
            w.remove(r.nextInt(w.size()));
            lines.set(at, String.join(" ", w));
          }
        }
        case 1, 2 -> {
          Matcher m = NUMBER.matcher(line);
          List<int[]> spans = new ArrayList<>();
          while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
          }
          if (!spans.isEmpty()) {
            int[] sp = spans.get(r.nextInt(spans.size()));
            lines.set(at, line.substring(0, sp[0]) + NUMBERS[r.nextInt(NUMBERS.length)] + line.substring(sp[1]));
          }
        }
        case 3 -> lines.add(at, line);
        case 4 -> lines.remove(at);
        default -> {
          int other = r.nextInt(lines.size());
          lines.set(at, lines.get(other));
          lines.set(other, line);
        }
      }
    }
    return String.join(r.nextInt(10) == 0 ? "\r\n" : "\n", lines);
  }

  private static final Pattern LINE = Pattern.compile("^(\\S+) line (\\d+)[ :]");

  /** Parses a mutant: a spec within every bound, or a one-line refusal naming a line. */
  static boolean parsesOrNamesTheLine(String name, String text) {
    int lineCount = text.split("\r?\n", -1).length;
    NetworkSpec spec;
    try {
      spec = NetworkSpec.parse(name, text);
    } catch (SpecException e) {
      String m = e.getMessage();
      assertTrue(!m.contains("\n") && !m.contains("\r"), "two lines: " + m);
      Matcher lm = LINE.matcher(m);
      if (lm.find()) {
        assertEquals(name, lm.group(1), m);
        int n = Integer.parseInt(lm.group(2));
        assertTrue(n >= 1 && n <= lineCount, "line " + n + " of " + lineCount + ": " + m);
      } else {
        // The two refusals about the spec as a whole, which no one line causes.
        assertTrue(m.equals(name + ": empty spec; it must start with 'input CxHxW'")
            || m.equals(name + ": no conv or fc layer, nothing to train"), "names no line: " + m);
      }
      return false;
    } catch (Throwable e) {
      fail("mutant must parse or be refused with SpecException, got " + e + " for:\n" + text, e);
      return false;
    }
    assertTrue(spec.parameters() <= NetworkSpec.MAX_PARAMETERS);
    assertTrue(spec.input().size() <= NetworkSpec.MAX_VALUES_PER_IMAGE);
    for (NetworkSpec.LayerSpec l : spec.layers()) {
      assertTrue(l.outputShape().size() <= NetworkSpec.MAX_VALUES_PER_IMAGE, l.toString());
    }
    assertTrue(spec.classes() >= 2);
    assertTrue(spec.trainingBytes(128) > 0);
    EnergyEstimate.Result r = EnergyEstimate.of(NetworkOps.of(spec, 8, 6), OperationEnergy.HOROWITZ_45NM);
    assertTrue(r.weightUsesPerInference() > 0 && Double.isFinite(r.adder().totalPj()), text);
    return true;
  }

  @Test
  void mutantsOfTheShippedSpecsParseWithinTheBoundsOrNameTheirLine() throws IOException {
    SplittableRandom r = new SplittableRandom(16);
    int parsed = 0;
    int total = 0;
    for (Path p : shipped()) {
      String text = Files.readString(p);
      String name = p.getFileName().toString().replace(".spec", "");
      assertTrue(parsesOrNamesTheLine(name, text), "shipped spec refused: " + p);
      for (int i = 0; i < 600; i++) {
        total++;
        if (parsesOrNamesTheLine(name, mutate(text, r))) {
          parsed++;
        }
      }
    }
    // Comment lines and harmless swaps (relu and batchnorm) keep some mutants valid.
    assertTrue(parsed > total / 50 && parsed < total / 2, parsed + " of " + total + " parsed");
  }

  @Test
  void randomTextFromTheSpecAlphabetParsesOrNamesTheLine() {
    SplittableRandom r = new SplittableRandom(5);
    String[] words = {"input", "conv", "fc", "adder", "multiply", "batchnorm", "relu", "maxpool",
        "flatten", "kernel=", "stride=", "padding=", "->", "x", "#", "\n", "\n", " ", " ", "=", "1",
        "3", "28", "0", "-", "2147483648"};
    for (int i = 0; i < 3000; i++) {
      StringBuilder sb = new StringBuilder(i % 3 == 0 ? "input 1x8x8\n" : "");
      for (int j = r.nextInt(40); j > 0; j--) {
        sb.append(words[r.nextInt(words.length)]);
      }
      parsesOrNamesTheLine("random", sb.toString());
    }
  }

  @Test
  void extremeShapesAreRefusedWithTheFigureNotAnOverflow() {
    Map<String, String> refused = Map.of(
        "input 64x65536x1024\nflatten\nfc adder 1->10", "4,294,967,296 values",
        "input 1x1x1\nflatten\nfc adder 1->40000\nfc adder 40000->40000", "1,600,000,000 parameters",
        "input 1x2048x2048\nconv adder 1->2 kernel=1\nflatten\nfc adder 1->2", "8,388,608 values",
        "input 1x1x1\nconv adder 1->1 kernel=1025 padding=1024\nflatten\nfc adder 1->2", "patch matrix",
        "input 1x2x2\nconv adder 1->1048576 kernel=1024 padding=1023\nflatten\nfc adder 1->2", "values per image",
        "input 1x8x8\nconv adder 1->4 kernel=3 kernel=5\nflatten\nfc adder 144->10", "given twice",
        "input 1x8x8\nconv adder 1->4 kernel=+3\nflatten\nfc adder 144->10", "whole number");
    refused.forEach((text, figure) -> {
      assertTrue(!parsesOrNamesTheLine("x", text));
      try {
        NetworkSpec.parse("x", text);
      } catch (SpecException e) {
        assertTrue(e.getMessage().contains(figure), e.getMessage());
      }
    });
    // 65536 x 1024 weights (2^26) is within the bounds, and its count is exact.
    NetworkSpec big = NetworkSpec.parse("big", "input 1x1x1\nflatten\nfc adder 1->65536\nfc adder 65536->1024");
    assertEquals(65536L + 65536L * 1024, NetworkOps.of(big, 8, 6).weightUses());
  }

  @Test
  void heapCheckGivesTheFigureAndTheArrayLimit() {
    NetworkSpec big = NetworkSpec.parse("big", "input 1x1x1\nflatten\nfc adder 1->65536\nfc adder 65536->1024");
    long need = big.trainingBytes(128);
    assertTrue(need > 12L * 67_108_864, "three copies of 2^26 float parameters: " + need);
    big.requireFits(128, 500, 8L << 30);
    String m = assertThrowsSpec(() -> big.requireFits(128, 500, 512L << 20));
    assertTrue(m.contains("67,174,400 parameters, training at a batch of 128 and evaluating 500")
        && m.contains("0.5 GiB Java heap"), m);
    NetworkSpec wide = NetworkSpec.parse("wide",
        "input 1x2048x2048\nconv adder 1->1 kernel=1\nmaxpool 2048\nflatten\nfc adder 1->2");
    m = assertThrowsSpec(() -> wide.requireFits(600, 500, Long.MAX_VALUE));
    assertTrue(m.contains("wide line 2") && m.contains("Java array"), m);
    wide.requireFits(128, 500, Long.MAX_VALUE);
  }

  private static String assertThrowsSpec(Runnable r) {
    try {
      r.run();
    } catch (SpecException e) {
      return e.getMessage();
    }
    fail("expected a SpecException");
    return null;
  }

  @Test
  void energyOnMutantSpecFilesIsAResultOrOneErrorLine() throws IOException {
    SplittableRandom r = new SplittableRandom(3);
    String text = Files.readString(Path.of("model/lenet5-adder.spec"));
    int errors = 0;
    for (int i = 0; i < 20; i++) {
      Path p = dir.resolve("mutant" + i + ".spec");
      String mutant = mutate(text, r);
      Files.writeString(p, mutant);
      addernet.cli.CliRun.Outcome o = cli("energy", "--model", p.toString());
      if (o.code() == 0) {
        assertTrue(o.out().contains("Energy per inference"), o.out());
      } else {
        errors++;
        assertUserError(o, "mutant" + i + " line");
      }
      assertEquals(mutant, Files.readString(p));
    }
    assertTrue(errors > 5, errors + " of 20 refused");
    Path overflow = dir.resolve("overflow.spec");
    // 2^20 channels of 2048 x 2048 is 2^42 values: 0 in an int.
    Files.writeString(overflow, "input 1x2048x2048\nconv adder 1->1048576 kernel=1\nflatten\nfc adder 10->10\n");
    assertUserError(cli("energy", "--model", overflow.toString()), "overflow line 2", "4,398,046,511,104 values");
    Files.writeString(overflow, "input 64x65536x1024\nflatten\nfc adder 10->10\n");
    assertUserError(cli("energy", "--model", overflow.toString()), "overflow line 1", "4,294,967,296 values");
    Path big = dir.resolve("big.spec");
    Files.writeString(big, "input 1x1x1\nflatten\nfc adder 1->65536\nfc adder 65536->1024\n");
    addernet.cli.CliRun.Outcome o = cli("energy", "--model", big.toString());
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("67,108,864"), o.out());
    Path binary = dir.resolve("binary.spec");
    Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 'i', 'n'});
    assertUserError(cli("energy", "--model", binary.toString()), "not UTF-8 text");
    Path huge = dir.resolve("huge.spec");
    Files.write(huge, new byte[(int) NetworkSpec.MAX_FILE_BYTES + 1]);
    assertUserError(cli("energy", "--model", huge.toString()), "at most 1048576 bytes");
  }
}
