package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import addernet.cli.CliRun.Outcome;

class CliErrorsTest {
  @TempDir Path tmp;

  private static Outcome run(String... args) {
    return CliRun.run(args);
  }

  private void assertNothingWritten() throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      List<Path> left = s.toList();
      assertEquals(List.of(), left, "a failed command left files behind");
    }
  }

  private Outcome generate(String... extra) {
    String[] base = {"generate", "--rows", "4", "--cols", "4", "--out", tmp.resolve("rtl").toString()};
    String[] args = Stream.concat(Stream.of(base), Stream.of(extra)).toArray(String[]::new);
    return run(args);
  }

  @Test
  void nonPositiveSizeIsOneLineAndWritesNothing() throws IOException {
    Outcome o = run("generate", "--rows", "0", "--cols", "4", "--out", tmp.resolve("rtl").toString());
    assertEquals(2, o.code());
    assertTrue(o.err().startsWith("error: --rows must be a positive"), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
    assertNothingWritten();
  }

  @Test
  void dataWidthOutsideTwoToSixteenIsRefused() throws IOException {
    for (String bits : new String[] {"1", "17"}) {
      Outcome o = generate("--bits", bits);
      assertEquals(2, o.code());
      assertTrue(o.err().contains("--bits: the data width must be in 2..16 bits, got " + bits), o.err());
    }
    assertNothingWritten();
  }

  @Test
  void accumulatorTooNarrowForMaxKSaysWhatIsNeeded() throws IOException {
    Outcome o = generate("--bits", "8", "--max-k", "400", "--acc-bits", "12");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("too narrow") && o.err().contains("need 18 bits"), o.err());
    assertNothingWritten();
  }

  @Test
  void missingParentFolderIsNamed() throws IOException {
    Path out = tmp.resolve("no/such/place");
    Outcome o = run("generate", "--rows", "2", "--cols", "2", "--out", out.toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("does not exist") && o.err().contains(out.getParent().toString()), o.err());
    assertNothingWritten();
  }

  @Test
  void outputPathThatIsAFileIsRefusedAndKept() throws IOException {
    Path file = Files.writeString(tmp.resolve("taken"), "keep me");
    Outcome o = run("generate", "--rows", "2", "--cols", "2", "--out", file.toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("not a folder"), o.err());
    assertEquals("keep me", Files.readString(file));
  }

  @Test
  void unknownPeOperationIsRefused() throws IOException {
    Outcome o = generate("--op", "divide");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("expected adder or multiply"), o.err());
    assertNothingWritten();
  }

  @Test
  void cosimOnAFolderWithoutGeneratedRtlSaysHowToMakeOne() throws IOException {
    Path empty = Files.createDirectory(tmp.resolve("empty"));
    Outcome o = run("cosim", "--rtl", empty.toString(), "--random", "5");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("array.json") && o.err().contains("addernet generate"), o.err());
  }

  @Test
  void cosimRefusesNonPositiveTileCount() {
    Outcome o = run("cosim", "--rtl", tmp.toString(), "--random", "0");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("--random must be a positive"), o.err());
  }

  @Test
  void missingVerilatorIsReportedWithTheSetupCommand() throws Exception {
    assertEquals(0, generate().code());
    String java = ProcessHandle.current().info().command().orElseThrow();
    ProcessBuilder pb =
        new ProcessBuilder(
                java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "cosim", "--rtl", tmp.resolve("rtl").toString(), "--random", "5")
            .redirectErrorStream(true);
    pb.environment().put("PATH", tmp.resolve("no-tools").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.waitFor(), out);
    assertTrue(out.contains("verilator is not installed") && out.contains("scripts/setup"), out);
    assertFalse(Files.exists(tmp.resolve("rtl").resolve("verilator-build")));
  }

  @Test
  void acceleratorWiderThanTheNetworkIsRefusedBeforeAnyVerilog() throws IOException {
    Outcome o = run("generate", "--model", "model/lenet5-adder-8bit", "--rows", "8", "--cols",
        "200", "--out", tmp.resolve("rtl").toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("--cols 200 exceeds the widest layer") && o.err().contains("120"), o.err());
    assertNothingWritten();
  }

  @Test
  void missingModelPackageIsNamed() throws IOException {
    Path missing = tmp.resolve("no-such-package");
    Outcome o = run("generate", "--model", missing.toString(), "--rows", "2", "--cols", "2",
        "--out", tmp.resolve("rtl").toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains(missing.toString()), o.err());
    assertNothingWritten();
  }

  @Test
  void controlIsRefusedWhereItDoesNotApplyOrIsUnknown() throws IOException {
    Outcome bare = generate("--control", "plain");
    assertEquals(2, bare.code());
    assertTrue(bare.err().contains("--control only applies with --model"), bare.err());
    Outcome unknown = run("generate", "--model", "model/tiny-adder-8bit", "--rows", "2", "--cols", "2",
        "--control", "apb", "--out", tmp.resolve("rtl").toString());
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("--control must be axi or plain, got 'apb'"), unknown.err());
    Outcome board = run("generate", "--model", "model/tiny-adder-8bit", "--board", "icebreaker",
        "--control", "axi", "--out", tmp.resolve("rtl").toString());
    assertEquals(2, board.code());
    assertTrue(board.err().contains("has its own control, the UART shell"), board.err());
    assertNothingWritten();
  }

  @Test
  void batchWithoutAModelIsRefused() throws IOException {
    Outcome o = generate("--batch", "4");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("--batch only applies with --model"), o.err());
    assertNothingWritten();
  }

  @Test
  void cosimNeedsExactlyOneMode() {
    Outcome o = run("cosim", "--rtl", tmp.toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("choose exactly one of --model, --random or --random-networks"), o.err());
  }

  @Test
  void requantizersOutsideOneToTheRowsAreRefused() {
    Outcome bare = generate("--requantizers", "1");
    assertEquals(2, bare.code());
    assertTrue(bare.err().contains("--requantizers only applies with --model"), bare.err());
    Path pkg = Path.of("model/tiny-adder-8bit");
    for (String q : new String[] {"0", "3"}) {
      Outcome o = run("generate", "--model", pkg.toString(), "--rows", "2", "--cols", "2", "--requantizers", q,
          "--out", tmp.resolve("q" + q).toString());
      assertEquals(2, o.code(), o.err());
      assertTrue(o.err().contains("--requantizers must be "), o.err());
      assertFalse(Files.exists(tmp.resolve("q" + q)));
    }
  }

  @Test
  void cosimResidualGoesWithRandomNetworksAndRunsThem() {
    Outcome alone = run("cosim", "--residual", "--rtl", tmp.toString());
    assertEquals(2, alone.code());
    assertTrue(alone.err().contains("--residual chooses the kind of --random-networks"), alone.err());
    Outcome o = run("cosim", "--random-networks", "1", "--residual", "--seed", "3");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("1 random networks, ") && o.out().contains(" 0 failed"), o.out());
  }

  @Test
  void unknownSynthesisTargetIsRefused() {
    assertEquals(0, generate().code());
    Outcome o = run("synth", "--rtl", tmp.resolve("rtl").toString(), "--target", "ecp5");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("--target must be generic, ice40, xc7 or asic, got ecp5"), o.err());
  }

  @Test
  void everySubcommandTeachesThroughHelp() {
    for (String cmd : new String[] {"train", "quantize", "generate", "cosim", "synth", "bench"}) {
      Outcome o = run(cmd, "--help");
      assertEquals(0, o.code(), cmd);
      assertTrue(o.out().contains("Usage: addernet " + cmd), o.out());
    }
  }
}
