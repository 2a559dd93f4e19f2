package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** synth --target ice40 places and routes with the folder's own flow and reports the clock. */
class SynthPlaceAndRouteTest {
  @TempDir Path tmp;

  @Test
  void aSmallArrayIsPlacedOnTheSmallestPartAndYieldsABitstream() throws IOException {
    Path rtl = tmp.resolve("a2x2");
    assertEquals(0, CliRun.run("generate", "--rows", "2", "--cols", "2", "--out", rtl.toString()).code());
    Path report = tmp.resolve("synth.json");
    CliRun.Outcome o =
        CliRun.run("synth", "--rtl", rtl.toString(), "--target", "ice40", "--report", report.toString());
    assertEquals(0, o.code(), o.out() + o.err());
    JsonNode lutOnly = new ObjectMapper().readTree(report.toFile()).path("runs").get(0);
    JsonNode pnr = lutOnly.path("pnr");
    assertEquals("hx1k", pnr.path("device").asText(), lutOnly.toString());
    // nextpnr fails the run when the constraint is missed, so a report means it was met.
    assertTrue(pnr.path("fmax_mhz").asDouble() >= pnr.path("target_mhz").asDouble(), pnr.toString());
    assertTrue(pnr.path("utilisation").path("ICESTORM_LC").path("used").asInt()
        >= lutOnly.path("modules").path("(total)").path("luts").asInt() / 2, pnr.toString());
    byte[] bits = Files.readAllBytes(Path.of(pnr.path("bitstream").asText()));
    // An iCE40 configuration image opens (after an optional comment) with the synchronisation
    // word 7E AA 99 7E, and holds far more than a header.
    int sync = -1;
    for (int i = 0; i + 3 < Math.min(bits.length, 256) && sync < 0; i++) {
      if ((bits[i] & 0xff) == 0x7e && (bits[i + 1] & 0xff) == 0xaa && (bits[i + 2] & 0xff) == 0x99
          && (bits[i + 3] & 0xff) == 0x7e) {
        sync = i;
      }
    }
    assertTrue(sync >= 0, "no iCE40 sync word in the bitstream's first 256 bytes");
    assertTrue(bits.length > 30_000, "a whole hx1k image is about 32 KB, got " + bits.length);
  }

  @Test
  void anUnknownPartIsRefusedBeforeSynthesis() {
    Path rtl = tmp.resolve("a1x1");
    assertEquals(0, CliRun.run("generate", "--rows", "1", "--cols", "1", "--out", rtl.toString()).code());
    CliRun.Outcome o = CliRun.run("synth", "--rtl", rtl.toString(), "--device", "hx4k");
    assertEquals(2, o.code());
    assertTrue(o.err().contains("--device must be auto or one of hx1k, up5k, hx8k"), o.err());
  }
}
