package addernet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NumericChars;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output rule of docs/outputs.md, one case at a time. */
class OutputsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private static void writeFolder(Path target, boolean force, List<Path> inputs, String file) {
    Outputs.writeFolder("generate", target, force, inputs,
        dir -> Files.writeString(dir.resolve(file), "new " + file));
  }

  private List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private UserError refused(Runnable r) {
    return assertThrows(UserError.class, r::run);
  }

  @Test
  void newFolderGetsItsFilesAndTheMarkerAndNothingIsLeftBesideIt() throws IOException {
    Path out = tmp.resolve("rtl");
    writeFolder(out, false, List.of(), "Mesh.sv");
    assertEquals(List.of(Outputs.MARKER, "Mesh.sv"), names(out));
    JsonNode marker = JSON.readTree(out.resolve(Outputs.MARKER).toFile());
    assertEquals("addernet generate", marker.path(Outputs.WRITTEN_BY).asText());
    assertEquals(List.of("rtl"), names(tmp), "no temporary or lock file may stay beside the output");
  }

  @Test
  void emptyFolderIsWrittenWithoutForce() throws IOException {
    Path out = Files.createDirectory(tmp.resolve("rtl"));
    writeFolder(out, false, List.of(), "Mesh.sv");
    assertTrue(Files.isRegularFile(out.resolve("Mesh.sv")));
  }

  @Test
  void foreignFolderIsRefusedEvenWithForceNamingWhatIsInIt() throws IOException {
    Path out = Files.createDirectory(tmp.resolve("thesis"));
    Files.writeString(out.resolve("chapter1.tex"), "precious");
    String before = TreeHash.of(tmp);
    for (boolean force : new boolean[] {false, true}) {
      UserError e = refused(() -> writeFolder(out, force, List.of(), "Mesh.sv"));
      assertTrue(e.getMessage().contains(out.toString()) && e.getMessage().contains("chapter1.tex")
          && e.getMessage().contains("no earlier output of 'addernet generate'"), e.getMessage());
    }
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void folderOfAnotherCommandIsNotAnEarlierOutput() throws IOException {
    Path out = tmp.resolve("pkg");
    Outputs.writeFolder("quantize", out, false, List.of(), dir -> Files.writeString(dir.resolve("manifest.json"), "{}"));
    String before = TreeHash.of(tmp);
    refused(() -> writeFolder(out, true, List.of(), "Mesh.sv"));
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void earlierOutputNeedsForceAndIsThenReplacedAsAWhole() throws IOException {
    Path out = tmp.resolve("rtl");
    writeFolder(out, false, List.of(), "old.sv");
    String before = TreeHash.of(tmp);
    UserError e = refused(() -> writeFolder(out, false, List.of(), "new.sv"));
    assertTrue(e.getMessage().contains("pass --force"), e.getMessage());
    assertEquals(before, TreeHash.of(tmp));
    writeFolder(out, true, List.of(), "new.sv");
    assertEquals(List.of(Outputs.MARKER, "new.sv"), names(out));
    assertEquals(List.of("rtl"), names(tmp));
  }

  @Test
  void aFileWhereAFolderIsExpectedIsRefusedAndKept() throws IOException {
    Path out = Files.writeString(tmp.resolve("rtl"), "keep me");
    UserError e = refused(() -> writeFolder(out, true, List.of(), "Mesh.sv"));
    assertTrue(e.getMessage().contains("is a file, not a folder"), e.getMessage());
    assertEquals("keep me", Files.readString(out));
  }

  @Test
  void inputsAreNeverWrittenNorWrittenInsideNorHeldEvenWithForce() throws IOException {
    Path pkg = Files.createDirectories(tmp.resolve("models/pkg"));
    Files.writeString(pkg.resolve("manifest.json"), "{}");
    String before = TreeHash.of(tmp);
    for (Path target : List.of(pkg, tmp.resolve("models"), pkg.resolve("rtl"), pkg.resolve("sub/rtl"))) {
      UserError e = refused(() -> writeFolder(target, true, List.of(pkg), "Mesh.sv"));
      assertTrue(e.getMessage().contains("input of this command") || e.getMessage().contains("does not exist"),
          e.getMessage());
    }
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void anInputReachedThroughASymbolicLinkIsStillAnInput() throws IOException {
    Path pkg = Files.createDirectory(tmp.resolve("pkg"));
    Files.writeString(pkg.resolve("manifest.json"), "{}");
    Path link = Files.createSymbolicLink(tmp.resolve("link"), pkg);
    String before = TreeHash.of(tmp);
    UserError e = refused(() -> writeFolder(pkg.resolve("rtl"), true, List.of(link), "Mesh.sv"));
    assertTrue(e.getMessage().contains("inside an input"), e.getMessage());
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void aSymbolicLinkAsTargetIsRefusedAndWhatItPointsToIsKept() throws IOException {
    Path real = Files.createDirectory(tmp.resolve("real"));
    Files.writeString(real.resolve("data"), "precious");
    Path link = Files.createSymbolicLink(tmp.resolve("out"), real);
    String before = TreeHash.of(tmp);
    UserError e = refused(() -> writeFolder(link, true, List.of(), "Mesh.sv"));
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void replacingAnEarlierOutputRemovesItsLinksWithoutFollowingThem() throws IOException {
    Path outside = Files.createDirectory(tmp.resolve("outside"));
    Files.writeString(outside.resolve("data"), "precious");
    Path out = tmp.resolve("rtl");
    Outputs.writeFolder("generate", out, false, List.of(),
        dir -> Files.createSymbolicLink(dir.resolve("to-outside"), outside));
    writeFolder(out, true, List.of(), "new.sv");
    assertEquals("precious", Files.readString(outside.resolve("data")));
    assertEquals(List.of(Outputs.MARKER, "new.sv"), names(out));
  }

  @Test
  void theCurrentFolderAndItsAncestorsAreRefused() throws IOException {
    Path cwd = Path.of("").toAbsolutePath();
    for (Path target : List.of(Path.of("."), cwd, cwd.getParent())) {
      UserError e = refused(() -> Outputs.check("generate", true, List.of(), "--out", target));
      assertTrue(e.getMessage().contains("current folder"), e.getMessage());
    }
    assertFalse(Files.exists(cwd.getParent().resolve("." + cwd.getFileName() + ".lock")));
  }

  @Test
  void aFailedRunLeavesNothingAndKeepsTheEarlierOutput() throws IOException {
    Path out = tmp.resolve("rtl");
    writeFolder(out, false, List.of(), "old.sv");
    String before = TreeHash.of(tmp);
    refused(() -> Outputs.writeFolder("generate", out, true, List.of(), dir -> {
      Files.writeString(dir.resolve("half.sv"), "module");
      throw new IOException("disk full");
    }));
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void reportFilesAreRecognisedByWrittenBy() throws IOException {
    Path report = tmp.resolve("r.json");
    try (Outputs out = Outputs.begin("synth", false, List.of())) {
      out.writeJson(out.file("--report", report), Map.of("luts", 12));
      out.commit();
    }
    JsonNode j = JSON.readTree(report.toFile());
    assertEquals("addernet synth", j.fields().next().getValue().asText(), "written_by comes first");
    assertEquals(12, j.path("luts").asInt());
    assertTrue(Outputs.isReportOf("synth", report));
    assertFalse(Outputs.isReportOf("cosim", report));

    String before = TreeHash.of(tmp);
    try (Outputs out = Outputs.begin("synth", false, List.of())) {
      UserError e = refused(() -> out.file("--report", report));
      assertTrue(e.getMessage().contains("pass --force"), e.getMessage());
    }
    try (Outputs out = Outputs.begin("cosim", true, List.of())) {
      UserError e = refused(() -> out.file("--report", report));
      assertTrue(e.getMessage().contains("not an earlier output of 'addernet cosim'"), e.getMessage());
    }
    assertEquals(before, TreeHash.of(tmp));
    try (Outputs out = Outputs.begin("synth", true, List.of())) {
      out.writeJson(out.file("--report", report), Map.of("luts", 13));
      out.commit();
    }
    assertEquals(13, JSON.readTree(report.toFile()).path("luts").asInt());
    assertEquals(List.of("r.json"), names(tmp));
  }

  @Test
  void aReportPathThatIsAFolderIsRefusedEvenWhenEmpty() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("r.json"));
    try (Outputs out = Outputs.begin("energy", true, List.of())) {
      UserError e = refused(() -> out.file("--report", dir));
      assertTrue(e.getMessage().contains("a file was expected"), e.getMessage());
    }
    assertTrue(Files.isDirectory(dir));
  }

  @Test
  void aForeignFileIsNeverReplaced() throws IOException {
    Path notes = Files.writeString(tmp.resolve("notes.json"), "{\"mine\": true}");
    try (Outputs out = Outputs.begin("energy", true, List.of())) {
      UserError e = refused(() -> out.file("--report", notes));
      assertTrue(e.getMessage().contains("is not an earlier output"), e.getMessage());
    }
    assertEquals("{\"mine\": true}", Files.readString(notes));
  }

  @Test
  void twoTargetsOfOneRunMustNotCoincideNorNest() throws IOException {
    Files.createDirectory(tmp.resolve("pkg"));
    try (Outputs out = Outputs.begin("quantize", false, List.of())) {
      out.folder("--out", tmp.resolve("pkg"));
      assertTrue(refused(() -> out.file("--report", tmp.resolve("pkg"))).getMessage().contains("also given as --out"));
      assertTrue(refused(() -> out.file("--report", tmp.resolve("pkg/r.json"))).getMessage().contains("one inside the other"));
    }
    assertEquals(List.of("pkg"), names(tmp));
    assertEquals(List.of(), names(tmp.resolve("pkg")));
  }

  @Test
  void allOutputsOfARunArriveTogetherAtCommit() throws IOException {
    Path pkg = tmp.resolve("pkg");
    Path report = tmp.resolve("r.json");
    try (Outputs out = Outputs.begin("quantize", false, List.of())) {
      Path dir = out.folder("--out", pkg);
      Path file = out.file("--report", report);
      Files.writeString(dir.resolve("manifest.json"), "{}");
      out.writeJson(file, Map.of("bits", 8));
      assertFalse(Files.exists(pkg) || Files.exists(report), "nothing in place before the commit");
      out.commit();
    }
    assertTrue(Files.isRegularFile(pkg.resolve("manifest.json")) && Files.isRegularFile(report));
  }

  @Test
  void aTargetLockedByAnotherRunInThisProcessIsRefusedUntilItEnds() throws IOException {
    Path out = tmp.resolve("rtl");
    try (Outputs first = Outputs.begin("generate", false, List.of())) {
      first.folder("--out", out);
      UserError e = refused(() -> writeFolder(out, true, List.of(), "Mesh.sv"));
      assertTrue(e.getMessage().contains("being written by another addernet command"), e.getMessage());
    }
    writeFolder(out, false, List.of(), "Mesh.sv");
    assertEquals(List.of("rtl"), names(tmp));
  }

  @Test
  void aTargetLockedByAnotherProcessIsRefusedAndItsTemporaryRemovedOnceItDied() throws Exception {
    Path out = tmp.resolve("rtl");
    Process p = LockHolder.start(out);
    try {
      UserError e = refused(() -> writeFolder(out, true, List.of(), "Mesh.sv"));
      assertTrue(e.getMessage().contains("being written by another addernet command"), e.getMessage());
      assertTrue(names(tmp).stream().anyMatch(n -> n.startsWith(".rtl.tmp-")), "the other run's temporary: " + names(tmp));
    } finally {
      p.destroyForcibly();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    }
    assertTrue(names(tmp).stream().anyMatch(n -> n.startsWith(".rtl.tmp-")), "a killed run leaves its temporary");
    writeFolder(out, false, List.of(), "Mesh.sv");
    assertEquals(List.of("rtl"), names(tmp), "the dead run's temporary and lock are gone");
    assertEquals(List.of(Outputs.MARKER, "Mesh.sv"), names(out));
  }

  @Test
  void anEarlierOutputMovedAsideByAKilledReplaceIsRestored() throws Exception {
    Path out = tmp.resolve("rtl");
    writeFolder(out, false, List.of(), "old.sv");
    // What a run killed between its two renames leaves: the old output aside, the new one unplaced.
    ProcessHandle dead = Leftovers.deadProcess();
    Files.move(out, Leftovers.folder(tmp, "rtl", "old", dead).resolve("rtl"));
    Path half = Files.createDirectory(Leftovers.folder(tmp, "rtl", "tmp", dead).resolve("rtl"));
    Files.writeString(half.resolve("new.sv"), "module");
    try (Outputs o = Outputs.begin("generate", false, List.of())) {
      refused(() -> o.folder("--out", out)); // restored, so it is an earlier output again: --force needed
    }
    assertEquals(List.of("rtl"), names(tmp));
    assertEquals(List.of(Outputs.MARKER, "old.sv"), names(out));
  }

  @Test
  void leftoversOfDeadRunsBesideOtherOutputsAreCleanedTooButNotThoseOfLiveOnes() throws Exception {
    ProcessHandle dead = Leftovers.deadProcess();
    Process live = new ProcessBuilder("cat").start();
    try {
      Path deadTmp = Leftovers.folder(tmp, "other", "tmp", dead);
      Files.writeString(deadTmp.resolve("half.sv"), "module");
      Path earlier = Files.createDirectory(Leftovers.folder(tmp, "moved", "old", dead).resolve("moved"));
      Files.writeString(earlier.resolve("mine.sv"), "earlier output");
      Path liveTmp = Leftovers.folder(tmp, "busy", "tmp", live.toHandle());
      Path lookalike = Files.writeString(tmp.resolve(".notes.tmp-x1"), "not ours: no process id");
      writeFolder(tmp.resolve("rtl"), false, List.of(), "Mesh.sv");
      assertFalse(Files.exists(deadTmp), "a dead run's temporary beside another output");
      assertEquals("earlier output", Files.readString(tmp.resolve("moved/mine.sv")), "moved back under its name");
      assertTrue(Files.isDirectory(liveTmp), "a live process's temporary stays");
      assertTrue(Files.isRegularFile(lookalike));
      assertEquals(List.of(".busy.tmp-" + live.pid(), ".notes.tmp-x1", "moved", "rtl"), names(tmp));
    } finally {
      live.destroyForcibly();
      live.waitFor();
    }
  }

  @Test
  void inPlaceFolderIsLockedMarkedAndRemovedAgainWhenNothingWasWritten() throws IOException {
    Path run = tmp.resolve("run");
    try (Outputs o = Outputs.begin("train", false, List.of())) {
      assertEquals(run.toAbsolutePath(), o.folderInPlace("--out", run, false));
      assertEquals(List.of(Outputs.MARKER), names(run));
      try (Outputs other = Outputs.begin("train", false, List.of())) {
        refused(() -> other.folderInPlace("--out", run, true));
      }
    }
    assertEquals(List.of(), names(tmp));
  }

  @Test
  void inPlaceForceStartsOverButGivesTheEarlierRunBackIfTheNewOneWroteNothing() throws IOException {
    Path run = tmp.resolve("run");
    try (Outputs o = Outputs.begin("train", false, List.of())) {
      Files.writeString(o.folderInPlace("--out", run, false).resolve("checkpoint.json"), "epoch 3");
      o.commit();
    }
    String before = TreeHash.of(tmp);
    try (Outputs o = Outputs.begin("train", false, List.of())) {
      UserError e = refused(() -> o.folderInPlace("--out", run, false));
      assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }
    try (Outputs o = Outputs.begin("train", true, List.of())) {
      o.folderInPlace("--out", run, false);
      assertEquals(List.of(Outputs.MARKER), names(run), "started over");
    }
    assertEquals(before, TreeHash.of(tmp), "nothing came of it: the earlier run is back");
    try (Outputs o = Outputs.begin("train", true, List.of())) {
      Files.writeString(o.folderInPlace("--out", run, false).resolve("checkpoint.json"), "epoch 1");
    }
    assertEquals("epoch 1", Files.readString(run.resolve("checkpoint.json")));
    assertEquals(List.of("run"), names(tmp));
    try (Outputs o = Outputs.begin("train", false, List.of())) {
      Path dir = o.folderInPlace("--out", run, true);
      assertEquals("epoch 1", Files.readString(dir.resolve("checkpoint.json")), "resume keeps it as it is");
    }
    assertEquals("epoch 1", Files.readString(run.resolve("checkpoint.json")));
  }

  @Test
  void optionalOutputsArriveOnlyWhenWrittenAndOtherwiseLeaveTheEarlierOne() throws IOException {
    Path keep = tmp.resolve("failing");
    Path wave = tmp.resolve("w.fst");
    try (Outputs o = Outputs.begin("cosim", false, List.of())) {
      Files.writeString(o.optionalFolder("--keep", keep).resolve("net1"), "rtl");
      o.optionalFile("--wave", wave, p -> true);
      o.commit();
    }
    assertTrue(Files.isRegularFile(keep.resolve("net1")));
    assertFalse(Files.exists(wave));
    try (Outputs o = Outputs.begin("cosim", true, List.of())) {
      o.optionalFolder("--keep", keep);
      o.commit();
    }
    assertTrue(Files.isRegularFile(keep.resolve("net1")), "an empty optional folder replaces nothing");
    assertEquals(List.of("failing"), names(tmp));
  }

  @Test
  void allowInsideLetsExactlyThatPlaceOfAnInputBeWritten() throws IOException {
    Path run = Files.createDirectory(tmp.resolve("run"));
    Files.writeString(run.resolve("cosim.json"), "{}");
    try (Outputs o = Outputs.begin("report", false, List.of(run)).allowInside(run.resolve("report"))) {
      o.folder("--out", run.resolve("report"));
      o.commit();
    }
    refused(() -> Outputs.writeFolder("report", run.resolve("report"), true, List.of(run), dir -> { }));
    try (Outputs o = Outputs.begin("report", false, List.of(run)).allowInside(run.resolve("report"))) {
      o.folder("--out", run.resolve("report-2"));
      throw new AssertionError("a place beside the allowed one must stay refused");
    } catch (UserError e) {
      assertTrue(e.getMessage().contains("inside an input"), e.getMessage());
    }
    try (Outputs o = Outputs.begin("report", true, List.of(run)).allowInside(run.resolve("report"))) {
      refused(() -> o.folder("--out", run));
      o.folder("--out", run.resolve("report"));
      o.commit();
    }
    assertEquals(List.of("cosim.json", "report"), names(run));
  }

  @Test
  void aNameOf250CharactersIsWrittenWithTemporariesWithinTheFileSystemLimit() throws IOException {
    String name = "x".repeat(250);
    Path out = tmp.resolve(name);
    Outputs.writeFolder("generate", out, false, List.of(), dir -> {
      assertTrue(dir.getFileName().toString().length() <= 255, dir.getFileName().toString());
      Files.writeString(dir.resolve("Mesh.sv"), "module");
    });
    writeFolder(out, true, List.of(), "again.sv");
    assertEquals(List.of(name), names(tmp));
    assertEquals(List.of(Outputs.MARKER, "again.sv"), names(out));
  }

  @Test
  void shortNamesOfLongNamesDifferWhenTheNamesDo() {
    String a = Outputs.shortName("a".repeat(200) + "1");
    String b = Outputs.shortName("a".repeat(200) + "2");
    assertFalse(a.equals(b));
    assertTrue(a.length() < 100, a);
    assertEquals("short", Outputs.shortName("short"));
  }

  @Property(tries = 40)
  void anyPlainNameUpTo250CharactersIsWrittenAndLeavesOnlyItself(
      @ForAll @AlphaChars @NumericChars @StringLength(min = 1, max = 250) String name) throws IOException {
    Path dir = Files.createTempDirectory("outputs-names");
    try {
      Path out = dir.resolve(name);
      writeFolder(out, false, List.of(), "Mesh.sv");
      writeFolder(out, true, List.of(), "Mesh.sv");
      try (Stream<Path> s = Files.list(dir)) {
        assertEquals(List.of(name), s.map(p -> p.getFileName().toString()).toList());
      }
    } finally {
      Outputs.deleteTree(dir);
    }
  }
}
