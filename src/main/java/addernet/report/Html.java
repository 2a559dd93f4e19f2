package addernet.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/** Escaping and the small formats of the report page's cells. */
final class Html {
  private Html() {}

  /** Everything that goes into the page from a file passes here, in text and in attributes alike. */
  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  static String row(String... cells) {
    StringBuilder sb = new StringBuilder("<tr>");
    for (String c : cells) {
      sb.append("<td>").append(esc(c)).append("</td>");
    }
    return sb.append("</tr>\n").toString();
  }

  static String img(String png, String alt) {
    return "<img src=\"" + esc(png) + "\" alt=\"" + esc(alt) + "\">\n";
  }

  static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  static void putNum(ObjectNode o, String field, Double v) {
    if (v == null) {
      o.putNull(field);
    } else {
      o.put(field, v);
    }
  }

  static String pct(Double fraction) {
    return fraction == null ? "—" : String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
  }

  static String ratio(Double r) {
    return r == null ? "—" : String.format(Locale.ROOT, "%.3f", r);
  }

  static String pj(double pj) {
    return String.format(Locale.ROOT, "%,.1f", pj);
  }

  static String nj(double pj) {
    return String.format(Locale.ROOT, "%,.1f nJ", pj / 1000);
  }
}
