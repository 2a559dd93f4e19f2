package addernet.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExternalToolTest {
  @Test
  void aFailingToolIsOneLineWithItsStatusLastLinesAndKeptLog() throws Exception {
    List<String> cmd = List.of("sh", "-c", "echo one; echo two; echo three >&2; exit 3");
    ToolFailure f = assertThrows(ToolFailure.class, () -> ExternalTool.require(cmd, null, 1, null));
    assertEquals("sh", f.tool());
    assertTrue(f.getMessage().startsWith("sh failed (exit status 3); last lines: one | two | three; full log: "),
        f.getMessage());
    assertFalse(f.getMessage().contains("\n"));
    assertTrue(Files.readString(f.log()).contains("three"), "the log keeps stderr too");
    Files.delete(f.log());
  }

  @Test
  void aToolKilledBySignalIsReportedWithTheSignalsName() {
    ToolFailure f = assertThrows(ToolFailure.class,
        () -> ExternalTool.require(List.of("sh", "-c", "kill -SEGV $$"), null, 1, null));
    assertTrue(f.getMessage().contains("killed by signal 11 (SIGSEGV)"), f.getMessage());
  }

  @Test
  void aSucceedingToolLeavesNoLogBehind() {
    ExternalTool.Result r = ExternalTool.run(List.of("sh", "-c", "echo fine"), null, 1);
    assertEquals(0, r.code());
    assertEquals("fine\n", r.output());
    assertEquals(null, r.log());
  }

  @Test
  void aMissingToolNamesItsDebianPackageAndTheSetupScript() {
    UserError e = assertThrows(UserError.class,
        () -> ExternalTool.find("nextpnr-ice40-not-here", "nextpnr-ice40"));
    assertEquals("nextpnr-ice40-not-here is not installed (not found on PATH); it is in Debian's"
        + " nextpnr-ice40 package, which scripts/setup installs", e.getMessage());
  }
}
