package addernet.gen;

import addernet.hw.LayerRoute;
import addernet.io.UserError;
import addernet.quant.IntNetwork;
import addernet.quant.IntNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where each layer of a network with branches reads and writes in the accelerator
 * (docs/accelerator.md, "Networks with branches"). Every weighted node stays one engine layer, in
 * node order; adds and average pools are not layers but work of the writeback of the layer that
 * produces their last operand:
 *
 * <ul>
 *   <li>a signed layer whose add's other operand is already stored adds it, word by word at its own
 *       output's address, and stores the sum, in place of the operand when nothing else still
 *       reads it (the identity shortcut);
 *   <li>a signed layer whose add's other operand is still to come is stored in the skip buffer
 *       (buffer 2), which the mesh never reads (the convolution shortcut);
 *   <li>a result read only by a global average pool of 2^n values is not stored: the writeback
 *       sums it per channel and writes the means after the layer.
 * </ul>
 *
 * Buffers 0 and 1 feed the mesh; the input is in buffer 0; each result goes to a buffer that holds
 * nothing a later node reads. A chain gets the ping-pong of {@link LayerRoute#chain}, so its
 * hardware is the chain engine's.
 *
 * @param routes each engine layer's route; empty for a chain
 * @param stored for each engine layer, the node whose output it stores (its own, its add's or
 *     its pool's): what the writeback trace shows for it
 */
public record BufferPlan(LayerRoute[] routes, int[] stored) {
  private static final int NONE = -2;

  public boolean chain() {
    return routes.length == 0;
  }

  /** The plan of {@code net}, or a refusal naming the first node the accelerator cannot run. */
  public static BufferPlan of(IntNetwork net) {
    List<IntNode> nodes = net.nodes();
    int count = nodes.size();
    if (net.isChain()) {
      int[] stored = new int[count];
      Arrays.setAll(stored, i -> i);
      return new BufferPlan(new LayerRoute[0], stored);
    }
    List<List<Integer>> readers = new ArrayList<>();
    for (int j = 0; j < count; j++) {
      readers.add(new ArrayList<>());
    }
    List<Integer> inputReaders = new ArrayList<>();
    for (int j = 0; j < count; j++) {
      for (int in : nodes.get(j).inputs()) {
        (in == IntNode.NETWORK_INPUT ? inputReaders : readers.get(in)).add(j);
      }
    }
    boolean[] done = new boolean[count];
    // The node whose output each buffer holds (NETWORK_INPUT for the input), or NONE.
    int[] held = {IntNode.NETWORK_INPUT, NONE, NONE};
    List<LayerRoute> routes = new ArrayList<>();
    List<Integer> stored = new ArrayList<>();
    for (int j = 0; j < count; j++) {
      IntNode n = nodes.get(j);
      if (n.kind() != IntNode.Kind.LAYER) {
        if (!done[j]) {
          throw refuse(net, j, n.kind() == IntNode.Kind.ADD
              ? "an add neither of whose operands is a signed layer that can add the other one in its writeback"
              : "an average pool that is not a global pool of 2^n values read from the layer or add just before it");
        }
        continue;
      }
      done[j] = true;
      boolean last = j == count - 1;
      int src = bufferOf(held, n.input(0));
      if (src < 0 || src == LayerRoute.Skip()) {
        throw refuse(net, j, "a layer reading node " + n.input(0) + ", whose output is in no buffer the mesh reads");
      }
      int addFrom = -1;
      int addShift = 0;
      int poolShift = -1;
      int dst = -1;
      int result = j;
      if (n.signed() && !last) {
        int a = readers.get(j).get(0);
        IntNode add = nodes.get(a);
        int other = add.input(0) == j ? add.input(1) : add.input(0);
        if (other != IntNode.NETWORK_INPUT && !done[other]) {
          if (!free(held, LayerRoute.Skip(), readers, done, inputReaders)) {
            throw refuse(net, j, "a second shortcut while the skip buffer still holds node "
                + held[LayerRoute.Skip()] + " for its add");
          }
          dst = LayerRoute.Skip();
        } else {
          addFrom = bufferOf(held, other);
          if (addFrom < 0 || addFrom == src) {
            throw refuse(net, a, "an add whose operand " + other + " is not in a buffer beside the layer's input");
          }
          addShift = add.shift();
          result = a;
          done[a] = true;
        }
      }
      if (!last && readers.get(result).size() == 1 && nodes.get(readers.get(result).get(0)).kind() == IntNode.Kind.AVGPOOL) {
        int p = readers.get(result).get(0);
        IntNode pool = nodes.get(p);
        IntNode from = nodes.get(result);
        int area = pool.window() * pool.window();
        if (dst == LayerRoute.Skip() || pool.height() != 1 || pool.width() != 1 || Integer.bitCount(area) != 1
            || from.height() * from.width() != area) {
          throw refuse(net, p, "an average pool of " + pool.window() + "x" + pool.window() + " windows over a "
              + from.height() + "x" + from.width() + " map; the accelerator pools whole maps of 2^n values");
        }
        poolShift = Integer.numberOfTrailingZeros(area);
        result = p;
        done[p] = true;
      }
      if (!last && dst < 0) {
        // In place of the add's operand if nothing else reads it, else whichever feed buffer is free.
        int[] order = addFrom == 0 || addFrom == 1 ? new int[] {addFrom, 1 - addFrom} : new int[] {0, 1};
        for (int b : order) {
          if (b != src && free(held, b, readers, done, inputReaders)) {
            dst = b;
            break;
          }
        }
        if (dst < 0) {
          throw refuse(net, j, "a layer with no free buffer for its output: both feed buffers hold tensors that later nodes read");
        }
      }
      if (!last) {
        held[dst] = result;
      }
      routes.add(new LayerRoute(src, dst, addFrom, addShift, poolShift));
      stored.add(result);
    }
    return new BufferPlan(routes.toArray(new LayerRoute[0]), stored.stream().mapToInt(Integer::intValue).toArray());
  }

  private static int bufferOf(int[] held, int node) {
    for (int b = 0; b < held.length; b++) {
      if (held[b] == node) {
        return b;
      }
    }
    return -1;
  }

  /**
   * Whether buffer {@code b} holds nothing a node still to run reads. An add this layer performs
   * counts as run: it reads its operand word by word before the layer writes that word.
   */
  private static boolean free(int[] held, int b, List<List<Integer>> readers, boolean[] done,
      List<Integer> inputReaders) {
    int t = held[b];
    if (t == NONE) {
      return true;
    }
    for (int r : t == IntNode.NETWORK_INPUT ? inputReaders : readers.get(t)) {
      if (!done[r]) {
        return false;
      }
    }
    return true;
  }

  private static UserError refuse(IntNetwork net, int node, String what) {
    IntNode n = net.nodes().get(node);
    return new UserError(net.name() + ": the accelerator cannot run node " + node + " (" + n.name()
        + "), " + what + " (docs/accelerator.md, \"Networks with branches\")");
  }
}
