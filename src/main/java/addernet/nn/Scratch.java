package addernet.nn;

/**
 * Per-thread work buffers, shared by every layer on that thread: layers run one after another,
 * and one buffer reused by all of them stays in cache where one per layer would not.
 */
final class Scratch {
  private static final ThreadLocal<Scratch> MINE = ThreadLocal.withInitial(Scratch::new);

  private float[] first = new float[0];
  private float[] second = new float[0];
  private float[] third = new float[0];

  private Scratch() {}

  /** The calling thread's buffers; their contents are garbage on entry. */
  static Scratch mine() {
    return MINE.get();
  }

  float[] first(int size) {
    if (first.length < size) {
      first = new float[size];
    }
    return first;
  }

  float[] second(int size) {
    if (second.length < size) {
      second = new float[size];
    }
    return second;
  }

  float[] third(int size) {
    if (third.length < size) {
      third = new float[size];
    }
    return third;
  }
}
