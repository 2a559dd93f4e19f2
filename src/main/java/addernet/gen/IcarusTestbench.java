package addernet.gen;

import addernet.hw.AccelConfig;
import addernet.quant.IntNetwork;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes {@code tb/} into a generated accelerator folder: a self-checking SystemVerilog testbench
 * for another simulator than Verilator (Icarus Verilog, {@code tb/run-icarus}), with golden
 * vectors from the Java integer reference. It drives the ports exactly as docs/accelerator.md
 * states them, with random stalls on every stream, so it is also a worked example for users who
 * write their own testbench.
 */
public final class IcarusTestbench {
  public static final String DIR = "tb";
  public static final String RUN = "run-icarus";
  /** Batches of golden images: the second one checks that a run after a run is exact. */
  static final int BATCHES = 2;
  static final int STALL_PERCENT = 30;
  static final long SEED = 1;

  private IcarusTestbench() {}

  /**
   * {@link #BATCHES} batches of images: a package's golden images, repeated from the first when
   * there are fewer; without them, pseudo-random pixels (seed {@link #SEED}).
   */
  static int[][] images(IntNetwork net, int batch, int[][] golden) {
    int[][] images = new int[BATCHES * batch][];
    if (golden != null && golden.length > 0) {
      for (int i = 0; i < images.length; i++) {
        images[i] = golden[i % golden.length];
      }
      return images;
    }
    SplittableRandom rnd = new SplittableRandom(SEED);
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    for (int i = 0; i < images.length; i++) {
      images[i] = new int[size];
      for (int p = 0; p < size; p++) {
        images[i][p] = rnd.nextInt(256);
      }
    }
    return images;
  }

  static void write(Path dir, AccelConfig cfg, IntNetwork net, List<String> sources, int[] weightBeats,
      int[][] golden) throws IOException {
    Path tb = dir.resolve(DIR);
    Files.createDirectories(tb);
    int[][] images = images(net, cfg.batch(), golden);
    StringBuilder pixels = new StringBuilder();
    StringBuilder logits = new StringBuilder();
    for (int[] img : images) {
      for (int p : img) {
        pixels.append(String.format("%02x%n", p));
      }
      for (int l : net.logits(img)) {
        logits.append(String.format("%08x%n", l));
      }
    }
    Files.writeString(tb.resolve("pixels.hex"), pixels);
    Files.writeString(tb.resolve("logits.hex"), logits);
    boolean stream = cfg.weightStream();
    if (stream) {
      StringBuilder w = new StringBuilder();
      for (int b : weightBeats) {
        w.append(String.format("%04x%n", b));
      }
      Files.writeString(tb.resolve("weights.hex"), w);
    }
    Files.writeString(tb.resolve("tb_accelerator.sv"), testbench(cfg, images.length, images[0].length,
        net.classes(), stream ? weightBeats.length : 0));
    Path run = tb.resolve(RUN);
    Files.writeString(run, script(sources));
    try {
      Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (UnsupportedOperationException e) {
      // a file system without POSIX permissions: run it with bash
    }
  }

  private static String script(List<String> sources) {
    return """
        #!/usr/bin/env bash
        # Runs tb/tb_accelerator.sv on Icarus Verilog (Debian: iverilog) against the golden vectors
        # in tb/: prints PASS, or the first mismatch and exits 1; exits 2 if it cannot run.
        # $readmemh paths are relative to the folder generate wrote, so it runs from there.
        set -uo pipefail
        cd "$(dirname "$0")/.." || exit 2
        command -v iverilog >/dev/null 2>&1 || { echo "run-icarus: iverilog not found (Debian package iverilog)" >&2; exit 2; }
        work=$(mktemp -d) || exit 2
        trap 'rm -rf "$work"' EXIT
        if ! iverilog -g2012 -o "$work/tb" -s tb_accelerator tb/tb_accelerator.sv %s 2> "$work/iverilog.log"; then
          cat "$work/iverilog.log" >&2
          exit 2
        fi
        vvp -n "$work/tb" > "$work/run.log" 2>&1
        cat "$work/run.log"
        grep -q '^PASS' "$work/run.log" && exit 0
        exit 1
        """.formatted(String.join(" ", sources));
  }

  private static String testbench(AccelConfig cfg, int images, int pixels, int classes, int beats) {
    boolean stream = beats > 0;
    String weightPorts = stream
        ? """
              .load_weights(load_weights), .s_axis_weights_tdata(w_tdata),
              .s_axis_weights_tvalid(w_tvalid), .s_axis_weights_tready(w_tready),
              .s_axis_weights_tlast(w_tlast), .error(error),
          """
        : "";
    String weightLoad = stream
        ? """
              // Weights first (docs/accelerator.md, "Weights at run time"): load_weights, then
              // every beat with stalls, tlast on the last; error must stay 0.
              @(negedge clock) load_weights = 1;
              @(negedge clock) load_weights = 0;
              sent = 0;
              while (sent < BEATS) begin
                w_tvalid = ($urandom(seed) % 100) >= STALL;
                w_tdata = weights[sent];
                w_tlast = sent == BEATS - 1;
                #1 if (w_tvalid && w_tready) sent = sent + 1;
                @(negedge clock);
              end
              w_tvalid = 0;
              w_tlast = 0;
              wait_idle(1000);
              if (error !== 0) begin
                $display("FAIL: the weight load ended with error %0d", error);
                $finish;
              end
          """
        : "";
    return """
        // Self-checking testbench written by addernet generate for this folder's Accelerator.
        // %d images in batches of %d, %d pixels each, %d logits each; %d%% random stalls on every
        // stream. Prints PASS, or FAIL with the first mismatch (tb/run-icarus runs it).
        `timescale 1ns/1ps
        module tb_accelerator;
          localparam integer IMAGES = %d;
          localparam integer BATCH = %d;
          localparam integer PIXELS = %d;
          localparam integer CLASSES = %d;
          localparam integer BEATS = %d;
          localparam integer STALL = %d;

          reg clock = 0;
          reg reset = 1;
          always #5 clock = ~clock;

          reg start = 0;
          reg [7:0] s_tdata = 0;
          reg s_tvalid = 0;
          wire s_tready;
          wire [31:0] m_tdata;
          wire m_tvalid, m_tlast;
          reg m_tready = 0;
          wire busy, done;
          wire [31:0] cycles;
          reg load_weights = 0;
          reg [%d:0] w_tdata = 0;
          reg w_tvalid = 0, w_tlast = 0;
          wire w_tready;
          wire [1:0] error;

          Accelerator dut (
              .clock(clock), .reset(reset), .start(start), .busy(busy), .done(done), .cycles(cycles),
              .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
        %s      .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready),
              .m_axis_tlast(m_tlast));

          reg [7:0] pixels [0:IMAGES*PIXELS-1];
          reg [31:0] logits [0:IMAGES*CLASSES-1];
          reg [15:0] weights [0:(BEATS > 0 ? BEATS : 1)-1];
          integer seed = 1;
          integer sent, got, image, batch, waited;

          task wait_idle(input integer limit);
            begin
              waited = 0;
              while (busy && waited < limit) begin
                @(negedge clock);
                waited = waited + 1;
              end
              if (busy) begin
                $display("FAIL: still busy %%0d cycles after the last transfer", limit);
                $finish;
              end
            end
          endtask

          initial begin
            $readmemh("tb/pixels.hex", pixels);
            $readmemh("tb/logits.hex", logits);
            if (BEATS > 0) $readmemh("tb/weights.hex", weights);
            // Synchronous, active-high reset for a few cycles; inputs change on falling edges.
            repeat (3) @(negedge clock);
            reset = 0;
        %s
            for (batch = 0; batch < IMAGES / BATCH; batch = batch + 1) begin
              @(negedge clock) start = 1;
              @(negedge clock) start = 0;
              sent = 0;
              got = 0;
              waited = 0;
              while (got < BATCH * CLASSES) begin
                s_tvalid = sent < BATCH * PIXELS && ($urandom(seed) %% 100) >= STALL;
                s_tdata = s_tvalid ? pixels[batch * BATCH * PIXELS + sent] : 8'h00;
                m_tready = ($urandom(seed) %% 100) >= STALL;
                // A transfer happens at the next rising edge when valid and ready are both high.
                #1;
                if (s_tvalid && s_tready) sent = sent + 1;
                if (m_tvalid && m_tready) begin
                  image = batch * BATCH + got / CLASSES;
                  if (m_tdata !== logits[image * CLASSES + got %% CLASSES]) begin
                    $display("FAIL: image %%0d class %%0d: expected %%0d, got %%0d", image, got %% CLASSES,
                        $signed(logits[image * CLASSES + got %% CLASSES]), $signed(m_tdata));
                    $finish;
                  end
                  if (m_tlast !== (got %% CLASSES == CLASSES - 1)) begin
                    $display("FAIL: image %%0d class %%0d: tlast %%0d", image, got %% CLASSES, m_tlast);
                    $finish;
                  end
                  got = got + 1;
                end
                @(negedge clock);
                waited = waited + 1;
                if (waited > 100000000) begin
                  $display("FAIL: batch %%0d: %%0d of %%0d logits after %%0d cycles", batch, got,
                      BATCH * CLASSES, waited);
                  $finish;
                end
              end
              s_tvalid = 0;
              m_tready = 0;
              wait_idle(100);
              $display("batch %%0d: %%0d logits match, %%0d cycles", batch, got, cycles);
            end
            $display("PASS: %%0d images, %%0d logits match the Java integer reference", IMAGES,
                IMAGES * CLASSES);
            $finish;
          end
        endmodule
        """.formatted(images, cfg.batch(), pixels, classes, STALL_PERCENT,
            images, cfg.batch(), pixels, classes, beats, STALL_PERCENT,
            cfg.weightStreamBits() - 1, weightPorts, weightLoad);
  }
}
