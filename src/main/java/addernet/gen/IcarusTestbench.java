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
      int[][] golden, long networkId) throws IOException {
    write(dir, cfg, net, sources, weightBeats, golden, networkId, null);
  }

  /**
   * As {@link #write(Path, AccelConfig, IntNetwork, List, int[], int[][], long)}; with {@code
   * uartDivisor} non-null the folder is a board folder (docs/board.md) and the testbench speaks to
   * its shell over the UART.
   */
  static void write(Path dir, AccelConfig cfg, IntNetwork net, List<String> sources, int[] weightBeats,
      int[][] golden, long networkId, Integer uartDivisor) throws IOException {
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
    Files.writeString(tb.resolve("tb_accelerator.sv"), lintClean(uartDivisor != null
        ? boardTestbench(cfg, images.length, images[0].length, net.classes(), weightBeats.length, uartDivisor)
        : withTracePins(cfg, cfg.axiControl()
        ? axiTestbench(cfg, images.length, images[0].length, net.classes(),
            stream ? weightBeats.length : 0, weightBeats, networkId)
        : testbench(cfg, images.length, images[0].length, net.classes(), stream ? weightBeats.length : 0)))
        // weights.hex holds 16-bit beats; the port is as wide as a beat.
        .replace("w_tdata = weights[sent];", "w_tdata = weights[sent][" + (cfg.weightStreamBits() - 1) + ":0];"));
    Path run = tb.resolve(RUN);
    Files.writeString(run, script(sources, uartDivisor != null ? "-DADDERNET_UART_DIVISOR=" + FAST_UART_DIVISOR + " " : ""));
    try {
      Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (UnsupportedOperationException e) {
      // a file system without POSIX permissions: run it with bash
    }
  }

  /**
   * Connects the trace port's pins (docs/accelerator.md, "Ports"), which the testbench does not
   * check, to wires, so that every pin of the design is connected.
   */
  static String withTracePins(AccelConfig cfg, String tb) {
    if (!cfg.trace()) {
      return tb;
    }
    StringBuilder decls = new StringBuilder("  // The trace port, connected and not checked here.\n");
    StringBuilder pins = new StringBuilder();
    for (int q = 0; q < cfg.requantizers(); q++) {
      String t = "trace_" + q + "_";
      decls.append("  wire ").append(t).append("valid;\n")
          .append("  wire [").append(cfg.layerBits() - 1).append(":0] ").append(t).append("bits_layer;\n")
          .append("  wire [").append(cfg.laneBits() - 1).append(":0] ").append(t).append("bits_lane;\n")
          .append("  wire [").append(cfg.addrBits() - 1).append(":0] ").append(t).append("bits_addr;\n")
          .append("  wire [31:0] ").append(t).append("bits_data;\n");
      for (String f : new String[] {"valid", "bits_layer", "bits_lane", "bits_addr", "bits_data"}) {
        pins.append(", .").append(t).append(f).append('(').append(t).append(f).append(')');
      }
    }
    String top = cfg.axiControl() ? "  AcceleratorAxi dut (" : "  Accelerator dut (";
    String end = ".m_axis_tlast(m_tlast));";
    if (!tb.contains(top) || !tb.contains(end)) {
      throw new IllegalStateException("the testbench's instance is not where the trace pins go");
    }
    return tb.replace(top, decls + "\n" + top).replace(end, ".m_axis_tlast(m_tlast)" + pins + ");");
  }

  /**
   * Verilator's -Wall reads a testbench as it reads a design; these three are a testbench's
   * ordinary style (a clock and stimulus assigned with = in timed processes; signals and constants
   * that a configuration without weight streaming or with LEDs leaves unread), so they are off for
   * the testbench's own lines only, and the design's files are linted in full.
   */
  static String lintClean(String tb) {
    String head = "`timescale 1ns/1ps\n";
    if (!tb.contains(head)) {
      throw new IllegalStateException("the testbench has no timescale line");
    }
    String on = "/* verilator lint_on BLKSEQ */\n/* verilator lint_on UNUSEDSIGNAL */\n"
        + "/* verilator lint_on UNUSEDPARAM */\n";
    return tb.replace(head, head + on.replace("lint_on", "lint_off")) + on;
  }

  /** The UART's clocks per bit in a board folder's run-icarus: accel.json's simUartDivisor. */
  static final int FAST_UART_DIVISOR = AcceleratorGenerator.SIM_UART_DIVISOR;

  private static String script(List<String> sources, String defines) {
    return """
        #!/usr/bin/env bash
        # Runs tb/tb_accelerator.sv on Icarus Verilog (Debian: iverilog) against the golden vectors
        # in tb/: prints PASS, or the first mismatch and exits 1; exits 2 if it cannot run.
        # $readmemh paths are relative to the folder generate wrote, so it runs from there.
        # Icarus prints "sorry: constant selects in always_* processes ..." for Requantizer.sv: it
        # then reads all bits of the vector where the design reads some, which changes nothing.
        set -uo pipefail
        cd "$(dirname "$0")/.." || exit 2
        command -v iverilog >/dev/null 2>&1 || { echo "run-icarus: iverilog not found (Debian package iverilog)" >&2; exit 2; }
        work=$(mktemp -d) || exit 2
        trap 'rm -rf "$work"' EXIT
        if ! iverilog -g2012 %s-o "$work/tb" -s tb_accelerator tb/tb_accelerator.sv %s 2> "$work/iverilog.log"; then
          cat "$work/iverilog.log" >&2
          exit 2
        fi
        vvp -n "$work/tb" > "$work/run.log" 2>&1
        cat "$work/run.log"
        grep -q '^PASS' "$work/run.log" && exit 0
        exit 1
        """.formatted(defines, String.join(" ", sources));
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
              %s
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
            cfg.weightStreamBits() - 1, weightPorts, weightLoad, streams("batch"));
  }

  /**
   * The testbench of an AcceleratorAxi folder: the same golden check, with every command, status
   * poll and check through AXI4-Lite register accesses as docs/accelerator.md ("Registers") states
   * them, the sequence the C driver follows.
   */
  private static String axiTestbench(AccelConfig cfg, int images, int pixels, int classes, int beats,
      int[] weightBeats, long networkId) {
    boolean stream = beats > 0;
    long crc = stream ? DriverFiles.crc32(weightBeats, cfg.weightStreamBits() / 8) : addernet.hw.ControlMap.weightsCrc(cfg);
    String weightPorts = stream
        ? """
              .s_axis_weights_tdata(w_tdata), .s_axis_weights_tvalid(w_tvalid),
              .s_axis_weights_tready(w_tready), .s_axis_weights_tlast(w_tlast),
          """
        : "";
    String weightLoad = stream
        ? """
              // Weights first (docs/accelerator.md, "Weights at run time"): LOAD_WEIGHTS, every
              // beat with stalls, tlast on the last; then LOADING falls, ERROR is 0 and WEIGHTS_CRC
              // is the CRC-32 of the beats.
              axi_write(REG_CONTROL, CONTROL_LOAD_WEIGHTS);
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
              poll_status(STATUS_LOADING, 0, 1000);
              expect_reg(REG_ERROR, 0, "ERROR after the weight load");
          """
        : "";
    return """
        // Self-checking testbench written by addernet generate for this folder's AcceleratorAxi.
        // %1$d images in runs of %2$d, %3$d pixels each, %4$d logits each; %6$d%% random stalls on
        // every stream; control and status through AXI4-Lite only. Prints PASS, or FAIL with the
        // first mismatch (tb/run-icarus runs it).
        `timescale 1ns/1ps
        module tb_accelerator;
          localparam integer IMAGES = %1$d;
          localparam integer BATCH = %2$d;
          localparam integer PIXELS = %3$d;
          localparam integer CLASSES = %4$d;
          localparam integer BEATS = %5$d;
          localparam integer STALL = %6$d;
          // The register map (docs/accelerator.md, "Registers"; driver/addernet_regs.h)
          localparam [7:0] REG_CONTROL = 8'h%8$02x, REG_STATUS = 8'h%9$02x, REG_ERROR = 8'h%10$02x,
              REG_IMAGES = 8'h%11$02x, REG_CYCLES = 8'h%12$02x, REG_IDENT = 8'h%13$02x,
              REG_NETWORK_ID = 8'h%14$02x, REG_WEIGHTS_CRC = 8'h%15$02x;
          localparam [31:0] CONTROL_START = 32'h1, CONTROL_LOAD_WEIGHTS = 32'h4;
          localparam [31:0] STATUS_DONE = 32'h2, STATUS_LOADING = 32'h4;
          localparam [31:0] IDENT = 32'h%16$08x, NETWORK_ID = 32'h%17$08x, WEIGHTS_CRC = 32'h%18$08x;

          reg clock = 0;
          reg reset = 1;
          always #5 clock = ~clock;

          reg [7:0] awaddr = 0, araddr = 0;
          reg awvalid = 0, wvalid = 0, bready = 0, arvalid = 0, rready = 0;
          reg [31:0] wdata = 0;
          wire awready, wready, bvalid, arready, rvalid, irq;
          wire [1:0] bresp, rresp;
          wire [31:0] rdata;
          reg [7:0] s_tdata = 0;
          reg s_tvalid = 0;
          wire s_tready;
          wire [31:0] m_tdata;
          wire m_tvalid, m_tlast;
          reg m_tready = 0;
          reg [%7$d:0] w_tdata = 0;
          reg w_tvalid = 0, w_tlast = 0;
          wire w_tready;

          AcceleratorAxi dut (
              .clock(clock), .reset(reset),
              .s_axi_awaddr(awaddr), .s_axi_awvalid(awvalid), .s_axi_awready(awready),
              .s_axi_wdata(wdata), .s_axi_wstrb(4'hf), .s_axi_wvalid(wvalid), .s_axi_wready(wready),
              .s_axi_bresp(bresp), .s_axi_bvalid(bvalid), .s_axi_bready(bready),
              .s_axi_araddr(araddr), .s_axi_arvalid(arvalid), .s_axi_arready(arready),
              .s_axi_rdata(rdata), .s_axi_rresp(rresp), .s_axi_rvalid(rvalid), .s_axi_rready(rready),
              .irq(irq),
              .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
        %19$s      .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready),
              .m_axis_tlast(m_tlast));

          reg [7:0] pixels [0:IMAGES*PIXELS-1];
          reg [31:0] logits [0:IMAGES*CLASSES-1];
          reg [15:0] weights [0:(BEATS > 0 ? BEATS : 1)-1];
          reg [31:0] value;
          reg aw_fire, w_fire;
          integer seed = 1;
          integer sent, got, image, run, waited;

          // One AXI4-Lite write: address and data together, then the response, which must be OKAY.
          task axi_write(input [7:0] addr, input [31:0] data);
            begin
              awaddr = addr; wdata = data; awvalid = 1; wvalid = 1;
              while (awvalid || wvalid) begin
                #1 aw_fire = awvalid && awready;
                w_fire = wvalid && wready;
                // The transfers happen at the rising edge in between.
                @(negedge clock);
                if (aw_fire) awvalid = 0;
                if (w_fire) wvalid = 0;
              end
              bready = 1;
              #1 while (!bvalid) begin @(negedge clock); #1; end
              if (bresp !== 2'b00) begin
                $display("FAIL: write of %%h to register %%h answered with response %%0d", data, addr, bresp);
                $finish;
              end
              @(negedge clock) bready = 0;
            end
          endtask

          // One AXI4-Lite read into `value`; the response must be OKAY.
          task axi_read(input [7:0] addr);
            begin
              araddr = addr; arvalid = 1;
              #1 while (!arready) begin @(negedge clock); #1; end
              @(negedge clock) arvalid = 0;
              rready = 1;
              #1 while (!rvalid) begin @(negedge clock); #1; end
              value = rdata;
              if (rresp !== 2'b00) begin
                $display("FAIL: read of register %%h answered with response %%0d", addr, rresp);
                $finish;
              end
              @(negedge clock) rready = 0;
            end
          endtask

          task expect_reg(input [7:0] addr, input [31:0] want, input [8*40-1:0] what);
            begin
              axi_read(addr);
              if (value !== want) begin
                $display("FAIL: %%0s: expected %%h, read %%h", what, want, value);
                $finish;
              end
            end
          endtask

          // Reads STATUS until (STATUS & mask) == want, at most `limit` times.
          task poll_status(input [31:0] mask, input [31:0] want, input integer limit);
            begin
              waited = 0;
              axi_read(REG_STATUS);
              while ((value & mask) !== want && waited < limit) begin
                axi_read(REG_STATUS);
                waited = waited + 1;
              end
              if ((value & mask) !== want) begin
                $display("FAIL: STATUS %%h after %%0d reads (waiting for %%h under mask %%h)", value,
                    limit, want, mask);
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
            expect_reg(REG_IDENT, IDENT, "IDENT");
            expect_reg(REG_NETWORK_ID, NETWORK_ID, "NETWORK_ID");
        %20$s
            expect_reg(REG_WEIGHTS_CRC, WEIGHTS_CRC, "WEIGHTS_CRC");
            for (run = 0; run < IMAGES / BATCH; run = run + 1) begin
              // The driver's sequence: clear ERROR and DONE, IMAGES, START, check ERROR.
              axi_write(REG_ERROR, 0);
              axi_write(REG_STATUS, STATUS_DONE);
              axi_write(REG_IMAGES, BATCH);
              axi_write(REG_CONTROL, CONTROL_START);
              expect_reg(REG_ERROR, 0, "ERROR after START");
              %21$s
              poll_status(STATUS_DONE, STATUS_DONE, 100);
              axi_read(REG_CYCLES);
              $display("run %%0d: %%0d logits match, %%0d cycles", run, got, value);
            end
            $display("PASS: %%0d images, %%0d logits match the Java integer reference", IMAGES,
                IMAGES * CLASSES);
            $finish;
          end
        endmodule
        """.formatted(images, cfg.batch(), pixels, classes, beats, STALL_PERCENT,
            cfg.weightStreamBits() - 1, addernet.hw.ControlMap.Control(), addernet.hw.ControlMap.Status(), addernet.hw.ControlMap.Error(), addernet.hw.ControlMap.Images(),
            addernet.hw.ControlMap.Cycles(), addernet.hw.ControlMap.Ident(), addernet.hw.ControlMap.NetworkId(), addernet.hw.ControlMap.WeightsCrc(),
            addernet.hw.ControlMap.ident(AcceleratorGenerator.IDENT_VERSION), networkId, crc, weightPorts, weightLoad,
            streams("run"));
  }

  /**
   * The testbench of a board folder: IceBreakerTop spoken to over its UART as docs/board.md states
   * the protocol (weights, then the batches, each answer checked byte by byte), then a break and
   * its token. The bit period is {@code ADDERNET_UART_DIVISOR} when defined (run-icarus defines
   * {@value #FAST_UART_DIVISOR}, as cosim does), else the folder's own.
   */
  private static String boardTestbench(AccelConfig cfg, int images, int pixels, int classes, int beats,
      int divisor) {
    return """
        // Self-checking testbench written by addernet generate for this board folder's IceBreakerTop.
        // %1$d images in batches of %2$d, %3$d pixels each, %4$d logits each, over the UART (8N1).
        // Prints PASS, or FAIL with the first mismatch (tb/run-icarus runs it).
        `timescale 1ns/1ps
        module tb_accelerator;
          localparam integer IMAGES = %1$d;
          localparam integer BATCH = %2$d;
          localparam integer PIXELS = %3$d;
          localparam integer CLASSES = %4$d;
          localparam integer BEATS = %5$d;
        `ifdef ADDERNET_UART_DIVISOR
          localparam integer P = `ADDERNET_UART_DIVISOR;
        `else
          localparam integer P = %6$d;
        `endif
          localparam integer POR_CLOCKS = %7$d;
          localparam integer HOLD_BITS = %8$d; // a break: the line low this many bit times
          localparam [7:0] TOKEN = 8'h%9$02x;

          reg clk = 0;
          always #5 clk = ~clk;
          reg uart_rx = 1;
          wire uart_tx, led_busy_n, led_error_n;
          IceBreakerTop dut (.clk(clk), .uart_rx(uart_rx), .uart_tx(uart_tx), .led_busy_n(led_busy_n),
              .led_error_n(led_error_n));

          reg [7:0] pixels [0:IMAGES*PIXELS-1];
          reg [31:0] logits [0:IMAGES*CLASSES-1];
          reg [15:0] weights [0:BEATS-1];

          // The host's receiver: every byte the board sends, sampled mid-bit, into rx[0..rx_n-1].
          reg [7:0] rx [0:65535];
          integer rx_n = 0;
          integer k;
          reg [7:0] shift;
          always begin
            @(negedge uart_tx);
            repeat (P / 2) @(posedge clk);
            if (!uart_tx) begin
              for (k = 0; k < 8; k = k + 1) begin
                repeat (P) @(posedge clk);
                shift = {uart_tx, shift[7:1]};
              end
              repeat (P) @(posedge clk);
              if (!uart_tx) begin
                $display("FAIL: framing error in byte %%0d from the board", rx_n);
                $finish;
              end
              rx[rx_n] = shift;
              rx_n = rx_n + 1;
            end
          end

          // The host's transmitter: one byte, 8N1, LSB first, P clocks a bit.
          integer b;
          task send(input [7:0] v);
            begin
              uart_rx = 0;
              repeat (P) @(posedge clk);
              for (b = 0; b < 8; b = b + 1) begin
                uart_rx = v[b];
                repeat (P) @(posedge clk);
              end
              uart_rx = 1;
              repeat (P) @(posedge clk);
            end
          endtask

          // Waits until the board has sent `count` bytes since `from`, at most `limit` clocks.
          integer waited;
          task await_bytes(input integer from, input integer count, input integer limit);
            begin
              waited = 0;
              while (rx_n < from + count && waited < limit) begin
                @(posedge clk);
                waited = waited + 1;
              end
              if (rx_n < from + count) begin
                $display("FAIL: %%0d of %%0d answer bytes after %%0d clocks", rx_n - from, count, limit);
                $finish;
              end
            end
          endtask

          integer i, first, image, batch;
          reg [31:0] got;
          initial begin
            $readmemh("tb/pixels.hex", pixels);
            $readmemh("tb/logits.hex", logits);
            $readmemh("tb/weights.hex", weights);
            // No reset pin: the shell's power-on reset holds for POR_CLOCKS clocks.
            repeat (POR_CLOCKS + 16) @(posedge clk);
            // 'W' and one byte per weight (the low byte of each beat); the answer is '0'.
            first = rx_n;
            send("W");
            for (i = 0; i < BEATS; i = i + 1) send(weights[i][7:0]);
            await_bytes(first, 1, 100 * P);
            if (rx[first] !== "0") begin
              $display("FAIL: the weight load was answered 8'h%%02x", rx[first]);
              $finish;
            end
            for (batch = 0; batch < IMAGES / BATCH; batch = batch + 1) begin
              first = rx_n;
              send("I");
              for (i = 0; i < BATCH * PIXELS; i = i + 1) send(pixels[batch * BATCH * PIXELS + i]);
              await_bytes(first, 1 + 4 * BATCH * CLASSES, 100000000);
              if (rx[first] !== "0") begin
                $display("FAIL: batch %%0d was answered 8'h%%02x", batch, rx[first]);
                $finish;
              end
              for (i = 0; i < BATCH * CLASSES; i = i + 1) begin
                got = {rx[first + 4 * i + 4], rx[first + 4 * i + 3], rx[first + 4 * i + 2], rx[first + 4 * i + 1]};
                image = batch * BATCH + i / CLASSES;
                if (got !== logits[image * CLASSES + i %% CLASSES]) begin
                  $display("FAIL: image %%0d class %%0d: expected %%0d, got %%0d", image, i %% CLASSES,
                      $signed(logits[image * CLASSES + i %% CLASSES]), $signed(got));
                  $finish;
                end
              end
              $display("batch %%0d: %%0d logits match", batch, BATCH * CLASSES);
            end
            // A break (docs/board.md, "Losing step") in the middle of a batch frame: hold the line
            // low, release it, discard what came before, and the next byte is the token.
            send("I");
            send(8'h00);
            uart_rx = 0;
            repeat (HOLD_BITS * P) @(posedge clk);
            uart_rx = 1;
            first = rx_n;
            await_bytes(first, 1, 100000000);
            if (rx[first] !== TOKEN) begin
              $display("FAIL: the break was answered 8'h%%02x", rx[first]);
              $finish;
            end
            first = rx_n;
            send("x");
            await_bytes(first, 1, 100 * P);
            if (rx[first] !== "?") begin
              $display("FAIL: after the break 'x' was answered 8'h%%02x", rx[first]);
              $finish;
            end
            $display("PASS: %%0d images, %%0d logits match the Java integer reference; the break answered", IMAGES,
                IMAGES * CLASSES);
            $finish;
          end
        endmodule
        """.formatted(images, cfg.batch(), pixels, classes, beats, divisor,
            addernet.hw.Generate.powerOnResetClocks(), 32, addernet.hw.Generate.boardResyncToken());
  }

  /**
   * One run's streams in a testbench: every pixel in with random stalls, every logit out with
   * random back-pressure, each compared (image and class named on a mismatch) as it leaves.
   * {@code run} is the testbench's loop variable.
   */
  private static String streams(String run) {
    return """
              sent = 0;
              got = 0;
              waited = 0;
              while (got < BATCH * CLASSES) begin
                s_tvalid = sent < BATCH * PIXELS && ($urandom(seed) % 100) >= STALL;
                s_tdata = s_tvalid ? pixels[RUN * BATCH * PIXELS + sent] : 8'h00;
                m_tready = ($urandom(seed) % 100) >= STALL;
                // A transfer happens at the next rising edge when valid and ready are both high.
                #1;
                if (s_tvalid && s_tready) sent = sent + 1;
                if (m_tvalid && m_tready) begin
                  image = RUN * BATCH + got / CLASSES;
                  if (m_tdata !== logits[image * CLASSES + got % CLASSES]) begin
                    $display("FAIL: image %0d class %0d: expected %0d, got %0d", image, got % CLASSES,
                        $signed(logits[image * CLASSES + got % CLASSES]), $signed(m_tdata));
                    $finish;
                  end
                  if (m_tlast !== (got % CLASSES == CLASSES - 1)) begin
                    $display("FAIL: image %0d class %0d: tlast %0d", image, got % CLASSES, m_tlast);
                    $finish;
                  end
                  got = got + 1;
                end
                @(negedge clock);
                waited = waited + 1;
                if (waited > 100000000) begin
                  $display("FAIL: RUN %0d: %0d of %0d logits after %0d cycles", RUN, got,
                      BATCH * CLASSES, waited);
                  $finish;
                end
              end
              s_tvalid = 0;
              m_tready = 0;
        """.replace("RUN", run).strip();
  }
}
