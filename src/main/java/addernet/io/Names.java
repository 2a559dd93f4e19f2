package addernet.io;

import java.util.Locale;

/**
 * The one rule for names read from files (network names, state_dict keys, layer names; the rule is
 * in docs/spec-format.md, "Names"), and the escaper for any text a message shows. A name is text a
 * terminal, a YAML or JSON reader and a log line show as what it is: it holds no C0 or C1 control
 * characters, no line or paragraph separators and no bidirectional controls, since each of these
 * makes a printed name look like something else or breaks the line it is printed on.
 */
public final class Names {
  /** The rule, as messages state it. */
  public static final String RULE = "printable text: no control characters (U+0000-U+001F, U+007F-U+009F),"
      + " line or paragraph separators (U+2028, U+2029) or bidirectional controls (U+061C, U+200E, U+200F,"
      + " U+202A-U+202E, U+2066-U+2069), and no unpaired surrogates";

  /** The longest a name may be, in UTF-16 units. */
  public static final int MAX_LENGTH = 1024;

  private Names() {}

  /** Whether {@code cp} may appear in a name. */
  public static boolean allowed(int cp) {
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
      return false;
    }
    if (cp == 0x2028 || cp == 0x2029 || cp == 0x061c || cp == 0x200e || cp == 0x200f) {
      return false;
    }
    if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
      return false;
    }
    return !(cp >= 0xd800 && cp <= 0xdfff);
  }

  /** Why {@code name} is not a name, or null when it is one. */
  public static String problem(String name) {
    if (name == null) {
      return "missing";
    }
    if (name.length() > MAX_LENGTH) {
      return name.length() + " characters long, more than " + MAX_LENGTH;
    }
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      if (!allowed(cp)) {
        return String.format(Locale.ROOT, "holds U+%04X at index %d; a name is %s", cp, i, RULE);
      }
      i += Character.charCount(cp);
    }
    return null;
  }

  /** Whether {@code name} follows the rule. */
  public static boolean valid(String name) {
    return problem(name) == null;
  }

  /**
   * {@code text} as a message may show it: quoted, every character outside the rule (and the
   * backslash and quote) written as an escape, and cut after 200 characters.
   */
  public static String printable(String text) {
    if (text == null) {
      return "nothing";
    }
    StringBuilder sb = new StringBuilder("\"");
    int shown = 0;
    for (int i = 0; i < text.length(); ) {
      if (shown++ >= 200) {
        sb.append("...");
        break;
      }
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == '\\' || cp == '"') {
        sb.append('\\').appendCodePoint(cp);
      } else if (cp == '\n') {
        sb.append("\\n");
      } else if (cp == '\r') {
        sb.append("\\r");
      } else if (cp == '\t') {
        sb.append("\\t");
      } else if (!allowed(cp)) {
        sb.append(String.format(Locale.ROOT, "\\u%04X", cp));
      } else {
        sb.appendCodePoint(cp);
      }
    }
    return sb.append('"').toString();
  }

  /** {@code text} unquoted when it is plain (letters, digits, {@code _./-+:@ }), else {@link #printable}. */
  public static String shown(String text) {
    return text != null && text.matches("[A-Za-z0-9_./+:@ -]{1,200}") ? text : printable(text);
  }

  /** A path as a message shows it; see {@link #shown}. */
  public static String shown(java.nio.file.Path p) {
    return shown(p.toString());
  }

}
