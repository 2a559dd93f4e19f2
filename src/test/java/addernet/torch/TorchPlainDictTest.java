package addernet.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code torch.save(dict(model.state_dict()), FILE)}, written by PyTorch itself: a plain dict, which
 * {@code torch.load} reads in the file's order, imports in that order too. Runs when Debian's
 * python3-torch is installed; skipped otherwise.
 */
class TorchPlainDictTest {
  @TempDir Path dir;

  @Test
  void aPlainDictSavedByPyTorchImportsInItsOrder() throws Exception {
    assumeTrue(TorchCrossCheckTest.torchAvailable(), "skipping: /usr/bin/python3 -c 'import torch' failed"
        + " (Debian's python3-torch is not installed; scripts/setup --torch installs it)");
    Path pt = dir.resolve("plain.pt");
    Process p = new ProcessBuilder(TorchCrossCheckTest.PYTHON.toString(), "-c", String.join("\n",
        "import json, sys, torch, torch.nn as nn",
        "torch.manual_seed(1)",
        "m = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),",
        "                  nn.Linear(8, 3, bias=False), nn.BatchNorm1d(3))",
        "sd = dict(m.state_dict())",
        "torch.save(sd, sys.argv[1])",
        "print(json.dumps(list(torch.load(sys.argv[1]).keys())))"), pt.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python did not finish");
    assertEquals(0, p.exitValue(), out);
    List<?> torchOrder = new ObjectMapper().readValue(out, List.class);

    assertEquals(torchOrder, List.copyOf(StateDictReader.read(pt).keySet()));
    Path spec = dir.resolve("tiny.spec");
    Files.writeString(spec, String.join("\n", "input 1x4x4", "conv multiply 1->2 kernel=3", "batchnorm", "relu",
        "flatten", "fc multiply 8->3", "batchnorm"));
    Cli.Outcome r = Cli.run("import", "--torch", pt.toString(), "--model", spec.toString(), "--out",
        dir.resolve("ck").toString(), "--normalize", "0.2,0.3", "--data", dir.resolve("none").toString());
    assertEquals(0, r.code(), r.err());
  }
}
