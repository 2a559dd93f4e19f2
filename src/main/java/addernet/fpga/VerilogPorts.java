package addernet.fpga;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The port list of a module as firtool writes it: a direction and an optional {@code [msb:0]}
 * range apply to every name that follows until the next ones, e.g. {@code input [7:0] io_a_0,}
 * then {@code io_a_1,} on its own line.
 */
public final class VerilogPorts {
  public record Port(boolean input, int width, String name) {}

  private static final Pattern DECL =
      Pattern.compile("^\\s*(?:(input|output)\\s+)?(?:\\[(\\d+):0\\]\\s+)?([A-Za-z_]\\w*)\\s*,?\\s*(\\);)?\\s*$");

  private VerilogPorts() {}

  public static List<Port> of(String verilog, String module) {
    int start = verilog.indexOf("module " + module + "(");
    if (start < 0) {
      throw new IllegalArgumentException("no 'module " + module + "(' in the Verilog");
    }
    int end = verilog.indexOf(");", start);
    List<Port> ports = new ArrayList<>();
    Boolean input = null;
    int width = 1;
    for (String line : verilog.substring(verilog.indexOf('\n', start) + 1, end + 2).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      if (line.strip().equals(");")) {
        break;
      }
      Matcher m = DECL.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("unexpected port declaration in " + module + ": " + line.strip());
      }
      if (m.group(1) != null) {
        input = m.group(1).equals("input");
        width = 1; // a new direction resets the range unless one follows
      }
      if (m.group(2) != null) {
        width = Integer.parseInt(m.group(2)) + 1;
      }
      if (input == null) {
        throw new IllegalArgumentException("port " + m.group(3) + " of " + module + " has no direction");
      }
      ports.add(new Port(input, width, m.group(3)));
      if (m.group(4) != null) {
        break;
      }
    }
    return ports;
  }
}
