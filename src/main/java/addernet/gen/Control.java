package addernet.gen;

/**
 * How an accelerator is driven. Its word is accel.json's {@code control}, {@code generate
 * --control}'s value and the Chisel generator's {@code Control}.
 */
public enum Control {
  /** AcceleratorAxi: the engine behind AXI4-Lite registers (docs/accelerator.md, "Registers"). */
  AXI("axi"),
  /** The engine's own start/busy/done ports. */
  PLAIN("plain");

  private final String word;

  Control(String word) {
    this.word = word;
  }

  public String word() {
    return word;
  }

  /** The control {@code word} names, or null. */
  public static Control fromWord(String word) {
    for (Control c : values()) {
      if (c.word.equals(word)) {
        return c;
      }
    }
    return null;
  }
}
