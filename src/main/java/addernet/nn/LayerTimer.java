package addernet.nn;

/**
 * Receives the wall time of every node's passes while a {@link Network} trains, for a profile
 * ({@link Network#time}). Without one the network takes no clock readings at all.
 *
 * <p>{@link Phase#FORWARD} and {@link Phase#BACKWARD} cover a whole node (a batch norm fused with
 * the ReLU after it is one node, the batch norm's; the sums of gradients where a tensor feeds two
 * nodes fall on the node whose backward completes them). A convolution also reports how its
 * forward and backward split into the other phases; those sum to its forward plus backward. Where
 * a phase runs on several threads at once, interleaved with another (a block of images unfolded,
 * then multiplied, on each thread), the wall time is shared out in proportion to the threads'
 * time in each.
 */
public interface LayerTimer {
  /** The parts of a training step a node's time is recorded under. */
  enum Phase {
    FORWARD,
    BACKWARD,
    /** im2col: the patch matrix copied out of the input, in the forward and again in a blocked backward. */
    UNFOLD,
    /** The forward's O x K x M products, -|x - w| or x * w, summed. */
    FORWARD_KERNEL,
    /** dL/dW, and the sum of the blocks' shares of it. */
    WEIGHT_GRADIENT,
    /** dL/d(patches). */
    INPUT_GRADIENT,
    /** col2im: the patch gradient added back onto the input positions. */
    FOLD
  }

  void record(int node, Phase phase, long nanos);
}
