package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.nn.NetworkSpec;
import addernet.train.TinyData;
import addernet.train.TorchPeer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bench train with the PyTorch peer on tiny nets: the peer builds the spec's graph (residual or
 * chain) with the parameter count the spec's layers give by hand, the report carries the peer's
 * figures and ratios, and --profile's table covers every kind of node. Speed is not asserted.
 */
class BenchTrainTest {
  /** 8x8 images padded to 10x10; a stem, an identity block and a strided block with a 1x1 shortcut. */
  static final String RESIDUAL_SPEC = String.join("\n",
      "input 1x10x10",
      "conv adder 1->4 kernel=3 padding=1 name=conv1",
      "batchnorm",
      "relu",
      "block adder 4->4",
      "block adder 4->8 stride=2",
      "avgpool",
      "conv adder 8->3 kernel=1",
      "batchnorm");

  // Written out from the spec: conv weights out*in*k*k, batch norms 2 per channel.
  static final long RESIDUAL_PARAMETERS =
      (4 * 1 * 9 + 2 * 4)                                       // stem
      + (4 * 4 * 9 + 2 * 4 + 4 * 4 * 9 + 2 * 4)                 // block 4->4, identity shortcut
      + (8 * 4 * 9 + 2 * 8 + 8 * 8 * 9 + 2 * 8 + 8 * 4 + 2 * 8) // block 4->8, 1x1 conv shortcut
      + (3 * 8 + 2 * 3);                                        // 1x1 classifier and its batch norm

  static final long CHAIN_PARAMETERS = (3 * 9 + 2 * 3) + (4 * 3 * 9 + 2 * 4) + (3 * 4 + 2 * 3);

  @TempDir Path dir;
  Path data;

  @BeforeEach
  void tinyData() throws IOException {
    data = dir.resolve("data");
    TinyData.writeIdx(data, TinyData.images("train", 200, 1), TinyData.images("test", 50, 2));
  }

  private JsonNode bench(String name, String specText, String... more) throws IOException {
    Path spec = dir.resolve(name + ".spec");
    Files.writeString(spec, specText);
    Path report = dir.resolve(name + ".json");
    String[] base = {"bench", "train", "--model", spec.toString(), "--data", data.toString(),
        "--batch", "8", "--threads", "2", "--warmup-seconds", "0", "--rounds", "1",
        "--round-steps", "2", "--peer", "torch", "--peer-adder-batch", "4", "--report", report.toString()};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    CliRun.Outcome o = CliRun.run(all);
    assertEquals(0, o.code(), o.err());
    return new ObjectMapper().readTree(report.toFile());
  }

  private static void assumeTorch() {
    var missing = TorchPeer.unavailable();
    assumeTrue(missing.isEmpty(), () -> "no torch: " + missing.orElse(""));
  }

  @Test
  void torchPeerTrainsTheResidualGraphWithOurParameterCountAndTheProfileCoversEveryNodeKind()
      throws IOException {
    assumeTorch();
    assertEquals(RESIDUAL_PARAMETERS, NetworkSpec.parse("r", RESIDUAL_SPEC).parameters());
    JsonNode j = bench("tiny-res-adder", RESIDUAL_SPEC, "--profile");
    JsonNode peer = j.get("peer");
    assertEquals(RESIDUAL_PARAMETERS, peer.get("parameters").asLong(), peer.toString());
    assertTrue(peer.get("parameters_equal").asBoolean());
    assertEquals("tiny-res-cnn", peer.get("native_conv").get("model").asText());
    assertEquals(8, peer.get("native_conv").get("batch").asInt());
    assertEquals(4, peer.get("adder_unfold_broadcast").get("batch").asInt());
    assertTrue(peer.get("native_conv").get("images_per_second").asDouble() > 0);
    assertTrue(peer.get("adder_unfold_broadcast").get("images_per_second").asDouble() > 0);
    // One round each: every ratio is exactly the quotient of the two rounds' rates.
    double ours = j.get("results").get(0).get("rounds_images_per_second").get(0).asDouble();
    double cnn = j.get("results").get(1).get("rounds_images_per_second").get(0).asDouble();
    double nat = peer.get("native_conv").get("rounds_images_per_second").get(0).asDouble();
    double add = peer.get("adder_unfold_broadcast").get("rounds_images_per_second").get(0).asDouble();
    JsonNode ratios = peer.get("ratios");
    assertEquals(ours / nat, ratios.get("tiny-res-adder_to_torch_native").asDouble(), 1e-9);
    assertEquals(ours / add, ratios.get("tiny-res-adder_to_torch_adder").asDouble(), 1e-9);
    assertEquals(cnn / nat, ratios.get("tiny-res-cnn_to_torch_native").asDouble(), 1e-9);

    JsonNode profile = j.get("profile");
    assertEquals(2, profile.get("networks").size());
    assertTrue(profile.get("peak").get("adder_giga_per_second").asDouble() > 0);
    JsonNode adderNet = profile.get("networks").get(0);
    assertEquals("tiny-res-adder", adderNet.get("model").asText());
    Set<String> kinds = new HashSet<>();
    double share = 0;
    for (JsonNode row : adderNet.get("rows")) {
      kinds.add(row.get("kind").asText());
      share += row.get("share").asDouble();
      if (row.has("giga_operations_per_second")) {
        assertTrue(row.get("fraction_of_peak").asDouble() > 0, row.toString());
      }
    }
    for (String k : new String[] {"adder conv 3x3", "adder conv 3x3 stride 2", "adder conv 1x1 stride 2",
        "adder conv 1x1", "batchnorm + relu", "batchnorm", "add", "relu", "avgpool", "outside the network"}) {
      assertTrue(kinds.contains(k), k + " missing from " + kinds);
    }
    // The rows partition the timed steps: the network's nodes plus what lies outside them.
    assertEquals(1.0, share, 0.05);
    // The 3x3 stride-1 convs' forward triples per step, output x patch row x position x image:
    // the stem (4 x 9 x 100), the identity block's two 4->4 convs (4 x 36 x 100 each) and the
    // strided block's second conv (8 x 72 x 25, on its 5x5 maps).
    boolean stem = false;
    for (JsonNode row : adderNet.get("rows")) {
      if (row.get("kind").asText().equals("adder conv 3x3") && row.get("phase").asText().equals("forward kernel")) {
        long triples = (4L * 9 * 100 + 2 * 4L * 36 * 100 + 8L * 72 * 25) * 8;
        assertEquals(triples, row.get("operations_per_step").asLong(), row.toString());
        stem = true;
      }
    }
    assertTrue(stem);
  }

  @Test
  void torchPeerTrainsTheChainWithPoolingFlattenAndDenseLayersWithOurParameterCount()
      throws IOException {
    assumeTorch();
    assertEquals(CHAIN_PARAMETERS, NetworkSpec.parse("c", TinyData.ADDER_SPEC).parameters());
    JsonNode j = bench("tiny-adder", TinyData.ADDER_SPEC);
    assertEquals(CHAIN_PARAMETERS, j.get("peer").get("parameters").asLong(), j.get("peer").toString());
    assertTrue(j.get("peer").get("ratios").get("tiny-adder_to_torch_adder").asDouble() > 0);
  }

  @Test
  void aPeerWithAnotherParameterCountIsRefusedNamingBothCounts() {
    NetworkSpec spec = NetworkSpec.parse("tiny-res-adder", RESIDUAL_SPEC);
    TorchPeer.PeerException e = assertThrows(TorchPeer.PeerException.class,
        () -> TorchPeer.requireSameParameters(spec, RESIDUAL_PARAMETERS + 1, "native"));
    assertTrue(e.getMessage().contains(String.format("%,d", RESIDUAL_PARAMETERS + 1))
        && e.getMessage().contains(String.format("%,d", RESIDUAL_PARAMETERS))
        && e.getMessage().contains("not comparing different networks"), e.getMessage());
    TorchPeer.requireSameParameters(spec, RESIDUAL_PARAMETERS, "native");
  }

  @Test
  void theGraphSentToThePeerNamesEveryNodeAndWhatItReads() {
    NetworkSpec spec = NetworkSpec.parse("tiny-res-adder", RESIDUAL_SPEC);
    JsonNode g = TorchPeer.graph(spec);
    JsonNode nodes = g.get("nodes");
    assertEquals(spec.layers().size(), nodes.size());
    int adds = 0;
    for (int i = 0; i < nodes.size(); i++) {
      JsonNode n = nodes.get(i);
      for (JsonNode in : n.get("inputs")) {
        assertTrue(in.asInt() < i, "node " + i + " reads a later node: " + n);
      }
      if (n.get("kind").asText().equals("add")) {
        adds++;
        assertEquals(2, n.get("inputs").size(), n.toString());
      }
    }
    assertEquals(2, adds);
    assertEquals(-1, nodes.get(0).get("inputs").get(0).asInt());
    assertEquals(10, g.get("input").get(2).asInt());
  }
}
