package addernet.gen;

/**
 * Where an accelerator's weights live (docs/accelerator.md, "Weights at run time"). Its word is
 * accel.json's {@code weightMemory}, {@code generate --weights}'s value and the Chisel generator's
 * {@code WeightMemory}.
 */
public enum WeightMemory {
  /** ROMs initialised from the folder's images by the bitstream or the simulator. */
  ROM("rom"),
  /** RAM filled through the weight stream port before a run. */
  STREAM("stream"),
  /** Streamed into the iCE40 UP5K's SPRAM, which a bitstream cannot initialise. */
  SPRAM("spram"),
  /** Two layers of RAM, each layer read from off-chip memory through the AXI4 read master. */
  FETCH("fetch");

  private final String word;

  WeightMemory(String word) {
    this.word = word;
  }

  public String word() {
    return word;
  }

  /** Whether the weights arrive through the stream port rather than with the design. */
  public boolean streamed() {
    return this == STREAM || this == SPRAM;
  }

  /** The memory {@code word} names, or null. */
  public static WeightMemory fromWord(String word) {
    for (WeightMemory w : values()) {
      if (w.word.equals(word)) {
        return w;
      }
    }
    return null;
  }
}
