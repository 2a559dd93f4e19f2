package addernet.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.PeOp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YosysFailureTest {
  @TempDir Path tmp;

  private static CliRun.Outcome cli(String... args) {
    return CliRun.run(args);
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
    addernet.gen.FolderFiles.record(rtl, ArrayGenerator.CONFIG_FILE); // as a faulty generator wrote it
    CliRun.Outcome o = cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr");
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
    CliRun.Outcome o = cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr");
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
    CliRun.Outcome o = cli("synth", "--rtl", rtl.toString(), "--target", "generic", "--no-pnr");
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().startsWith("error: " + json + ": field sources must be plain file names inside"), o.err());
  }
}
