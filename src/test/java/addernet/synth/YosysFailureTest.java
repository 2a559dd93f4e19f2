package addernet.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.Main;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.PeOp;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YosysFailureTest {
  @TempDir Path tmp;

  private record Outcome(int code, String out, String err) {}

  private static Outcome cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void synthesisWorksInAFolderWhosePathHasSpaces() throws Exception {
    Path rtl = Files.createDirectories(tmp.resolve("my designs")).resolve("array 2x2");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), rtl);
    var m = ArrayGenerator.read(rtl);
    Map<String, Map<String, Integer>> cells =
        Yosys.cellsPerModule(rtl, m.sources(), m.top(), Yosys.Target.GENERIC);
    assertTrue(cells.containsKey("PE"), cells.toString());
    assertTrue(Resources.of(cells.get("(total)")).flipFlops() > 0, cells.toString());
  }

  @Test
  void corruptVerilogIsOneLineNamingYosysItsErrorAndItsLog() throws Exception {
    Path rtl = tmp.resolve("bad rtl");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), rtl);
    Files.writeString(rtl.resolve("PE.sv"), "module broken(;\n", StandardOpenOption.APPEND);
    Outcome o = cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr");
    assertEquals(2, o.code(), o.err());
    String line = o.err().strip();
    assertFalse(line.contains("\n"), line);
    assertTrue(line.startsWith("error: yosys failed (exit status 1); last lines: "), line);
    assertTrue(line.contains("PE.sv:") && line.contains("syntax error"), line);
    Path log = Path.of(line.substring(line.indexOf("full log: ") + "full log: ".length()));
    assertTrue(Files.readString(log).contains("syntax error"), "the log holds yosys's output");
    Files.delete(log);
  }

  @Test
  void nullSourcesInArrayJsonIsOneLineNamingTheField() throws Exception {
    Path rtl = tmp.resolve("rtl");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), rtl);
    Path json = rtl.resolve(ArrayGenerator.CONFIG_FILE);
    Files.writeString(json, Files.readString(json).replaceFirst("\"sources\" : \\[[^]]*]", "\"sources\" : null"));
    Outcome o = cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr");
    assertEquals(2, o.code(), o.err());
    assertEquals("error: " + json + ": field sources must be a list of file names in " + rtl + ", got null",
        o.err().strip());
  }

  @Test
  void sourcesOutsideTheRtlFolderAreRefused() throws Exception {
    Path rtl = tmp.resolve("rtl");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), rtl);
    Path json = rtl.resolve(ArrayGenerator.CONFIG_FILE);
    Files.writeString(json, Files.readString(json).replaceFirst("\"sources\" : \\[[^]]*]",
        "\"sources\" : [ \"../../etc/passwd\" ]"));
    Outcome o = cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr");
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().startsWith("error: " + json + ": field sources must be plain file names inside"), o.err());
  }
}
