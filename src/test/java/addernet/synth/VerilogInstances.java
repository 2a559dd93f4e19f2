package addernet.synth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Counts a generated folder's memory instances from its Verilog, without yosys, so that tests
 * check synth's figures against the sources: every {@code Ram}/{@code Rom} instantiation with
 * literal DEPTH and WIDTH, times how often the module holding it is instantiated under the top.
 */
public final class VerilogInstances {
  private static final Pattern MODULE = Pattern.compile("(?s)\\bmodule\\s+(\\w+)(.*?)\\bendmodule\\b");
  // "Name #( .P(1), ... ) inst (" or "Name inst (" at the start of a line (firtool's layout).
  private static final Pattern INSTANCE =
      Pattern.compile("(?m)^\\s*(\\w+)\\s*(#\\s*\\((?:[^()]|\\([^()]*\\))*\\))?\\s*(\\w+)\\s*\\(");
  private static final Pattern PARAM = Pattern.compile("\\.(\\w+)\\s*\\(\\s*(\\d+)\\s*\\)");

  private VerilogInstances() {}

  /** "Ram DEPTHxWIDTH" / "Rom DEPTHxWIDTH" to the number of instances under {@code top}. */
  public static Map<String, Long> memories(Path dir, List<String> sources, String top) throws IOException {
    Map<String, String> bodies = new HashMap<>();
    for (String s : sources) {
      Matcher m = MODULE.matcher(Files.readString(dir.resolve(s)));
      while (m.find()) {
        bodies.put(m.group(1), m.group(2));
      }
    }
    Map<String, Long> out = new TreeMap<>();
    count(bodies, top, 1, out);
    return out;
  }

  private static void count(Map<String, String> bodies, String module, long n, Map<String, Long> out) {
    Matcher m = INSTANCE.matcher(bodies.get(module));
    while (m.find()) {
      String type = m.group(1);
      if (type.equals("Ram") || type.equals("Rom")) {
        Map<String, Long> p = new HashMap<>();
        Matcher pm = PARAM.matcher(m.group(2) == null ? "" : m.group(2));
        while (pm.find()) {
          p.put(pm.group(1), Long.parseLong(pm.group(2)));
        }
        out.merge(type + " " + p.get("DEPTH") + "x" + p.get("WIDTH"), n, Long::sum);
      } else if (bodies.containsKey(type) && !type.equals(module)) {
        count(bodies, type, n, out);
      }
    }
  }
}
