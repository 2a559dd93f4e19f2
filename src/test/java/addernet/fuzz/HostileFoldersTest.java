package addernet.fuzz;

import static addernet.fuzz.FuzzSupport.assertUserError;
import static addernet.fuzz.FuzzSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun;
import addernet.cosim.AccelSimulator;
import addernet.cosim.ArrayHarness;
import addernet.cosim.Verilator;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.FolderFiles;
import addernet.quant.PeOp;
import addernet.io.UserError;
import addernet.synth.Yosys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated folders as they arrive from someone else or come back damaged: edited files, a
 * prebuilt executable where a build cache used to be, a name that a tool would rewrite, an
 * unlike twin, markup in a network name. Each must be refused by name or handled as its own
 * files say, never run as code nor reported as a wrong result of the RTL.
 */
class HostileFoldersTest {
  @TempDir static Path shared;
  @TempDir Path tmp;

  /** The smallest accelerator of the shipped tiny model, generated once for the whole class. */
  private static Path accel;
  /** A 2x2 bare array, generated once; tests copy it before changing anything. */
  private static Path array;

  private static final Path TINY_MODEL = Path.of("model", "tiny-adder-8bit");

  @BeforeAll
  static void generate() {
    accel = shared.resolve("tiny2x2");
    CliRun.Outcome o = cli("generate", "--model", TINY_MODEL.toString(), "--rows", "2", "--cols", "2",
        "--out", accel.toString());
    assertEquals(0, o.code(), o.err());
    array = shared.resolve("array2x2");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), array);
  }

  private Path copyOf(Path dir, Path to) throws IOException {
    try (var s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        Path q = to.resolve(dir.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    return to;
  }

  // ------------------------------------------------------------------ edited files

  private static void flipLastDigitOfFirstWord(Path mem) throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(mem));
    String w = lines.get(0).strip();
    char c = w.charAt(w.length() - 1);
    lines.set(0, w.substring(0, w.length() - 1) + (c == '0' ? '1' : '0'));
    Files.write(mem, lines);
  }

  @Test
  void generateRecordsTheHashOfEveryFileItWrote() throws IOException {
    var files = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(accel.resolve(AcceleratorGenerator.CONFIG_FILE).toFile()).path(FolderFiles.FIELD);
    for (String f : List.of("weights_col0.mem", "weights_col1.mem", "requant.mem", "fpga/Makefile")) {
      assertTrue(files.path(f).asText().matches("[0-9a-f]{64}"), f + " not in files: " + files);
    }
    assertFalse(files.has(AcceleratorGenerator.CONFIG_FILE), "the manifest cannot hold its own hash");
    FolderFiles.verify(accel, AcceleratorGenerator.CONFIG_FILE); // as written: accepted
  }

  @Test
  void oneEditedHexDigitOfAWeightImageIsRefusedByNameBeforeCosimBuilds() throws IOException {
    Path rtl = copyOf(accel, tmp.resolve("rtl"));
    Path mem = rtl.resolve("weights_col0.mem");
    flipLastDigitOfFirstWord(mem);
    UserError e = assertThrows(UserError.class, () -> AccelSimulator.prepare(rtl));
    FuzzSupport.assertOneLineNaming(e, mem.toString());
    assertTrue(e.getMessage().contains("was changed after generate wrote it"), e.getMessage());
  }

  @Test
  void aChangedRequantTableIsRefusedByNameOnTheCommandLine() throws IOException {
    Path rtl = copyOf(accel, tmp.resolve("rtl"));
    Path requant = rtl.resolve("requant.mem");
    flipLastDigitOfFirstWord(requant);
    assertUserError(cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr"),
        requant.toString(), "was changed after generate wrote it");
  }

  @Test
  void aTruncatedWeightImageIsRefusedByName() throws IOException {
    Path rtl = copyOf(accel, tmp.resolve("rtl"));
    Path mem = rtl.resolve("weights_col1.mem");
    byte[] b = Files.readAllBytes(mem);
    Files.write(mem, java.util.Arrays.copyOf(b, b.length / 2));
    UserError e = assertThrows(UserError.class, () -> AccelSimulator.prepare(rtl));
    FuzzSupport.assertOneLineNaming(e, mem.toString());
  }

  @Test
  void aMissingGeneratedFileIsRefusedByName() throws IOException {
    Path rtl = copyOf(accel, tmp.resolve("rtl"));
    Path mem = rtl.resolve("weights_col1.mem");
    Files.delete(mem);
    UserError e = assertThrows(UserError.class, () -> AccelSimulator.prepare(rtl));
    FuzzSupport.assertOneLineNaming(e, mem.toString());
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void anEditedSourceOfABareArrayIsRefusedByNameOnTheCommandLine() throws IOException {
    Path rtl = copyOf(array, tmp.resolve("rtl"));
    Path pe = rtl.resolve("PE.sv");
    Files.writeString(pe, Files.readString(pe).substring(0, (int) Files.size(pe) / 2));
    assertUserError(cli("cosim", "--rtl", rtl.toString(), "--random", "5"), pe.toString(), "changed");
  }

  @Test
  void aFolderWithoutFileHashesIsRefusedWithWhatToDo() throws IOException {
    Path rtl = copyOf(array, tmp.resolve("rtl"));
    Path json = rtl.resolve(ArrayGenerator.CONFIG_FILE);
    var tree = (com.fasterxml.jackson.databind.node.ObjectNode)
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
    tree.remove(FolderFiles.FIELD);
    Files.writeString(json, tree.toPrettyString());
    assertUserError(cli("cosim", "--rtl", rtl.toString(), "--random", "5"), json.toString(),
        "field files", "generate the folder again");
  }

  // ------------------------------------------------------------------ code from the folder

  @Test
  void aPrebuiltExecutableInTheFoldersBuildCacheNeverRuns() throws IOException {
    Path rtl = copyOf(array, tmp.resolve("rtl"));
    Path canary = tmp.resolve("canary-ran");
    for (String dir : List.of("verilator-build", "verilator-build-board-rate")) {
      Path d = Files.createDirectories(rtl.resolve(dir));
      Path exe = d.resolve("harness");
      Files.writeString(exe, "#!/bin/sh\ntouch '" + canary + "'\nexit 0\n");
      Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.writeString(d.resolve("stamp"), "0".repeat(64) + "\n");
    }
    ArrayHarness h = ArrayHarness.build(rtl);
    assertFalse(h.executable().startsWith(rtl.toAbsolutePath()), "runs from the folder: " + h.executable());
    CliRun.Outcome o = cli("cosim", "--rtl", rtl.toString(), "--random", "10");
    assertEquals(0, o.code(), o.out() + o.err());
    assertTrue(o.out().contains("0 mismatches"), o.out());
    assertFalse(Files.exists(canary), "the folder's own executable was run");
  }

  /** A forger rewrites the hashes too: what the files can do must be limited by itself. */
  @Test
  void verilogThatWouldRunACommandIsRefusedBeforeVerilatorBuildsIt() throws IOException {
    Path rtl = copyOf(array, tmp.resolve("rtl"));
    Path canary = tmp.resolve("system-ran");
    Path pe = rtl.resolve("PE.sv");
    Files.writeString(pe, Files.readString(pe).replaceFirst("endmodule",
        "initial \\$system(\"touch " + canary + "\");\nendmodule"));
    FolderFiles.record(rtl, ArrayGenerator.CONFIG_FILE);
    assertUserError(cli("cosim", "--rtl", rtl.toString(), "--random", "5"), pe.toString(), "$system");
    assertFalse(Files.exists(canary), "the folder's Verilog ran a command");
  }

  @Test
  void aDriverHeaderCarryingCodeIsRefusedBeforeTheHarnessIsBuiltWithIt() throws IOException {
    Path rtl = copyOf(accel, tmp.resolve("rtl"));
    Path h = rtl.resolve("driver").resolve("addernet_regs.h");
    Files.writeString(h, Files.readString(h).replace("#endif",
        "__attribute__((constructor)) static void evil(void) { (void) system(\"touch /tmp/x\"); }\n#endif"));
    FolderFiles.record(rtl, AcceleratorGenerator.CONFIG_FILE);
    UserError e = assertThrows(UserError.class, () -> AccelSimulator.prepare(rtl));
    FuzzSupport.assertOneLineNaming(e, h.toString());
    assertTrue(e.getMessage().contains("__attribute__"), e.getMessage());
  }

  @Test
  void aDriverSourceOtherThanTheShippedOneIsRefused() throws IOException {
    Path rtl = copyOf(accel, tmp.resolve("rtl"));
    Path c = rtl.resolve("driver").resolve("addernet.c");
    Files.writeString(c, Files.readString(c) + "\n/* changed */\n");
    FolderFiles.record(rtl, AcceleratorGenerator.CONFIG_FILE);
    UserError e = assertThrows(UserError.class, () -> AccelSimulator.prepare(rtl));
    FuzzSupport.assertOneLineNaming(e, c.toString());
  }

  @Test
  void theBuildCacheIsThisUsersAlone() throws IOException {
    Path exe = ArrayHarness.build(array).executable();
    for (Path d : List.of(exe.getParent(), exe.getParent().getParent())) {
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
    }
  }

  @Test
  void theFpgaFlowRunsItsOwnMakefileNotTheFolders() throws IOException {
    Path rtl = copyOf(array, tmp.resolve("rtl"));
    Path canary = tmp.resolve("make-canary");
    Path mk = rtl.resolve("fpga").resolve("Makefile");
    // A received folder whose Makefile (and hashes, rewritten to match) run a command of theirs.
    Files.writeString(mk, Files.readString(mk).replace("all: $(TOP).bin\n",
        "all: canary $(TOP).bin\n\ncanary:\n\ttouch '" + canary + "'\n"));
    FolderFiles.record(rtl, ArrayGenerator.CONFIG_FILE);
    addernet.fpga.FpgaFlow.PlaceAndRoute p =
        addernet.fpga.FpgaFlow.run(rtl, addernet.fpga.Ice40Device.HX8K, 12);
    assertFalse(Files.exists(canary), "the folder's Makefile was run");
    assertTrue(Files.size(Path.of(p.bitstream())) > 0, "no bitstream from the flow");
    assertTrue(Path.of(p.bitstream()).startsWith(rtl.resolve("fpga")), p.bitstream());
  }

  // ------------------------------------------------------------------ names a tool rewrites

  /**
   * {@code h$HOME} beside {@code h/<home>}, which holds broken copies: a tool that expands the
   * variable reads the broken ones.
   */
  private Path homeNamedFolder(Path template) throws IOException {
    String home = System.getenv("HOME");
    assertTrue(home != null && home.startsWith("/"), "HOME is " + home);
    Path rtl = copyOf(template, tmp.resolve("h$HOME"));
    Path decoy = copyOf(template, Path.of(tmp + "/h" + home));
    try (var s = Files.list(decoy)) {
      for (Path p : s.filter(p -> p.toString().endsWith(".sv")).toList()) {
        Files.writeString(p, "module broken(;\n");
      }
    }
    return rtl;
  }

  @Test
  void anRtlFolderNamedWithALiteralHomeIsCosimulatedFromItsOwnFiles() throws IOException {
    Path rtl = homeNamedFolder(array);
    // A change of its own, so that Verilator really builds this folder rather than reusing the
    // cache entry of the unchanged array.
    Path pe = rtl.resolve("PE.sv");
    Files.writeString(pe, Files.readString(pe) + "\n// " + System.nanoTime() + "\n");
    FolderFiles.record(rtl, ArrayGenerator.CONFIG_FILE);
    CliRun.Outcome o = cli("cosim", "--rtl", rtl.toString(), "--random", "20");
    assertEquals(0, o.code(), o.out() + o.err());
    assertTrue(o.out().contains("0 mismatches"), o.out());
  }

  @Test
  void anRtlFolderNamedWithALiteralHomeIsLintedFromItsOwnFiles() throws IOException {
    Path rtl = homeNamedFolder(array);
    var m = ArrayGenerator.read(rtl);
    String complaints = Verilator.lint(rtl, m.sources(), m.top());
    assertFalse(complaints.contains("broken") || complaints.contains("syntax error"), complaints);
  }

  @Test
  void anRtlFolderNamedWithALiteralHomeIsSynthesisedFromItsOwnFiles() throws IOException {
    Path rtl = homeNamedFolder(array);
    var m = ArrayGenerator.read(rtl);
    assertTrue(Yosys.wordLevelCells(rtl, m.sources(), m.top()).size() > 0);
  }

  // ------------------------------------------------------------------ leftovers of dead runs

  @Test
  void privateFoldersOfDeadRunsAreSweptAndLiveOnesKept() throws Exception {
    Path tmpdir = Path.of(System.getProperty("java.io.tmpdir"));
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    long start = gone.info().startInstant().map(i -> i.toEpochMilli()).orElse(1L);
    Path dead = Files.createTempDirectory(tmpdir, "addernet-yosys-");
    Files.writeString(dead.resolve(".addernet-owner"), gone.pid() + " " + start + "\n");
    Path live = Files.createTempDirectory(tmpdir, "addernet-yosys-");
    ProcessHandle me = ProcessHandle.current();
    Files.writeString(live.resolve(".addernet-owner"),
        me.pid() + " " + me.info().startInstant().orElseThrow().toEpochMilli() + "\n");
    Path foreign = Files.createTempDirectory(tmpdir, "addernet-yosys-"); // no marker: not provably ours
    try {
      var m = ArrayGenerator.read(array);
      Yosys.wordLevelCells(array, m.sources(), m.top());
      assertFalse(Files.exists(dead), "a dead run's folder was left");
      assertTrue(Files.isDirectory(live), "a live run's folder was swept");
      assertTrue(Files.isDirectory(foreign), "a folder without the marker was swept");
    } finally {
      for (Path p : List.of(dead, live, foreign)) {
        addernet.io.Outputs.deleteTree(p);
      }
    }
  }

  /**
   * kill -9 of a JVM in the middle of yosys' ABC pass: yosys and ABC end with it, and what they
   * left (ABC's folder included, which yosys makes under TMPDIR) is one private folder that the
   * next run deletes.
   */
  @Test
  void yosysOfAKilledJvmEndsAndWhatItLeftIsSweptByTheNextRun() throws Exception {
    Path work = Files.createDirectories(tmp.resolve("big"));
    Files.writeString(work.resolve("big.v"),
        "module m(input [127:0] a, b, output [255:0] y); assign y = a * b; endmodule\n");
    Path tmpdir = Files.createDirectories(tmp.resolve("tmpdir"));
    Path out = tmp.resolve("jvm.out");
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process jvm = new ProcessBuilder(javaBin, "-Djava.io.tmpdir=" + tmpdir, "-cp",
        System.getProperty("java.class.path"), YosysRunMain.class.getName(), work.toString())
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    Path abc = null;
    List<ProcessHandle> tools = List.of();
    try {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
      while (abc == null && jvm.isAlive() && System.nanoTime() < deadline) {
        abc = abcFolder(tmpdir);
        Thread.sleep(20);
      }
      tools = jvm.descendants().toList();
    } finally {
      jvm.destroyForcibly(); // SIGKILL: no shutdown hook runs
      jvm.waitFor();
    }
    assertTrue(abc != null, "ABC's folder never appeared inside the private folder; the JVM said: "
        + Files.readString(out));
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (tools.stream().anyMatch(HostileFoldersTest::running) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(List.of(), tools.stream().filter(HostileFoldersTest::running)
        .map(h -> h.info().commandLine().orElse("?")).toList(), "tools outlived the killed JVM");
    assertTrue(Files.isDirectory(abc), "the killed run's folder is gone before any sweep");

    String old = System.getProperty("java.io.tmpdir");
    System.setProperty("java.io.tmpdir", tmpdir.toString());
    try {
      var m = ArrayGenerator.read(array);
      Yosys.wordLevelCells(array, m.sources(), m.top());
    } finally {
      System.setProperty("java.io.tmpdir", old);
    }
    try (var s = Files.list(tmpdir)) {
      assertEquals(List.of(), s.filter(Files::isDirectory).toList(), "left by the killed run");
    }
  }

  private static Path abcFolder(Path tmpdir) throws IOException {
    try (var s = Files.walk(tmpdir, 3)) {
      return s.filter(p -> p.getFileName().toString().startsWith("yosys-abc-")).findFirst().orElse(null);
    }
  }

  /** Alive and not a zombie. */
  private static boolean running(ProcessHandle h) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException e) {
      return false;
    }
  }

  // ------------------------------------------------------------------ unlike twins

  @Test
  void aTwinGeneratedWithOtherOptionsIsRefusedBeforeSynthesis() throws IOException {
    Path noTrace = tmp.resolve("no-trace");
    assertEquals(0, cli("generate", "--model", TINY_MODEL.toString(), "--rows", "2", "--cols", "2",
        "--no-trace", "--out", noTrace.toString()).code());
    Path mac = tmp.resolve("mac");
    AcceleratorGenerator.twin(noTrace, PeOp.MULTIPLY, mac); // same rows, columns and batch; no trace port
    assertUserError(cli("synth", "--rtl", accel.toString(), "--twin-rtl", mac.toString(),
        "--target", "generic", "--no-pnr"), "is not a twin of", "trace");
  }

  // ------------------------------------------------------------------ markup in the report

  @Test
  void aNetworkNamedWithMarkupIsEscapedInTheReportPage() throws IOException {
    Path run = Files.createDirectory(tmp.resolve("run"));
    String name = "<script>alert(1)</script>";
    Files.writeString(run.resolve("quantize-8bit.json"), "{\"network\": \"" + name + "\", \"bits\": 8,"
        + " \"layer_bits\": {}, \"qat_epochs\": 0, \"test_images\": 100, \"float_accuracy\": 0.83,"
        + " \"quantized_accuracy\": 0.82}");
    Files.writeString(run.resolve("cosim-x.json"), "{\"network\": \"" + name + "\", \"rows\": 2,"
        + " \"cols\": 2, \"images\": 3, \"compared\": 30, \"mismatches\": 0}");
    CliRun.Outcome o = cli("report", "--run", run.toString());
    assertEquals(0, o.code(), o.err());
    String html = Files.readString(run.resolve("report").resolve("index.html"));
    assertFalse(html.toLowerCase(java.util.Locale.ROOT).contains("<script"), "raw markup on the page");
    assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is not shown escaped");
  }
}
