package addernet.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.Leftovers;
import addernet.io.LockHolder;
import addernet.io.Outputs;
import addernet.io.TreeHash;
import addernet.io.UserError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file system set against the output rule (docs/outputs.md): links and FIFOs where locks and
 * temporaries go, look-alikes of addernet's leftovers, paths whose lexical and real forms differ,
 * two runs on one folder. Each case hashes the tree before and after: the user's files must come
 * out bit for bit as they went in, and every refusal is a UserError, never a stack trace or a hang.
 */
class HostileOutputsTest {
  @TempDir Path tmp;

  private static void generate(Path target, boolean force, List<Path> inputs) {
    Outputs.writeFolder("generate", target, force, inputs, dir -> Files.writeString(dir.resolve("Mesh.sv"), "module"));
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static UserError refused(Runnable r, String... mustContain) {
    UserError e = assertThrows(UserError.class, r::run);
    for (String s : mustContain) {
      assertTrue(e.getMessage().contains(s), s + " in: " + e.getMessage());
    }
    return e;
  }

  private Path precious() throws IOException {
    Path user = Files.createDirectories(tmp.resolve("home"));
    return Files.writeString(user.resolve("thesis.tex"), "three years of work");
  }

  // ---------------------------------------------------------------- 1: locks and temporaries through links

  @Test
  void aSymbolicLinkWhereTheLockGoesIsRefusedAndWhatItPointsToIsKept() throws IOException {
    Path thesis = precious();
    Files.createSymbolicLink(tmp.resolve(".rtl.lock"), thesis);
    String before = TreeHash.of(tmp);
    refused(() -> generate(tmp.resolve("rtl"), true, List.of()), ".rtl.lock", "is in the way");
    assertEquals(before, TreeHash.of(tmp));
    assertEquals("three years of work", Files.readString(thesis));
  }

  @Test
  void aHardLinkWhereTheLockGoesIsRefusedAndTheLinkedFileKept() throws IOException {
    Path thesis = precious();
    Files.createLink(tmp.resolve(".rtl.lock"), thesis);
    String before = TreeHash.of(tmp);
    refused(() -> generate(tmp.resolve("rtl"), true, List.of()), ".rtl.lock", "is in the way");
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void aLockFileThatHoldsSomethingElseIsTheUsersAndIsLeftAlone() throws IOException {
    Files.writeString(tmp.resolve(".rtl.lock"), "my notes about the lock of my bike");
    String before = TreeHash.of(tmp);
    refused(() -> generate(tmp.resolve("rtl"), false, List.of()), "not a lock file of addernet");
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void aFifoWhereTheLockGoesIsRefusedWithoutHanging() throws Exception {
    Process mk = new ProcessBuilder("mkfifo", tmp.resolve(".rtl.lock").toString()).start();
    assertEquals(0, mk.waitFor());
    String before = TreeHash.of(tmp);
    refused(() -> generate(tmp.resolve("rtl"), false, List.of()), "is in the way");
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void theSweepNeverWritesThroughAnotherOutputsLockThatIsALink() throws Exception {
    Path thesis = precious();
    Files.createSymbolicLink(tmp.resolve(".other.lock"), thesis);
    Files.createLink(tmp.resolve(".third.lock"), thesis);
    // Dead runs' temporaries make the sweep want those outputs' locks.
    ProcessHandle dead = Leftovers.deadProcess();
    Leftovers.folder(tmp, "other", "tmp", dead);
    Leftovers.folder(tmp, "third", "tmp", dead);
    generate(tmp.resolve("rtl"), false, List.of());
    assertEquals("three years of work", Files.readString(thesis));
    assertTrue(Files.isSymbolicLink(tmp.resolve(".other.lock")));
    assertTrue(Files.isRegularFile(tmp.resolve(".third.lock")));
  }

  @Test
  void aLinkWhereThisRunsTemporaryGoesIsRefusedAndKept() throws IOException {
    Path thesis = precious();
    Files.createSymbolicLink(tmp.resolve(".rtl.tmp-" + ProcessHandle.current().pid()), thesis.getParent());
    String before = TreeHash.of(tmp);
    refused(() -> generate(tmp.resolve("rtl"), false, List.of()), "is in the way", "was not made by addernet");
    assertEquals(before, TreeHash.of(tmp));
  }

  // ---------------------------------------------------------------- 2: real paths, not lexical ones

  /** tmp/a/real and tmp/b/link -> tmp/a/real, so that "tmp/b/link/../x" is tmp/a/x to the OS. */
  private Path dotDotThroughLink() throws IOException {
    Path real = Files.createDirectories(tmp.resolve("a/real"));
    Files.createDirectories(tmp.resolve("b"));
    Path link = Files.createSymbolicLink(tmp.resolve("b/link"), real);
    return Path.of(link + "/../x");
  }

  @Test
  void aDotDotAfterALinkWritesWhereTheOsPutsItAndNowhereElse() throws IOException {
    Path out = dotDotThroughLink();
    generate(out, false, List.of());
    assertTrue(Files.isRegularFile(tmp.resolve("a/x/Mesh.sv")), "where the OS resolves " + out);
    assertFalse(Files.exists(tmp.resolve("b/x")), "nothing at the lexical spelling");
    assertEquals(List.of("real", "x"), names(tmp.resolve("a")));
    assertEquals(List.of("link"), names(tmp.resolve("b")));
  }

  @Test
  void anInputReachedThroughDotDotAfterALinkIsNotReplacedEvenWithForce() throws IOException {
    Path out = dotDotThroughLink();
    Path input = tmp.resolve("a/x");
    generate(input, false, List.of());
    String before = TreeHash.of(tmp);
    refused(() -> generate(out, true, List.of(input)), "input of this command");
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void anInputInsideTheRealTargetIsNotDeletedWithIt() throws IOException {
    Path out = dotDotThroughLink();
    Path target = tmp.resolve("a/x");
    generate(target, false, List.of());
    Path pkg = Files.createDirectories(target.resolve("model"));
    Files.writeString(pkg.resolve("manifest.json"), "{}");
    String before = TreeHash.of(tmp);
    refused(() -> generate(out, true, List.of(pkg)), "holds, an input");
    assertEquals(before, TreeHash.of(tmp));
  }

  // ---------------------------------------------------------------- 3: look-alikes of leftovers

  @Test
  void lookAlikesOfLeftoversWithoutARunMarkerAreNeverTouched() throws Exception {
    long dead = Leftovers.deadProcess().pid();
    Path oldThesis = Files.createDirectory(tmp.resolve(".thesis.old-" + dead));
    Files.writeString(oldThesis.resolve("chapter1.tex"), "draft");
    Files.writeString(tmp.resolve(".notes.tmp-" + dead), "notes");
    Path tmpDir = Files.createDirectory(tmp.resolve(".paper.tmp-" + dead));
    Files.writeString(tmpDir.resolve("figure.svg"), "<svg/>");
    // A marker of the wrong kind for its name does not make a folder ours either.
    Path wrongKind = Files.createDirectory(tmp.resolve(".book.old-" + dead));
    Files.writeString(wrongKind.resolve(Outputs.RUN_MARKER), Leftovers.marker("temporary", "book", dead, ""));
    Path rtlAside = Files.createDirectory(tmp.resolve(".rtl.old-" + dead));
    Files.writeString(rtlAside.resolve("mine.txt"), "mine");
    String before = TreeHash.of(tmp);
    generate(tmp.resolve("rtl"), false, List.of());
    generate(tmp.resolve("other"), false, List.of());
    Outputs.deleteTree(tmp.resolve("rtl"));
    Outputs.deleteTree(tmp.resolve("other"));
    assertEquals(before, TreeHash.of(tmp), "every look-alike as it was, none restored as an output");
  }

  @Test
  void anAsideWithAMarkerIsNotRestoredOverAUsersFolderNorDeleted() throws Exception {
    ProcessHandle dead = Leftovers.deadProcess();
    Path aside = Leftovers.folder(tmp, "thesis", "old", dead);
    Files.createDirectory(aside.resolve("thesis"));
    Files.writeString(aside.resolve("thesis/Mesh.sv"), "earlier output");
    Path users = Files.createDirectory(tmp.resolve("thesis"));
    Files.writeString(users.resolve("chapter1.tex"), "the user's, made after the kill");
    String before = TreeHash.of(tmp);
    generate(tmp.resolve("rtl"), false, List.of());
    Outputs.deleteTree(tmp.resolve("rtl"));
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void aLeftoverOfALiveRunIsLeftToIt() throws Exception {
    Process live = new ProcessBuilder("cat").start();
    try {
      Path aside = Leftovers.folder(tmp, "rtl", "old", live.toHandle());
      Files.createDirectory(aside.resolve("rtl"));
      Leftovers.folder(tmp, "rtl", "tmp", live.toHandle());
      String before = TreeHash.of(tmp);
      generate(tmp.resolve("other"), false, List.of());
      Outputs.deleteTree(tmp.resolve("other"));
      assertEquals(before, TreeHash.of(tmp));
    } finally {
      live.destroyForcibly();
      live.waitFor();
    }
  }

  @Test
  void aLeftoverWhosePidWasReusedByAnotherProcessCountsAsDead() throws Exception {
    Process live = new ProcessBuilder("cat").start();
    try {
      // The pid of a running process with another start time: the run that made it is over.
      Path stale = Leftovers.folder(tmp, "rtl", "tmp", live.pid(), "2001-01-01T00:00:00Z");
      generate(tmp.resolve("other"), false, List.of());
      assertFalse(Files.exists(stale));
    } finally {
      live.destroyForcibly();
      live.waitFor();
    }
  }

  // ---------------------------------------------------------------- 9: two runs and --force

  @Test
  void twoSpellingsOfOneFolderShareOneLock() throws IOException {
    Path out = dotDotThroughLink();
    try (Outputs a = Outputs.begin("generate", false, List.of())) {
      a.folder("--out", tmp.resolve("a/x"));
      refused(() -> generate(out, true, List.of()), "being written by another addernet command");
    }
  }

  @Test
  void forceDoesNotReplaceAFolderAnotherRunIsWritingInside() throws IOException {
    Path x = tmp.resolve("x");
    generate(x, false, List.of());
    try (Outputs a = Outputs.begin("generate", false, List.of())) {
      Files.writeString(a.folder("--out", x.resolve("inner")).resolve("Mesh.sv"), "A's");
      String before = TreeHash.of(tmp);
      refused(() -> generate(x, true, List.of()), "another addernet command is writing right now");
      assertEquals(before, TreeHash.of(tmp));
      a.commit();
    }
    assertEquals("A's", Files.readString(x.resolve("inner/Mesh.sv")), "A's output exists after A ended");
  }

  @Test
  void aRunWhoseFolderWasReplacedUnderItReportsAnErrorNotSuccess() throws IOException {
    Path x = Files.createDirectory(tmp.resolve("x"));
    Path run = x.resolve("run");
    try (Outputs a = Outputs.begin("train", false, List.of())) {
      Files.writeString(a.folderInPlace("--out", run, false).resolve("checkpoint.json"), "epoch 1");
      // Another program swaps the folder the run writes in.
      Files.move(x, tmp.resolve("x-moved"));
      Files.createDirectories(run);
      refused(a::commit, "no longer at", run.toString());
    }
  }

  @Test
  void aRunWhoseTemporaryWentWithItsFolderReportsAnErrorNotSuccess() throws IOException {
    Path x = Files.createDirectory(tmp.resolve("x"));
    try (Outputs a = Outputs.begin("generate", false, List.of())) {
      Files.writeString(a.folder("--out", x.resolve("rtl")).resolve("Mesh.sv"), "A's");
      Files.move(x, tmp.resolve("x-moved"));
      Files.createDirectory(x);
      assertThrows(UserError.class, a::commit);
    }
    assertEquals(List.of(), names(x));
  }

  // ---------------------------------------------------------------- 15: kill -9, names

  @Test
  void aLockLeftByAKilledRunIsCleanedByARunOfAnotherOutput() throws Exception {
    Path out = tmp.resolve("rtl");
    Process p = LockHolder.start(out);
    p.destroyForcibly();
    p.waitFor();
    assertEquals(List.of(".rtl.lock", ".rtl.tmp-" + p.pid()), names(tmp));
    generate(tmp.resolve("other"), false, List.of());
    assertEquals(List.of("other"), names(tmp), "the killed run's lock and temporary are gone");
  }

  @Test
  void aLoneLockOfADeadRunIsCleanedByARunBesideIt() throws Exception {
    Leftovers.lock(tmp, "rtl", Leftovers.deadProcess());
    generate(tmp.resolve("other"), false, List.of());
    assertEquals(List.of("other"), names(tmp));
  }

  @Test
  void aNameJavaCouldNotPassFaithfullyIsRefusedByName() throws IOException {
    String before = TreeHash.of(tmp);
    // How the launcher hands over a name with a byte that is not UTF-8.
    refused(() -> generate(tmp.resolve("x\uFFFD"), false, List.of()), "--out", "not valid UTF-8");
    assertEquals(before, TreeHash.of(tmp));
  }

  @Test
  void aCommandLineNameWithInvalidUtf8IsRefusedWithOneErrorLine() throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    // Only a shell can put the raw byte 0xff into an argument; Java strings cannot.
    Process p = new ProcessBuilder("sh", "-c",
        "exec \"$0\" -cp \"$1\" addernet.cli.Main generate --rows 2 --cols 2 --out \"$2/x$(printf '\\377')\"",
        java, System.getProperty("java.class.path"), tmp.toString()).start();
    p.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.waitFor(), err);
    assertTrue(err.startsWith("error: --out ") && err.contains("not valid UTF-8"), err);
    assertEquals(1, err.strip().lines().count(), err);
    assertEquals(List.of(), names(tmp));
  }
}
