package addernet.synth;

import addernet.io.UserError;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a module of a synthesised design is: its Verilog name and parameter values. yosys names
 * a parameterised module {@code $paramod$<hash>\Ram} or {@code $paramod\Ram\DEPTH=...}; the
 * Verilog name is its {@code hdlname} attribute and the values are in {@code write_json}'s
 * {@code parameter_default_values}.
 *
 * @param yosysName the name yosys gave the module
 * @param module the Verilog module's name
 * @param parameters parameter name to value: a {@link Long} for a number, else the text yosys wrote
 */
public record ModuleInfo(String yosysName, String module, Map<String, Object> parameters) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public ModuleInfo {
    parameters = java.util.Collections.unmodifiableMap(new TreeMap<>(parameters));
  }

  /** A module yosys did not describe (it has no JSON entry): its name, read as yosys writes it. */
  public static ModuleInfo ofName(String yosysName) {
    if (!yosysName.startsWith("$paramod")) {
      return new ModuleInfo(yosysName, yosysName, Map.of());
    }
    String[] parts = yosysName.split("\\\\");
    if (yosysName.startsWith("$paramod$")) {
      return new ModuleInfo(yosysName, parts[parts.length - 1], Map.of());
    }
    Map<String, Object> params = new TreeMap<>();
    for (int i = 2; i < parts.length; i++) {
      int eq = parts[i].indexOf('=');
      if (eq > 0) {
        params.put(parts[i].substring(0, eq), value(parts[i].substring(eq + 1)));
      }
    }
    return new ModuleInfo(yosysName, parts.length > 1 ? parts[1] : yosysName, params);
  }

  /** A parameter as a number if yosys wrote one (plain, or a sized constant like s32'0101), else its text. */
  private static Object value(String v) {
    if (v.matches("-?\\d{1,18}")) {
      return Long.parseLong(v);
    }
    if (v.matches("[su]?\\d+'[01]{1,62}")) {
      return new BigInteger(v.substring(v.indexOf('\'') + 1), 2).longValue();
    }
    return v;
  }

  /**
   * A {@code write_json -compat-int} parameter: a number up to 32 bits; a wider constant as a
   * string of bits; a string as itself, with a space appended if it would look like bits.
   */
  private static Object jsonValue(JsonNode v) {
    if (v.isIntegralNumber()) {
      return v.asLong();
    }
    String t = v.asText();
    if (t.matches("[01]{1,62}")) {
      return new BigInteger(t, 2).longValue();
    }
    return t.endsWith(" ") && t.strip().matches("[01xz]*") ? t.strip() : t;
  }

  /** The non-black-box modules of a yosys {@code write_json -compat-int} netlist, by yosys name. */
  static Map<String, ModuleInfo> parseJson(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new UserError("yosys wrote a module list that is not JSON: " + e.getOriginalMessage(), e);
    }
    Map<String, ModuleInfo> out = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("modules").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode attrs = e.getValue().path("attributes");
      if (attrs.has("blackbox")) {
        continue; // the technology library's cells
      }
      ModuleInfo byName = ofName(e.getKey());
      String module = attrs.path("hdlname").asText(byName.module());
      if (module.startsWith("\\")) {
        module = module.substring(1);
      }
      Map<String, Object> params = new TreeMap<>(byName.parameters());
      for (Iterator<Map.Entry<String, JsonNode>> p = e.getValue().path("parameter_default_values").fields(); p.hasNext(); ) {
        Map.Entry<String, JsonNode> pv = p.next();
        params.put(pv.getKey(), jsonValue(pv.getValue()));
      }
      out.put(e.getKey(), new ModuleInfo(e.getKey(), module, params));
    }
    return out;
  }

  /** The parameter as a number, or -1 if the module has no such numeric parameter. */
  public long number(String name) {
    return parameters.get(name) instanceof Long l ? l : -1;
  }
}
