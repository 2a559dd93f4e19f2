package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.data.Normalization;
import addernet.io.Outputs;
import addernet.io.TreeHash;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import addernet.train.TinyData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every writing command against the output rule (docs/outputs.md): its own input as the output,
 * a foreign folder or file, the current folder, an earlier output without and with --force. A
 * refusal is exit 2, one {@code error:} line, no stack trace, and the whole tree unchanged.
 */
class OutputRuleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  Path data;
  Path spec;
  Path foreign;
  Path foreignFile;

  @BeforeEach
  void fixtures() throws IOException {
    data = tmp.resolve("data");
    TinyData.writeIdx(data, TinyData.images("train", 200, 1), TinyData.images("test", 60, 2));
    spec = Files.writeString(tmp.resolve("tiny-adder.spec"), TinyData.ADDER_SPEC);
    foreign = Files.createDirectory(tmp.resolve("thesis"));
    Files.writeString(foreign.resolve("chapter1.tex"), "precious");
    foreignFile = Files.writeString(tmp.resolve("notes.json"), "{\"mine\": true}");
  }

  private void assertRefused(String before, Outcome o, String... fragments) throws IOException {
    assertEquals(2, o.code(), o.out() + o.err());
    List<String> lines = o.err().strip().lines().toList();
    assertEquals(1, lines.size(), "exactly one line: " + o.err());
    assertTrue(lines.get(0).startsWith("error: "), o.err());
    assertFalse(o.err().contains("Exception") || o.err().contains("\tat "), o.err());
    for (String f : fragments) {
      assertTrue(lines.get(0).contains(f), "expected '" + f + "' in: " + lines.get(0));
    }
    assertEquals(before, TreeHash.of(tmp), "a refused command changed files");
  }

  private static Outcome run(Object... args) {
    return CliRun.run(Stream.of(args).map(Object::toString).toArray(String[]::new));
  }

  private static String[] concat(String[] a, Object... b) {
    List<String> all = new ArrayList<>(List.of(a));
    for (Object o : b) {
      all.add(o.toString());
    }
    return all.toArray(String[]::new);
  }

  private Path checkpoint() throws IOException {
    Path ck = tmp.resolve("ck");
    // quantize refuses zero padding in the first layer (raw and normalized pixels differ there).
    String unpadded = TinyData.ADDER_SPEC.replace("conv adder 1->3 kernel=3 padding=1", "conv adder 1->3 kernel=3");
    Network net = Network.build(NetworkSpec.parse("tiny-adder", unpadded), 3);
    new Checkpoint(net, new Normalization(0.3, 0.3), 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    return ck;
  }

  /** A copy of the shipped iCE40 model package, so that no test can touch the real one. */
  private Path modelPackage() throws IOException {
    Path src = Path.of("model/tiny-adder-8bit");
    Path dst = tmp.resolve("pkg");
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.toList()) {
        Path to = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    return dst;
  }

  private Path generateArray(String name) {
    Path rtl = tmp.resolve(name);
    Outcome o = run("generate", "--rows", 2, "--cols", 2, "--out", rtl);
    assertEquals(0, o.code(), o.err());
    return rtl;
  }

  private static Path ownReport(Path file, String command) throws IOException {
    return Files.writeString(file, "{\"written_by\": \"addernet " + command + "\", \"old\": true}");
  }

  // ------------------------------------------------------------------ generate

  @Test
  void generateRefusesItsPackageForeignFoldersFilesAndTheCurrentFolder() throws IOException {
    Path pkg = modelPackage();
    String[] model = {"generate", "--model", pkg.toString(), "--rows", "2", "--cols", "2", "--batch", "2"};
    String before = TreeHash.of(tmp);
    List<String> cwdParent = names(Path.of("").toAbsolutePath().getParent());
    assertRefused(before, run((Object[]) concat(model, "--out", pkg)), "input of this command");
    assertRefused(before, run((Object[]) concat(model, "--out", pkg, "--force")), "input of this command");
    assertRefused(before, run((Object[]) concat(model, "--out", pkg.resolve("rtl"))), "inside an input");
    assertRefused(before, run((Object[]) concat(model, "--out", foreign, "--force")), "chapter1.tex");
    assertRefused(before, run((Object[]) concat(model, "--out", foreignFile)), "is a file");
    assertRefused(before, run((Object[]) concat(model, "--out", ".")), "current folder");
    assertRefused(before, run("generate", "--rows", 2, "--cols", 2, "--out", "."), "current folder");
    assertEquals(cwdParent, names(Path.of("").toAbsolutePath().getParent()), "nothing beside the current folder");
  }

  @Test
  void generateWithAModelRefusesTheBareArrayFlags() throws IOException {
    Path pkg = modelPackage();
    String before = TreeHash.of(tmp);
    for (String[] flag : new String[][] {{"--bits", "8"}, {"--max-k", "64"}, {"--acc-bits", "20"}, {"--op", "mac"}}) {
      assertRefused(before, run("generate", "--model", pkg, "--rows", 2, "--cols", 2, flag[0], flag[1],
          "--out", tmp.resolve("rtl")), flag[0], "come from the package");
    }
  }

  @Test
  void generateReplacesAnEarlierOutputOnlyWithForce() throws IOException {
    Path rtl = generateArray("rtl");
    Files.writeString(rtl.resolve("mine.txt"), "left by the user in an output folder");
    String before = TreeHash.of(tmp);
    assertRefused(before, run("generate", "--rows", 2, "--cols", 2, "--out", rtl), "pass --force");
    Outcome o = run("generate", "--rows", 2, "--cols", 2, "--out", rtl, "--force");
    assertEquals(0, o.code(), o.err());
    assertFalse(Files.exists(rtl.resolve("mine.txt")), "replaced as a whole");
    assertTrue(Files.isRegularFile(rtl.resolve(Outputs.MARKER)) && Files.isRegularFile(rtl.resolve("array.json")));
  }

  @Test
  void generateWritesAnOutputNamedWith250Characters() throws IOException {
    Path rtl = tmp.resolve("a".repeat(250));
    Outcome o = run("generate", "--rows", 1, "--cols", 1, "--out", rtl);
    assertEquals(0, o.code(), o.err());
    assertTrue(Files.isRegularFile(rtl.resolve("array.json")));
    assertFalse(names(tmp).stream().anyMatch(n -> n.startsWith(".")), "temporaries left: " + names(tmp));
  }

  // ------------------------------------------------------------------ quantize

  private String[] quantize(Path ck) {
    return new String[] {"quantize", "--checkpoint", ck.toString(), "--data", data.toString(), "--bits", "8",
        "--calibration-images", "32", "--golden", "1", "--threads", "1", "--no-progress"};
  }

  @Test
  void quantizeRefusesItsCheckpointAndForeignPlacesBeforeReadingAnything() throws IOException {
    Path ck = checkpoint();
    Path report = tmp.resolve("q.json");
    String[] q = quantize(ck);
    Path emptyDir = Files.createDirectory(tmp.resolve("empty.json"));
    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) concat(q, "--out", ck, "--report", report, "--force")), "input of this command");
    assertRefused(before, run((Object[]) concat(q, "--out", tmp.resolve("pkg"), "--report", ck.resolve("r.json"))),
        "inside an input");
    assertRefused(before, run((Object[]) concat(q, "--out", tmp.resolve("pkg"), "--report", data)), "input of this command");
    assertRefused(before, run((Object[]) concat(q, "--out", foreign, "--report", report)), "chapter1.tex");
    assertRefused(before, run((Object[]) concat(q, "--out", tmp.resolve("pkg"), "--report", foreignFile, "--force")),
        "not an earlier output");
    assertRefused(before, run((Object[]) concat(q, "--out", tmp.resolve("pkg"), "--report", emptyDir)),
        "a file was expected");
    assertRefused(before, run((Object[]) concat(q, "--out", ".", "--report", report)), "current folder");
    assertRefused(before, run((Object[]) concat(q, "--out", foreignFile, "--report", report, "--force")), "is a file");
    // A missing data set would be found only after the checkpoint is read: the outputs come first.
    assertRefused(before, run("quantize", "--checkpoint", ck, "--data", tmp.resolve("none"),
        "--out", foreign, "--report", report), "chapter1.tex");
  }

  @Test
  void quantizeReplacesPackageAndReportTogetherOnlyWithForce() throws IOException {
    Path ck = checkpoint();
    Path pkg = tmp.resolve("p".repeat(250));
    Path report = tmp.resolve("q.json");
    String[] q = concat(quantize(ck), "--out", pkg, "--report", report);
    Outcome o = run((Object[]) q);
    assertEquals(0, o.code(), o.err());
    JsonNode r = JSON.readTree(report.toFile());
    assertEquals("addernet quantize", r.path(Outputs.WRITTEN_BY).asText());
    assertTrue(r.has("quantized_accuracy") && Files.isRegularFile(pkg.resolve("manifest.json")), r.toString());
    assertTrue(Files.isRegularFile(pkg.resolve(Outputs.MARKER)));

    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) q), "pass --force");
    // The package is new, the report an earlier one: refused as a whole, no package written.
    assertRefused(before, run((Object[]) concat(quantize(ck), "--out", tmp.resolve("pkg2"), "--report", report)),
        "--report", "pass --force");
    Files.writeString(pkg.resolve("stale.txt"), "from before");
    o = run((Object[]) concat(q, "--force"));
    assertEquals(0, o.code(), o.err());
    assertFalse(Files.exists(pkg.resolve("stale.txt")));
    assertFalse(names(tmp).stream().anyMatch(n -> n.startsWith(".")), "temporaries left: " + names(tmp));
  }

  // ------------------------------------------------------------------ train

  private String[] train(Object out) {
    return new String[] {"train", "--model", spec.toString(), "--data", data.toString(), "--epochs", "1",
        "--batch", "32", "--threads", "1", "--no-progress", "--out", out.toString()};
  }

  @Test
  void trainRefusesItsInputsForeignPlacesAndAFileAtOnce() throws IOException {
    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) train(data)), "input of this command");
    assertRefused(before, run((Object[]) concat(train(spec), "--force")), "input of this command");
    assertRefused(before, run((Object[]) train(foreign)), "chapter1.tex");
    long t0 = System.nanoTime();
    assertRefused(before, run((Object[]) train(foreignFile)), "is a file");
    assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "a file as --out is refused before any training");
    assertRefused(before, run((Object[]) train(".")), "current folder");
  }

  @Test
  void trainLimitBelowOneOrBelowABatchIsOneLine() throws IOException {
    String before = TreeHash.of(tmp);
    Path out = tmp.resolve("run");
    assertRefused(before, run((Object[]) concat(train(out), "--train-limit", "-1")), "--train-limit must be at least 1");
    assertRefused(before, run((Object[]) concat(train(out), "--train-limit", "0")), "--train-limit must be at least 1");
    assertRefused(before, run((Object[]) concat(train(out), "--train-limit", "10")), "batch 32 is larger than the 10 training images");
  }

  @Test
  void trainStartsOverOnlyWithForceAndRefusesForceWithResume() throws IOException {
    Path out = tmp.resolve("run");
    Outcome o = run((Object[]) train(out));
    assertEquals(0, o.code(), o.err());
    Files.writeString(out.resolve("mine.txt"), "x");
    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) train(out)), "pass --force", "--resume");
    assertRefused(before, run((Object[]) concat(train(out), "--force", "--resume")), "give one of them");
    o = run((Object[]) concat(train(out), "--force"));
    assertEquals(0, o.code(), o.err());
    assertFalse(Files.exists(out.resolve("mine.txt")), "started over");
    assertTrue(Checkpoint.exists(out));
  }

  @Test
  void aSecondTrainIntoAFolderBeingTrainedIsRefused() throws IOException {
    Path out = tmp.resolve("run");
    try (Outputs first = Outputs.begin("train", false, List.of())) {
      first.folderInPlace("--out", out, false);
      String before = TreeHash.of(tmp);
      assertRefused(before, run((Object[]) train(out)), "being written by another addernet command");
    }
  }

  // ------------------------------------------------------------------ cosim

  @Test
  void cosimRefusesReportsInsideItsInputsOrOverForeignFilesBeforeBuilding() throws IOException {
    Path rtl = generateArray("rtl");
    Path pkg = modelPackage();
    Path emptyDir = Files.createDirectory(tmp.resolve("empty.json"));
    Path earlier = ownReport(tmp.resolve("cosim.json"), "cosim");
    String[] c = {"cosim", "--rtl", rtl.toString(), "--random", "2"};
    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) concat(c, "--report", rtl.resolve("cosim.json"))), "inside an input");
    assertRefused(before, run((Object[]) concat(c, "--report", foreignFile, "--force")), "not an earlier output");
    assertRefused(before, run((Object[]) concat(c, "--report", emptyDir)), "a file was expected");
    assertRefused(before, run((Object[]) concat(c, "--report", earlier)), "pass --force");
    assertRefused(before, run((Object[]) concat(c, "--report", foreign)), "a file was expected");
    assertRefused(before, run((Object[]) concat(c, "--wave", tmp.resolve("no/such/w.fst"))), "does not exist");
    assertRefused(before, run((Object[]) concat(c, "--wave", foreignFile)), "not an earlier output");
    assertRefused(before, run("cosim", "--model", pkg, "--rtl", rtl, "--stall", 95), "--stall");
    assertRefused(before, run("cosim", "--model", pkg, "--rtl", rtl, "--report", pkg.resolve("c.json")),
        "inside an input");
    assertRefused(before, run("cosim", "--random-networks", 1, "--keep", foreign), "chapter1.tex");
    Path keep = tmp.resolve("failing");
    Outputs.writeFolder("cosim", keep, false, List.of(), dir -> Files.writeString(dir.resolve("net"), "x"));
    before = TreeHash.of(tmp);
    assertRefused(before, run("cosim", "--random-networks", 1, "--keep", keep), "pass --force");
  }

  @Test
  void cosimReplacesItsEarlierReportWithForce() throws IOException {
    Path rtl = generateArray("rtl");
    Path report = ownReport(tmp.resolve("cosim.json"), "cosim");
    Outcome o = run("cosim", "--rtl", rtl, "--random", 2, "--report", report, "--force");
    assertEquals(0, o.code(), o.out() + o.err());
    JsonNode r = JSON.readTree(report.toFile());
    assertEquals("addernet cosim", r.path(Outputs.WRITTEN_BY).asText());
    assertFalse(r.has("old"));
    assertEquals(0, r.path("mismatches").asInt(-1), r.toString());
  }

  @Test
  void aFailingCosimPutsItsWaveformWhereAskedAndReplacesItOnlyWithForce() throws IOException {
    Path rtl = generateArray("bad");
    Path pe = rtl.resolve("PE.sv");
    String good = Files.readString(pe);
    // Flip the lowest bit of some finished sums (the RTL of ArrayCosimTest's tampered array).
    String bad = good.replaceFirst("assign io_out = outReg;",
        "assign io_out = {outReg[" + (addernet.gen.ArrayGenerator.read(rtl).config().accBits() - 1)
            + ":1], outReg[0] ^ outReg[2]};");
    assertFalse(bad.equals(good), "the generated PE no longer has the line this test alters");
    Files.writeString(pe, bad);
    addernet.gen.FolderFiles.record(rtl, addernet.gen.ArrayGenerator.CONFIG_FILE); // as a faulty generator wrote it
    Path wave = tmp.resolve("w.fst");
    Path report = tmp.resolve("cosim.json");
    Outcome o = run("cosim", "--rtl", rtl, "--random", 20, "--wave", wave, "--report", report);
    assertEquals(1, o.code(), o.out() + o.err());
    assertTrue(Files.size(wave) > 0 && CosimCommand.isWaveform(wave), "an FST where --wave said");
    assertEquals(wave.toString(), JSON.readTree(report.toFile()).path("waveform").asText());
    assertTrue(o.out().contains("waveform of the failing product: " + wave), o.out());
    assertFalse(names(tmp).stream().anyMatch(n -> n.startsWith(".")), "temporaries left: " + names(tmp));

    String before = TreeHash.of(tmp);
    assertRefused(before, run("cosim", "--rtl", rtl, "--random", 20, "--wave", wave), "--wave", "pass --force");
    o = run("cosim", "--rtl", rtl, "--random", 20, "--wave", wave, "--report", report, "--force");
    assertEquals(1, o.code(), o.out() + o.err());
    assertTrue(CosimCommand.isWaveform(wave));
    assertFalse(CosimCommand.isWaveform(report), "a report is not a waveform");
  }

  // ------------------------------------------------------------------ synth

  @Test
  void synthRefusesForeignReportsAndReplacesItsOwnWithForce() throws IOException {
    Path rtl = generateArray("rtl");
    Path earlier = ownReport(tmp.resolve("synth.json"), "synth");
    Files.writeString(tmp.resolve("cosim.json"), "{\"written_by\": \"addernet cosim\"}");
    String[] s = {"synth", "--rtl", rtl.toString(), "--target", "generic"};
    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) concat(s, "--report", rtl.resolve("synth.json"))), "inside an input");
    assertRefused(before, run((Object[]) concat(s, "--report", rtl, "--force")), "input of this command");
    assertRefused(before, run((Object[]) concat(s, "--report", foreignFile, "--force")), "not an earlier output");
    assertRefused(before, run((Object[]) concat(s, "--report", tmp.resolve("cosim.json"), "--force")),
        "not an earlier output of 'addernet synth'");
    assertRefused(before, run((Object[]) concat(s, "--report", earlier)), "pass --force");
    Outcome o = run((Object[]) concat(s, "--report", earlier, "--force"));
    assertEquals(0, o.code(), o.err());
    JsonNode r = JSON.readTree(earlier.toFile());
    assertEquals("addernet synth", r.path(Outputs.WRITTEN_BY).asText());
    assertTrue(r.path("runs").isArray() && !r.has("old"), r.toString());
  }

  // ------------------------------------------------------------------ energy, bench

  @Test
  void energyRefusesItsSpecAndForeignFilesAndReplacesItsOwnWithForce() throws IOException {
    Path report = tmp.resolve("energy.json");
    String before = TreeHash.of(tmp);
    assertRefused(before, run("energy", "--model", spec, "--report", spec, "--force"), "input of this command");
    assertRefused(before, run("energy", "--model", spec, "--report", foreignFile, "--force"), "not an earlier output");
    assertRefused(before, run("energy", "--model", spec, "--report", foreign), "a file was expected");
    ownReport(report, "energy");
    before = TreeHash.of(tmp);
    assertRefused(before, run("energy", "--model", spec, "--report", report), "pass --force");
    Outcome o = run("energy", "--model", spec, "--report", report, "--force");
    assertEquals(0, o.code(), o.err());
    JsonNode r = JSON.readTree(report.toFile());
    assertTrue(r.has("assumptions") && !r.has("old"), r.toString());
  }

  @Test
  void benchRefusesItsSpecAndForeignFilesAndReplacesItsOwnWithForce() throws IOException {
    Path report = tmp.resolve("bench.json");
    String[] b = {"bench", "train", "--model", spec.toString(), "--data", data.toString(), "--batch", "16",
        "--warmup-seconds", "0", "--rounds", "1", "--round-steps", "1", "--threads", "1"};
    String before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) concat(b, "--report", spec, "--force")), "input of this command");
    assertRefused(before, run((Object[]) concat(b, "--report", data.resolve("b.json"))), "inside an input");
    assertRefused(before, run((Object[]) concat(b, "--report", foreignFile, "--force")), "not an earlier output");
    ownReport(report, "bench train");
    before = TreeHash.of(tmp);
    assertRefused(before, run((Object[]) concat(b, "--report", report)), "pass --force");
    Outcome o = run((Object[]) concat(b, "--report", report, "--force"));
    assertEquals(0, o.code(), o.err());
    JsonNode r = JSON.readTree(report.toFile());
    assertTrue(r.has("ratio_to_twin") && !r.has("old"), r.toString());
  }

  // ------------------------------------------------------------------ report

  @Test
  void reportWritesItsDefaultFolderInsideTheRunButNeverTheRunItself() throws IOException {
    Path run = Files.createDirectory(tmp.resolve("run"));
    Files.writeString(run.resolve("quantize-8bit.json"),
        "{\"network\": \"lenet5-adder\", \"bits\": 8, \"float_accuracy\": 0.8, \"quantized_accuracy\": 0.79}");
    String before = TreeHash.of(tmp);
    assertRefused(before, run("report", "--run", run, "--out", run, "--force"), "input of this command");
    assertRefused(before, run("report", "--run", run, "--out", tmp, "--force"), "input of this command");
    assertRefused(before, run("report", "--run", run, "--out", run.resolve("other")), "inside an input");
    assertRefused(before, run("report", "--run", run, "--out", foreign, "--force"), "chapter1.tex");
    assertRefused(before, run("report", "--run", run, "--out", "."), "current folder");
    assertRefused(before, run("report", "--run", run, "--out", foreignFile, "--force"), "is a file");

    Outcome o = run("report", "--run", run);
    assertEquals(0, o.code(), o.err());
    Path page = run.resolve("report").resolve("index.html");
    assertTrue(Files.isRegularFile(page));
    before = TreeHash.of(tmp);
    assertRefused(before, run("report", "--run", run), "pass --force");
    Files.writeString(run.resolve("report").resolve("mine.txt"), "x");
    o = run("report", "--run", run, "--force");
    assertEquals(0, o.code(), o.err());
    assertFalse(Files.exists(run.resolve("report").resolve("mine.txt")));
    assertEquals(List.of("quantize-8bit.json", "report"), names(run), "the run's own files untouched, nothing beside");
  }

  // ------------------------------------------------------------------ the JVM's limits

  @Test
  void runningOutOfMemoryIsOneLineSayingHowToGiveJavaMore() throws Exception {
    Path huge = Files.writeString(tmp.resolve("huge.spec"),
        String.join("\n", "input 1x8x8", "flatten", "fc adder 64->4000000", "batchnorm"));
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process p = new ProcessBuilder(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "train", "--model", huge.toString(), "--data", data.toString(), "--epochs", "1", "--batch", "32",
        "--no-progress", "--out", tmp.resolve("run").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertEquals(2, p.waitFor(), out);
    List<String> lines = out.lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
    assertEquals(1, lines.size(), out);
    assertTrue(lines.get(0).startsWith("error: "), out);
    assertFalse(out.contains("\tat "), out);
    assertFalse(Files.exists(tmp.resolve("run")), "nothing left of the failed run");
  }

  @Test
  void outOfMemoryMessageNamesWhatRanOutAndTheLaunchersSetting() {
    String m = Main.outOfMemory(new OutOfMemoryError("Java heap space"));
    assertTrue(m.startsWith("error: out of memory (Java heap space"), m);
    assertTrue(m.contains("ADDERNET_JAVA_OPTS") && m.contains("-Xmx") && m.contains("scripts/addernet"), m);
    assertEquals(1, m.lines().count());
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
