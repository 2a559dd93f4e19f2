package addernet.torch;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A pass over a pickle's opcodes, before the unpickler sees them, that bounds its work: every
 * opcode is one a state_dict uses, every length fits in what is left of the stream and under its
 * limit, every text argument (numbers, memo indices, global names) has its form, every memo index
 * read was written, no opcode pops below its stack or its mark, and objects nest at most {@link
 * #MAX_DEPTH} deep. The unpickler then allocates only what this pass has measured: no negative
 * array size, no number it cannot parse, no recursion it cannot finish. Limits are in docs/torch.md.
 */
final class PickleBounds {
  /** How deep containers may nest; a state_dict nests about six deep. */
  static final int MAX_DEPTH = 64;

  /** The most values on the unpickler's stack, and the most memo entries, at any one time. */
  static final int MAX_ITEMS = 1 << 20;

  /** The longest string, bytes or number argument of one opcode. */
  static final int MAX_ARGUMENT = 1 << 20;

  private static final Pattern INT = Pattern.compile("-?[0-9]{1,18}");
  private static final Pattern LONG = Pattern.compile("-?[0-9]{1,40}L?");
  private static final Pattern FLOAT =
      Pattern.compile("-?([0-9]{1,400}(\\.[0-9]{0,400})?|\\.[0-9]{1,400})([eE][-+]?[0-9]{1,4})?");
  private static final Pattern INDEX = Pattern.compile("[0-9]{1,9}");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]{0,199}");

  private final byte[] b;
  private final String where;
  private int pos;
  private int at;
  private int[] stack = new int[64];
  private int height;
  private final int[] marks = new int[MAX_DEPTH];
  private int markCount;
  private final Map<Integer, Integer> memo = new HashMap<>();

  private PickleBounds(byte[] bytes, String where) {
    this.b = bytes;
    this.where = where;
  }

  /**
   * Checks {@code pickle} and returns the length up to and including its STOP opcode.
   *
   * @param where the file and zip entry, for messages
   */
  static int check(byte[] pickle, String where) {
    return new PickleBounds(pickle, where).run();
  }

  private TorchFormatException bad(String what) {
    return new TorchFormatException(String.format(Locale.ROOT, "%s at byte %d (opcode 0x%02x): %s", where, at,
        at < b.length ? b[at] & 0xff : 0, what));
  }

  private int run() {
    while (pos < b.length) {
      at = pos;
      int op = b[pos++] & 0xff;
      switch (op) {
        case '(' -> {
          if (markCount == MAX_DEPTH) {
            throw bad("more than " + MAX_DEPTH + " marks open at once; a state_dict nests far less deep");
          }
          marks[markCount++] = height;
        }
        case '.' -> {
          pop(1);
          return pos;
        }
        case '0' -> pop(1);
        case '1' -> height = popMark();
        case '2' -> {
          int d = top();
          push(d);
        }
        case 'F' -> {
          line("a decimal number", FLOAT, 1000);
          push(0);
        }
        case 'I' -> {
          String s = line("an integer", null, 40);
          if (!s.equals("00") && !s.equals("01") && !INT.matcher(s).matches()) {
            throw bad("expected an integer of at most 18 digits, got " + shown(s));
          }
          push(0);
        }
        case 'L' -> {
          line("an integer", LONG, 64);
          push(0);
        }
        case 'J' -> fixed(4, 0);
        case 'K' -> fixed(1, 0);
        case 'M' -> fixed(2, 0);
        case 'G' -> fixed(8, 0);
        case 'N', 0x88, 0x89 -> push(0);
        case 0x8a -> {
          int n = length(1);
          if (n > 16) {
            throw bad("an integer of " + n + " bytes; a state_dict's integers fit in 16");
          }
          skip(n);
          push(0);
        }
        case 0x8b -> {
          long n = length(4);
          if (n > 16) {
            throw bad("an integer of " + n + " bytes; a state_dict's integers fit in 16");
          }
          skip(n);
          push(0);
        }
        case 'S' -> {
          line("a quoted string", null, MAX_ARGUMENT);
          push(0);
        }
        case 'V' -> {
          line("a string", null, MAX_ARGUMENT);
          push(0);
        }
        case 'U', 'C', 0x8c -> {
          skip(length(1));
          push(0);
        }
        case 'T', 'X', 'B' -> {
          skip(length(4));
          push(0);
        }
        case 0x8d, 0x8e -> {
          skip(length(8));
          push(0);
        }
        case 'c' -> {
          line("a module name", IDENTIFIER, 201);
          line("a global name", IDENTIFIER, 201);
          push(0);
        }
        case 0x93 -> {
          pop(2);
          push(0);
        }
        case 'Q' -> {
          int d = pop(1);
          push(d + 1);
        }
        case 'R' -> {
          int args = pop(1);
          int callable = pop(1);
          push(nest(Math.max(args, callable)));
        }
        case 'b' -> {
          int state = pop(1);
          grow(state);
        }
        case '}', ']', ')' -> push(1);
        case 'd', 'l', 't' -> {
          int d = popToMark();
          push(nest(d));
        }
        case 0x85 -> push(nest(pop(1)));
        case 0x86 -> push(nest(pop(2)));
        case 0x87 -> push(nest(pop(3)));
        case 'a' -> grow(pop(1));
        case 's' -> grow(pop(2));
        case 'e', 'u' -> grow(popToMark());
        case 'p' -> put(Integer.parseInt(line("a memo index", INDEX, 11)));
        case 'q' -> put(length(1));
        case 'r' -> put(index(length(4)));
        case 0x94 -> put(memo.size());
        case 'g' -> get(Integer.parseInt(line("a memo index", INDEX, 11)));
        case 'h' -> get(length(1));
        case 'j' -> get(index(length(4)));
        case 0x80 -> {
          int proto = length(1);
          if (proto > 5) {
            throw bad("pickle protocol " + proto + "; protocols 0 to 5 exist");
          }
        }
        case 0x95 -> length(8);
        case 'i', 'o', 0x81, 0x92, 0x82, 0x83, 0x84 -> throw new TorchFormatException(where + " at byte " + at
            + ": its pickle builds objects of a class (opcode 0x" + Integer.toHexString(op) + "); a state_dict"
            + " holds only tensors and ordered dicts, so it is refused without being run. Save"
            + " torch.save(model.state_dict(), FILE)");
        default -> throw bad("not an opcode a state_dict uses (sets, out-of-band buffers and text persistent ids"
            + " are refused, and some bytes are no opcode at all)");
      }
    }
    throw new TorchFormatException(where + ": the pickle ends at byte " + b.length + " before its STOP opcode");
  }

  private static String shown(String s) {
    return addernet.io.Names.printable(s);
  }

  /** An unsigned little-endian length of {@code n} bytes, at most what is left of the stream. */
  private int length(int n) {
    if (b.length - pos < n) {
      throw bad("the pickle ends inside this opcode's " + n + "-byte argument");
    }
    long v = 0;
    for (int i = n - 1; i >= 0; i--) {
      v = (v << 8) | (b[pos + i] & 0xff);
    }
    pos += n;
    if (n == 8 && v < 0 || v > Integer.MAX_VALUE) {
      throw bad("a length or index of " + Long.toUnsignedString(v) + "; more than the pickle holds");
    }
    return (int) v;
  }

  private int index(int v) {
    if (v >= MAX_ITEMS) {
      throw bad("memo index " + v + "; at most " + MAX_ITEMS + " are read");
    }
    return v;
  }

  private void skip(long n) {
    if (n > MAX_ARGUMENT) {
      throw bad("an argument of " + n + " bytes; at most " + MAX_ARGUMENT + " are read");
    }
    if (n > b.length - pos) {
      throw bad("an argument of " + n + " bytes, but only " + (b.length - pos) + " are left in the pickle");
    }
    pos += (int) n;
  }

  private void fixed(int n, int depth) {
    skip(n);
    push(depth);
  }

  /** A newline-terminated argument of at most {@code max} bytes, checked against {@code form}. */
  private String line(String what, Pattern form, int max) {
    int end = -1;
    for (int i = pos; i < b.length && i - pos <= max; i++) {
      if (b[i] == '\n') {
        end = i;
        break;
      }
    }
    if (end < 0) {
      throw bad("expected " + what + " ending in a newline within " + max + " bytes");
    }
    String s = new String(b, pos, end - pos, StandardCharsets.ISO_8859_1);
    pos = end + 1;
    if (form != null && !form.matcher(s).matches()) {
      throw bad("expected " + what + ", got " + shown(s));
    }
    return s;
  }

  private int nest(int childDepth) {
    int d = childDepth + 1;
    if (d > MAX_DEPTH) {
      throw bad("objects nested more than " + MAX_DEPTH + " deep; a state_dict nests far less deep");
    }
    return d;
  }

  private void push(int depth) {
    if (height == MAX_ITEMS) {
      throw bad("more than " + MAX_ITEMS + " values on the stack at once");
    }
    if (height == stack.length) {
      stack = java.util.Arrays.copyOf(stack, stack.length * 2);
    }
    stack[height++] = depth;
  }

  private int floor() {
    return markCount == 0 ? 0 : marks[markCount - 1];
  }

  private int top() {
    if (height <= floor()) {
      throw bad("reads a value from an empty stack (or across a mark)");
    }
    return stack[height - 1];
  }

  /** Pops {@code n} values and returns the deepest nesting among them. */
  private int pop(int n) {
    if (height - n < floor()) {
      throw bad("pops " + n + " value(s) from a stack holding " + (height - floor()) + " above its mark");
    }
    int d = 0;
    for (int i = 0; i < n; i++) {
      d = Math.max(d, stack[--height]);
    }
    return d;
  }

  private int popMark() {
    if (markCount == 0) {
      throw bad("closes a mark that was never opened");
    }
    return marks[--markCount];
  }

  private int popToMark() {
    int mark = popMark();
    int d = 0;
    while (height > mark) {
      d = Math.max(d, stack[--height]);
    }
    return d;
  }

  /** The container on top of the stack now holds values nested {@code childDepth} deep. */
  private void grow(int childDepth) {
    top();
    stack[height - 1] = Math.max(stack[height - 1], nest(childDepth));
  }

  private void put(int index) {
    index(index);
    if (!memo.containsKey(index) && memo.size() >= MAX_ITEMS) {
      throw bad("more than " + MAX_ITEMS + " memo entries");
    }
    memo.put(index, top());
  }

  private void get(int index) {
    Integer d = memo.get(index);
    if (d == null) {
      throw bad("reads memo entry " + index + ", which was never written");
    }
    push(d);
  }
}
