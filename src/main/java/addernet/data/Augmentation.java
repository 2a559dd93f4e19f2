package addernet.data;

/** Light training-time augmentation: left-right flips and shifts of up to {@code shift} pixels. */
public record Augmentation(boolean flip, int shift) {
  public static final Augmentation NONE = new Augmentation(false, 0);

  public Augmentation {
    if (shift < 0 || shift > 8) {
      throw new IllegalArgumentException("shift must be in 0..8 pixels, got " + shift);
    }
  }

  /** Parses {@code none}, {@code flip}, {@code shift=N} or {@code flip,shift=N}. */
  public static Augmentation parse(String text) {
    boolean flip = false;
    int shift = 0;
    if (text.equals("none")) {
      return NONE;
    }
    for (String part : text.split(",")) {
      String p = part.strip();
      if (p.equals("flip")) {
        flip = true;
      } else if (p.startsWith("shift=")) {
        try {
          shift = Integer.parseInt(p.substring(6));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("augmentation '" + p + "': shift must be a whole number");
        }
      } else {
        throw new IllegalArgumentException(
            "unknown augmentation '" + p + "'; use none, flip, shift=N or flip,shift=N");
      }
    }
    return new Augmentation(flip, shift);
  }

  @Override
  public String toString() {
    if (!flip && shift == 0) {
      return "none";
    }
    return flip ? (shift > 0 ? "flip,shift=" + shift : "flip") : "shift=" + shift;
  }
}
