package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.PeOp;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** synth on whole accelerators: the MAC twin beside the adder design, and a CNN twin's folder. */
class SynthCommandTest {
  @TempDir Path tmp;

  private final IntNetwork net = RandomNetworks.create(5);
  private final AcceleratorGenerator.Options opt = AcceleratorGenerator.fit(net, 2, 2, 1);

  @Test
  void acceleratorMacTwinAndCnnTwinAreSynthesisedBesideTheAdderDesign() throws IOException {
    Path adder = tmp.resolve("adder");
    Path cnn = tmp.resolve("cnn");
    AcceleratorGenerator.generate(net, opt, adder);
    AcceleratorGenerator.generate(RandomNetworks.withOperation(net, PeOp.MAC), opt, cnn);
    Path report = tmp.resolve("synth.json");
    Outcome o = CliRun.run("synth", "--rtl", adder.toString(), "--target", "generic", "--mac-twin",
        "--twin-rtl", cnn.toString(), "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    JsonNode r = new ObjectMapper().readTree(report.toFile());
    List<String> designs = new ArrayList<>();
    List<Integer> muls = new ArrayList<>();
    for (JsonNode run : r.path("runs")) {
      designs.add(run.path("design").asText());
      muls.add(run.path("multiplier_cells").asInt(-1));
      assertTrue(run.path("modules").has("(total)"), run.toString());
      assertTrue(run.path("modules").has("Requantizer"), run.toString());
    }
    int pes = opt.rows() * opt.cols();
    assertEquals(List.of("adder", "mac twin", "mac cnn"), designs);
    assertEquals(List.of(0, pes, pes), muls);
    assertTrue(o.out().contains("adder/MAC LUTs, (total)"), o.out());
    assertTrue(o.out().contains("adder/MAC vs cnn LUTs, (total)"), o.out());
  }

  @Test
  void cnnTwinOfAnotherArrayShapeIsRefusedBeforeSynthesis() {
    Path adder = tmp.resolve("adder");
    Path cnn = tmp.resolve("cnn");
    AcceleratorGenerator.generate(net, opt, adder);
    AcceleratorGenerator.generate(RandomNetworks.withOperation(net, PeOp.MAC),
        new AcceleratorGenerator.Options(1, opt.cols(), opt.batch()), cnn);
    Outcome o = CliRun.run("synth", "--rtl", adder.toString(), "--twin-rtl", cnn.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("generate both alike"), o.err());
    o = CliRun.run("synth", "--rtl", adder.toString(), "--twin-rtl", adder.toString());
    assertTrue(o.err().contains("has adder PEs"), o.err());
  }
}
