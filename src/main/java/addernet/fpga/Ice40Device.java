package addernet.fpga;

import addernet.io.UserError;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The iCE40 parts nextpnr-ice40 places for, each in the package of a common board, with what a
 * design must fit into and the board's clock pin (a global-buffer input driven by its oscillator).
 */
public enum Ice40Device {
  // iCEstick (12 MHz on pin 21), iCEBreaker/UPduino (12 MHz on pin 35), HX8K breakout (12 MHz on J3).
  HX1K("hx1k", "tq144", 1280, 16, 95, "21"),
  UP5K("up5k", "sg48", 5280, 30, 39, "35"),
  HX8K("hx8k", "ct256", 7680, 32, 206, "J3");

  public final String id;
  public final String pkg;
  public final int logicCells;
  public final int blockRams;
  public final int userIos;
  public final String clockPin;

  Ice40Device(String id, String pkg, int logicCells, int blockRams, int userIos, String clockPin) {
    this.id = id;
    this.pkg = pkg;
    this.logicCells = logicCells;
    this.blockRams = blockRams;
    this.userIos = userIos;
    this.clockPin = clockPin;
  }

  /**
   * A board whose pins a design uses by name (docs/board.md): its part, and every pin the board
   * shell's top drives or reads, in the order of the pin file.
   */
  public enum Board {
    // iCEBreaker v1.0: 12 MHz oscillator on pin 35, the FTDI's second channel as UART (FPGA RX on
    // 6, TX on 9), the red LED on 11 and the green one on 37 (both active low).
    ICEBREAKER("icebreaker", UP5K, new String[][] {
        {"clk", "35"}, {"uart_rx", "6"}, {"uart_tx", "9"}, {"led_error_n", "11"}, {"led_busy_n", "37"}});

    public final String id;
    public final Ice40Device device;
    private final String[][] pins;

    Board(String id, Ice40Device device, String[][] pins) {
      this.id = id;
      this.device = device;
      this.pins = pins;
    }

    /** The board's pin file: every port of the shell's top on its pin. */
    public String pcf() {
      StringBuilder s = new StringBuilder("# " + id + " (" + device.id + ", " + device.pkg
          + "): every port of the board shell on its pin (docs/board.md).\n");
      for (String[] p : pins) {
        s.append("set_io ").append(p[0]).append(' ').append(p[1]).append('\n');
      }
      return s.toString();
    }

    public static Board byId(String id) {
      for (Board b : values()) {
        if (b.id.equals(id)) {
          return b;
        }
      }
      throw new UserError("--board must be one of "
          + Arrays.stream(values()).map(b -> b.id).collect(Collectors.joining(", ")) + ", got " + id);
    }
  }

  public static Ice40Device byId(String id) {
    for (Ice40Device d : values()) {
      if (d.id.equals(id)) {
        return d;
      }
    }
    throw new UserError(
        "--device must be auto or one of "
            + Arrays.stream(values()).map(d -> d.id).collect(Collectors.joining(", "))
            + ", got " + id);
  }

  /**
   * The smallest part with room for the synthesised design. Logic cells are estimated as the larger
   * of LUTs and flip-flops (nextpnr packs a LUT with its flip-flop), with 10% left for packing and
   * routing, since a part filled to the last cell rarely routes.
   */
  public static Ice40Device smallestFitting(int luts, int flipFlops, int blockRams, int ios) {
    int cells = Math.max(luts, flipFlops);
    for (Ice40Device d : values()) {
      if (cells <= 0.9 * d.logicCells && blockRams <= d.blockRams && ios <= d.userIos) {
        return d;
      }
    }
    throw new UserError(
        String.format(
            "the design needs about %,d logic cells, %d block RAMs and %d I/O pins; the largest"
                + " iCE40 here (hx8k) has %,d, %d and %d. Use a smaller array or network, or for"
                + " an accelerator generate it with --no-trace",
            cells, blockRams, ios, HX8K.logicCells, HX8K.blockRams, HX8K.userIos));
  }
}
