package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which --model values count as inputs that an output may not overwrite (docs/outputs.md). */
class CliInputsTest {
  @TempDir Path dir;

  @Test
  void aFolderNamedLikeAShippedModelIsNotASpecInputButAPackageFolderIsAnInput() throws Exception {
    // A training's --out folder called resnet20-adder beside `--model resnet20-adder`: the spec
    // comes from the shipped name, so the folder must not be taken for the spec and refused.
    Path folder = Files.createDirectory(dir.resolve("resnet20-adder"));
    assertNull(CliInputs.specFile(folder.toString()));
    assertEquals(folder, CliInputs.existing(folder.toString()));
  }

  @Test
  void aSpecFileIsAnInputAndAMissingOneIsNot() throws Exception {
    Path spec = Files.writeString(dir.resolve("net.spec"), "input 1x28x28\n");
    assertEquals(spec, CliInputs.specFile(spec.toString()));
    assertNull(CliInputs.specFile(dir.resolve("absent.spec").toString()));
  }
}
