package addernet.cosim;

import addernet.gen.WeightImages;
import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.FolderFiles;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A running Verilated accelerator. Each batch of images goes over a pipe in one message; the
 * harness drives both AXI4-Streams (with seeded random stalls when asked) and answers with the
 * logits, where tlast was seen, the cycle counts and, optionally, every writeback.
 */
public final class AccelSimulator implements AutoCloseable {
  static final String HARNESS = "/sim/accel_harness.cpp";
  /** For the AXI4-Lite top: the same protocol, through the folder's C driver (axi_harness.cpp). */
  static final String AXI_HARNESS = "/sim/axi_harness.cpp";
  /** A board folder's harness: the same protocol, spoken over the shell's UART (docs/board.md). */
  static final String BOARD_HARNESS = "/sim/board_harness.cpp";
  /**
   * The UART's clocks per bit in the board shell's fast model, which cosim uses: the only
   * difference from the board's rate (docs/board.md, "Co-simulation"); accel.json's simUartDivisor.
   */
  public static final int FAST_UART_DIVISOR = AcceleratorGenerator.SIM_UART_DIVISOR;
  /** One write of the accelerator's writeback stage (its trace port). */
  public record Write(int lane, int layer, int addr, int value) {}

  /**
   * What a batch produced; {@code status} is sampled at the end (bit 0 busy, 1 m_axis_tvalid,
   * 2 s_axis_tready, 3 done).
   */
  public record Batch(
      int[] logits, int[] lastBeats, long acceleratorCycles, long simCycles, List<Write> writes,
      int status) {}

  private final HarnessProcess harness;

  /** Builds (or reuses) the Verilated model of the accelerator in {@code rtlDir}. */
  public static Path prepare(Path rtlDir) {
    AccelManifest m = AccelManifest.read(rtlDir);
    // An edited weight image would otherwise simulate and be blamed on the RTL as mismatches.
    FolderFiles.verify(rtlDir, AcceleratorGenerator.CONFIG_FILE);
    if (m.board() != null) {
      return VerilatorBuild.build(rtlDir, m.sources(), m.top(), BOARD_HARNESS,
          boardPortsHeader(rtlDir, m, m.simUartDivisor()),
          List.of("ADDERNET_UART_DIVISOR=" + m.simUartDivisor()));
    }
    if (m.axiControl()) {
      return VerilatorBuild.build(rtlDir, m.sources(), m.top(), AXI_HARNESS, portsHeader(m),
          List.of(), driverFiles(rtlDir));
    }
    return VerilatorBuild.build(rtlDir, m.sources(), m.top(), HARNESS, portsHeader(m));
  }

  /**
   * The folder's driver/ as it is: the harness compiles the shipped driver, not a copy of ours.
   * Being C that this machine compiles and runs, it is checked first: its sources must be the
   * ones this version ships, byte for byte, and its register header nothing but the constants
   * generate writes ({@link #REGS_LINE}), so a received folder cannot bring code of its own.
   */
  static java.util.Map<String, String> driverFiles(Path rtlDir) {
    java.util.Map<String, String> files = new java.util.LinkedHashMap<>();
    List<String> names = new ArrayList<>(addernet.gen.DriverFiles.SOURCES);
    names.add(addernet.gen.DriverFiles.HEADER);
    boolean fetch = AccelManifest.read(rtlDir).weightFetch();
    if (fetch) {
      names.add(addernet.gen.DriverFiles.FETCH_SOURCE);
    }
    String again = "; generate it again with addernet generate --model PKG --out " + rtlDir;
    for (String name : names) {
      Path f = rtlDir.resolve(addernet.gen.DriverFiles.DIR).resolve(name);
      String text;
      try {
        text = java.nio.file.Files.readString(f);
      } catch (java.io.IOException e) {
        throw new addernet.io.UserError("cannot read " + f + " (" + e.getMessage() + "); the folder's"
            + " C driver is part of it" + again, e);
      }
      if (addernet.gen.DriverFiles.SOURCES.contains(name) || name.equals(addernet.gen.DriverFiles.FETCH_SOURCE)) {
        if (!text.equals(VerilatorBuild.resource("/sim/driver/" + name))) {
          throw new addernet.io.UserError(f + " is not the driver this version of addernet ships,"
              + " and cosim compiles and runs it" + again);
        }
      } else {
        // Comments dropped, their line breaks kept, so the line named is the file's own.
        String code = java.util.regex.Pattern.compile("(?s)/\\*.*?\\*/").matcher(text)
            .replaceAll(r -> r.group().replaceAll("[^\n]", ""));
        int n = 0;
        for (String line : code.split("\n", -1)) {
          n++;
          if (!line.isBlank() && !REGS_LINE.matcher(line.strip()).matches()) {
            throw new addernet.io.UserError(f + ": expected only comments and #define ADDERNET_..."
                + " constants, got \"" + (line.strip().length() > 60 ? line.strip().substring(0, 60) + "..." : line.strip())
                + "\" (outside comments, line " + n + "); cosim compiles and runs it" + again);
          }
        }
      }
      files.put(name, text);
    }
    return files;
  }

  /** A line of the register header outside comments: its guard or one constant. */
  private static final java.util.regex.Pattern REGS_LINE = java.util.regex.Pattern.compile(
      "#ifndef ADDERNET_REGS_H|#define ADDERNET_REGS_H|#endif"
          + "|#define ADDERNET_[A-Z0-9_]+[ \t]+(?:0x[0-9A-Fa-f]+u|[0-9]+u|\\(1u << [0-9]+\\))");

  /** A board folder's model with the UART at the board's rate, as generated (no macro). */
  static Path prepareRealRate(Path rtlDir) {
    AccelManifest m = AccelManifest.read(rtlDir);
    if (m.board() == null) {
      throw new IllegalArgumentException(rtlDir + " is not a board folder");
    }
    FolderFiles.verify(rtlDir, AcceleratorGenerator.CONFIG_FILE);
    return VerilatorBuild.build(rtlDir, m.sources(), m.top(), BOARD_HARNESS,
        boardPortsHeader(rtlDir, m, m.uartDivisor()), List.of());
  }

  /** What the board harness must know of the shell: its bit period and its frames' lengths. */
  static String boardPortsHeader(Path rtlDir, AccelManifest m, int divisor) {
    return "// Generated by addernet for the " + m.board() + " shell of a " + m.rows() + "x" + m.cols()
        + " accelerator; do not edit.\n#pragma once\n"
        + "#define BOARD_UART_DIVISOR " + divisor + "\n"
        + "#define BOARD_WEIGHT_BYTES " + WeightImages.stream(rtlDir, m).length + "\n"
        + "#define BOARD_BATCH " + m.batch() + "\n"
        + "#define BOARD_IN_SIZE " + m.inSize() + "\n"
        + "#define BOARD_CLASSES " + m.classes() + "\n"
        + "#define BOARD_ISSUE_CYCLES " + m.issueCyclesPerBatch() + "ull\n"
        + "#define BOARD_POR_CLOCKS " + addernet.hw.Generate.powerOnResetClocks() + "\n";
  }

  /** Starts the model; with {@code fst} non-null it records a waveform there. */
  public AccelSimulator(Path rtlDir, Path fst) {
    this(prepare(rtlDir), rtlDir, fst);
  }

  /** Starts the harness {@code exe} that {@link #prepare} built for {@code rtlDir}. */
  AccelSimulator(Path exe, Path rtlDir, Path fst) {
    this(exe, rtlDir, fst, true);
  }

  /**
   * As {@link #AccelSimulator(Path, Path, Path)}; with {@code loadWeights} false a weight-stream
   * design starts without weights (how the refused start is tested).
   */
  AccelSimulator(Path exe, Path rtlDir, Path fst, boolean loadWeights) {
    // $readmemh paths in the RTL are relative to the folder that holds the .mem files.
    harness = new HarnessProcess(exe, rtlDir, fst);
    AccelManifest m = AccelManifest.read(rtlDir);
    if (m.weightFetch() && loadWeights) {
      // The folder's own image, in the harness's memory model at the default base.
      int r = memory(weightImage(rtlDir, m), DEFAULT_WEIGHT_BASE, MEMORY_LATENCY, -1);
      if (r != 0) {
        close();
        throw new IllegalStateException(rtlDir + ": setting the weight image's base failed with " + r);
      }
    }
    if (m.weightStream() && loadWeights) {
      // The weights go in through the port, as on the chip; a refused load is a hardware fault.
      WeightLoad load = loadWeights(WeightImages.stream(rtlDir, m), 0, 1);
      if (load.error() != 0) {
        close();
        throw new IllegalStateException(rtlDir + ": the accelerator answered its own weight stream"
            + " with error " + load.error() + " (docs/accelerator.md, \"Weights at run time\")");
      }
    }
  }

  /** Where cosim puts a fetch folder's weights.bin in the memory model (128-byte aligned). */
  public static final long DEFAULT_WEIGHT_BASE = 0x1000;
  /** Cycles from a burst's address handshake to its first beat in the memory model. */
  public static final int MEMORY_LATENCY = 20;
  /** {@link #memory}'s {@code errorBeat} for a memory that never answers (the fetch timeout). */
  public static final int SILENT = -2;

  /** A fetch folder's weights.bin, as accel.json names it (its hash checked by {@link #prepare}). */
  public static byte[] weightImage(Path rtlDir, AccelManifest m) {
    Path f = rtlDir.resolve(m.weightImage().file());
    try {
      byte[] image = java.nio.file.Files.readAllBytes(f);
      if (image.length != m.weightImage().bytes()) {
        throw new addernet.io.UserError(f + " has " + image.length + " bytes, accel.json's weightImage.bytes "
            + m.weightImage().bytes() + "; generate the folder again");
      }
      return image;
    } catch (java.io.IOException e) {
      throw new addernet.io.UserError("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  /**
   * Fetch folders only: puts {@code image} at {@code base} in the harness's memory model, with
   * {@code latency} cycles to a burst's first beat, beat number {@code errorBeat} (from now on)
   * answered SLVERR (-1: none; {@link #SILENT}: nothing answered), and sets the accelerator's base
   * (AXI: through the driver). Returns 0, or the driver's result (ADDERNET_E_ARGUMENT, -5, for an
   * unaligned base).
   */
  public int memory(byte[] image, long base, int latency, int errorBeat) {
    ByteBuffer hdr = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
    hdr.putInt(-4).putInt(image.length).putInt((int) base).putInt((int) (base >>> 32)).putInt(latency)
        .putInt(errorBeat);
    harness.send(hdr.array(), image);
    return harness.readInts(1)[0];
  }

  /** What the accelerator answered to a weight load: its error code and the load's cycles. */
  public record WeightLoad(int error, long cycles) {}

  /**
   * Streams {@code beats} (tlast on the last) through s_axis_weights, with stalls, and waits
   * until the accelerator is idle again. A stream shorter or longer than the folder's weights is
   * how the error codes are tested.
   */
  public WeightLoad loadWeights(int[] beats, int stallPercent, int seed) {
    return loadWeights(beats, stallPercent, seed, true);
  }

  /**
   * As {@link #loadWeights(int[], int, int)}; with {@code tlast} false no beat carries tlast (AXI
   * harness only; the board frames the stream by its length).
   */
  public WeightLoad loadWeights(int[] beats, int stallPercent, int seed, boolean tlast) {
    ByteBuffer hdr = ByteBuffer.allocate(20 + 2 * beats.length).order(ByteOrder.LITTLE_ENDIAN);
    hdr.putInt(-1).putInt(beats.length).putInt(stallPercent).putInt(seed).putInt(tlast ? 0 : 1);
    for (int b : beats) {
      hdr.putShort((short) b);
    }
    harness.send(hdr.array(), new byte[0]);
    int error = harness.readInts(1)[0];
    long cycles = harness.readLongs(1)[0];
    return new WeightLoad(error, cycles);
  }

  /**
   * Board harness only: sends {@code bytes} on the shell's UART as they are (with random idle
   * gaps before bytes, {@code stallPercent} of them), and returns what the board answered: up to
   * {@code want} bytes, fewer if the line stays quiet for 40 byte times after the last one sent.
   */
  public int[] exchange(byte[] bytes, int stallPercent, int seed, int want) {
    ByteBuffer hdr = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    hdr.putInt(-2).putInt(bytes.length).putInt(stallPercent).putInt(seed).putInt(want);
    harness.send(hdr.array(), bytes);
    int m = harness.readInts(1)[0];
    return harness.readInts(m);
  }

  /**
   * What the board sent around a break: the bytes before the line was released (to be
   * discarded), those after it, and the clocks from the release to the first start bit after it
   * (-1 for none).
   */
  public record Break(int before, int[] after, long firstStartClocks) {}

  /**
   * Board harness only: sends {@code bytes}, and {@code delay} clocks after the start bit of the
   * last of them ({@code afterAnswer} < 0) or of the board's answer byte number {@code afterAnswer}
   * holds the line low for {@code hold} clocks (cutting the byte being sent, and sending no more),
   * then releases it and listens.
   */
  public Break lineBreak(byte[] bytes, int afterAnswer, int delay, int hold) {
    ByteBuffer hdr = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    hdr.putInt(-3).putInt(bytes.length).putInt(afterAnswer).putInt(delay).putInt(hold);
    harness.send(hdr.array(), bytes);
    int before = harness.readInts(1)[0];
    int m = harness.readInts(1)[0];
    int[] after = harness.readInts(m);
    long first = harness.readLongs(1)[0];
    return new Break(before, after, first);
  }

  /** One step of {@link #registers}: {@code kind} and its two arguments (axi_harness.cpp). */
  public record RegisterOp(int kind, int a, int b) {
    public static RegisterOp read(int offset) {
      return new RegisterOp(0, offset, 0);
    }

    public static RegisterOp write(int offset, int value) {
      return new RegisterOp(1, offset, value);
    }

    /** addernet_run of {@code images} zero images; flags: 1 the logits are never taken, 2 a poll limit of 50. */
    public static RegisterOp driverRun(int images, int flags) {
      return new RegisterOp(2, images, flags);
    }

    public static RegisterOp checkIdent() {
      return new RegisterOp(3, 0, 0);
    }

    public static RegisterOp softReset() {
      return new RegisterOp(4, 0, 0);
    }

    public static RegisterOp irq() {
      return new RegisterOp(5, 0, 0);
    }
  }

  /** What a step answered: the AXI response or the driver's result, and a value. */
  public record RegisterReply(int result, long value) {}

  /**
   * AXI folders only: register accesses and driver calls, one after the other, and what each
   * answered (the register-level command of axi_harness.cpp).
   */
  public List<RegisterReply> registers(List<RegisterOp> ops) {
    ByteBuffer hdr = ByteBuffer.allocate(8 + 12 * ops.size()).order(ByteOrder.LITTLE_ENDIAN);
    hdr.putInt(-3).putInt(ops.size());
    for (RegisterOp op : ops) {
      hdr.putInt(op.kind()).putInt(op.a()).putInt(op.b());
    }
    harness.send(hdr.array(), new byte[0]);
    int[] raw = harness.readInts(2 * ops.size());
    List<RegisterReply> out = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      out.add(new RegisterReply(raw[2 * i], Integer.toUnsignedLong(raw[2 * i + 1])));
    }
    return out;
  }

  static String portsHeader(AccelManifest m) {
    StringBuilder s = new StringBuilder();
    s.append("// Generated by addernet for a ").append(m.rows()).append('x').append(m.cols())
        .append(" accelerator; do not edit.\n#pragma once\n#include <vector>\n");
    if (m.weightStream()) {
      s.append("#define HAS_WEIGHT_STREAM 1\n");
    }
    if (m.weightFetch()) {
      s.append("#define HAS_WEIGHT_FETCH 1\n");
    }
    s.append("static inline void collect_trace(Vtop* t, std::vector<int32_t>& v) {\n");
    for (int q = 0; m.trace() && q < m.requantizers(); q++) {
      String p = "t->trace_" + q + "_";
      s.append("  if (").append(p).append("valid) { v.push_back(").append(p).append("bits_lane);")
          .append(" v.push_back(").append(p).append("bits_layer); v.push_back(").append(p)
          .append("bits_addr); v.push_back(static_cast<int32_t>(").append(p).append("bits_data)); }\n");
    }
    s.append("}\n");
    return s.toString();
  }

  /** Streams one batch of pixels (all images back to back) through the accelerator. */
  public Batch run(byte[] pixels, int stallPercent, int seed, boolean trace) {
    return run(pixels, stallPercent, seed, trace, 0);
  }

  /** As {@link #run}, but with {@code resetAfter > 0} reset is asserted after that many cycles. */
  public Batch run(byte[] pixels, int stallPercent, int seed, boolean trace, int resetAfter) {
    ByteBuffer hdr = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
    hdr.putInt(pixels.length).putInt(stallPercent).putInt(seed).putInt(trace ? 1 : 0)
        .putInt(resetAfter);
    harness.send(hdr.array(), pixels);
    int m = harness.readInts(1)[0];
    int[] logits = harness.readInts(m);
    int nl = harness.readInts(1)[0];
    int[] lasts = harness.readInts(nl);
    long accCycles = Integer.toUnsignedLong(harness.readInts(1)[0]);
    long simCycles = harness.readLongs(1)[0];
    int t = harness.readInts(1)[0];
    int[] raw = harness.readInts(4 * t);
    List<Write> writes = new ArrayList<>(t);
    for (int i = 0; i < t; i++) {
      writes.add(new Write(raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]));
    }
    int status = harness.readInts(1)[0];
    return new Batch(logits, lasts, accCycles, simCycles, writes, status);
  }

  @Override
  public void close() {
    harness.close();
  }
}
