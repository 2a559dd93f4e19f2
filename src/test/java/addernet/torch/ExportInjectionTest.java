package addernet.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.data.Normalization;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python file that {@code export} writes carries the network's name, the checkpoint folder's
 * and the state_dict's file name only as escaped string literals: names that would end a comment,
 * docstring or string there are data, and importing the file runs none of them.
 */
class ExportInjectionTest {
  private static final String SPEC = "input 1x4x4\nflatten\nfc multiply 16->3\nbatchnorm";
  // Each name would end the line, docstring or string it used to stand in, and then write a file.
  private static final String NETWORK = "x\"\"\"; open('pwned-name', 'w'); \"\"\"";
  private static final String FOLDER = "ck\nopen('pwned-folder', 'w')\n#\"\"\"";
  private static final String OUT = "sd\"\"\")); open('pwned-out', 'w'); ((\"\"\".pt";

  @TempDir Path dir;

  private Path checkpoint() throws IOException {
    Network net = Network.build(NetworkSpec.parse(NETWORK, SPEC), 3);
    Path ck = dir.resolve(FOLDER);
    new Checkpoint(net, new Normalization(0.25, 0.5), 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    return ck;
  }

  private Path export() throws IOException {
    Path ck = checkpoint();
    Path py = dir.resolve("exported.py");
    Cli.Outcome r = Cli.run("export", "--checkpoint", ck.toString(), "--out", dir.resolve(OUT).toString(), "--python",
        py.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(Files.exists(dir.resolve(OUT)));
    return py;
  }

  private static boolean pythonAvailable() {
    return Files.isExecutable(TorchCrossCheckTest.PYTHON);
  }

  private String python(String script, String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>(List.of(TorchCrossCheckTest.PYTHON.toString(), "-c", script));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python did not finish");
    assertEquals(0, p.exitValue(), out);
    return out.strip();
  }

  private void assertNothingRan() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("pwned")).toList());
    }
  }

  @Test
  void theGeneratedPythonIsOneDocstringImportsAssignmentsAndBuild() throws Exception {
    assumeTrue(pythonAvailable(), "no /usr/bin/python3");
    Path py = export();
    // Parsing runs nothing; its top-level statements show whether a name became code.
    String kinds = python("import ast, sys\n"
        + "t = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n"
        + "print(' '.join(type(n).__name__ + (':' + n.targets[0].id if isinstance(n, ast.Assign) else '')"
        + " for n in t.body))", py.toString());
    assertEquals("Expr Import Import Assign:NAME Assign:SOURCE Assign:STATE_DICT Assign:MEAN Assign:STD FunctionDef",
        kinds);
    String values = python("import ast, json, sys\n"
        + "t = ast.parse(open(sys.argv[1], encoding='utf-8').read())\n"
        + "print(json.dumps({n.targets[0].id: ast.literal_eval(n.value) for n in t.body"
        + " if isinstance(n, ast.Assign) and n.targets[0].id in ('NAME', 'SOURCE', 'STATE_DICT')}))", py.toString());
    Map<?, ?> got = new ObjectMapper().readValue(values, Map.class);
    assertEquals(NETWORK, got.get("NAME"));
    assertTrue(((String) got.get("SOURCE")).endsWith(FOLDER), values);
    assertEquals(OUT, got.get("STATE_DICT"));
    assertNothingRan();
  }

  @Test
  void importingTheGeneratedPythonRunsNoName() throws Exception {
    assumeTrue(pythonAvailable() && TorchCrossCheckTest.torchAvailable(),
        "skipping: /usr/bin/python3 -c 'import torch' failed (Debian's python3-torch is not installed)");
    Path py = export();
    String out = python("import importlib.util, json, sys\n"
        + "spec = importlib.util.spec_from_file_location('exported', sys.argv[1])\n"
        + "m = importlib.util.module_from_spec(spec)\n"
        + "spec.loader.exec_module(m)\n"
        + "print(json.dumps([m.NAME, m.STATE_DICT]))", py.toString());
    assertNothingRan();
    assertEquals(List.of(NETWORK, OUT), new ObjectMapper().readValue(out.lines().reduce((a, b) -> b).orElse(""),
        List.class));
  }

  @Test
  void exportRefusesAnOutWithoutTheStateDictExtensionAndWritesNothing() throws IOException {
    Path ck = checkpoint();
    for (String out : List.of("afolder", "net.py", ".pt")) {
      Cli.Outcome r = Cli.run("export", "--checkpoint", ck.toString(), "--out", dir.resolve(out).toString());
      assertEquals(2, r.code(), r.err());
      List<String> lines = r.err().strip().lines().toList();
      assertEquals(1, lines.size(), r.err());
      assertTrue(lines.get(0).startsWith("error: --out ") && lines.get(0).contains(".pt or .pth"), r.err());
    }
    assertFalse(Files.exists(dir.resolve("afolder")));
    assertFalse(Files.exists(dir.resolve("afolder.py")));
    assertFalse(Files.exists(dir.resolve("net_.py")));
  }

  @Test
  void exportRefusesAPythonFileWithoutThePyExtension() throws IOException {
    Path ck = checkpoint();
    Cli.Outcome r = Cli.run("export", "--checkpoint", ck.toString(), "--out", dir.resolve("n.pt").toString(), "--python",
        dir.resolve("n.txt").toString());
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().startsWith("error: --python ") && r.err().contains("ending in .py"), r.err());
    assertFalse(Files.exists(dir.resolve("n.pt")));
  }

  @Test
  void pythonStringLiteralsEscapeEverythingButPrintableAscii() {
    assertEquals("\"a\\\"b\\\\c\\x0ad\\x85e\\u2028f\\U0001f600\"",
        TorchExport.pythonString("a\"b\\c\nd\u0085e\u2028f😀"));
  }
}
