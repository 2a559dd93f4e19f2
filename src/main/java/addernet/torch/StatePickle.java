package addernet.torch;

import addernet.io.Names;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

/**
 * The pickle layer of {@link StateDictReader}: {@code data.pkl} as a dict of tensor views
 * ({@link TensorRef}) into storages that the zip layer then reads.
 *
 * <p>A pickle is a program for a small stack machine whose "global" instruction names any Python
 * callable. Pyrolite never runs Python, but it would build a generic object for any name; this
 * layer resolves names itself and refuses every one but the few a state_dict needs, so that a
 * file holding anything else (a whole pickled model, arbitrary objects) is rejected by name.
 * {@link PickleBounds} measures the pickle before Pyrolite runs it.
 */
final class StatePickle {
  private StatePickle() {}

  /**
   * The pickle's top-level object (a state_dict is a {@link Map} of {@link TensorRef}).
   *
   * @param where the file and entry, for messages
   */
  static Object load(byte[] pkl, String where) {
    PickleBounds.check(pkl, where);
    SafeUnpickler unpickler = new SafeUnpickler(where);
    try {
      return unpickler.load(unpickler.in = new Bytes(pkl));
    } catch (TorchFormatException e) {
      throw e;
    } catch (IOException | RuntimeException | StackOverflowError e) {
      throw new TorchFormatException(where + " at byte " + unpickler.at() + ": not a state_dict pickle: "
          + Names.printable(String.valueOf(e.getMessage())), e);
    }
  }

  static String describe(Object o) {
    if (o == null) {
      return "None";
    }
    if (o instanceof Map<?, ?>) {
      return "a dict";
    }
    if (o instanceof Object[] || o instanceof List<?>) {
      return "a tuple or list";
    }
    if (o instanceof String s) {
      return "the string " + Names.printable(s);
    }
    return "a " + o.getClass().getSimpleName() + " value";
  }

  /** What the pickle's persistent id names: one storage of the zip. */
  record StorageRef(TorchTensor.DType dtype, String key, long numel) {}

  /** A tensor as the pickle describes it: a view into a storage. */
  record TensorRef(StorageRef storage, long offset, int[] shape, long[] stride) {}

  /** A storage class named by the pickle (torch.FloatStorage, ...); it is never called. */
  record StorageType(TorchTensor.DType dtype) {}

  /** The dict that collections.OrderedDict builds; the state it is given (_metadata) is dropped. */
  static final class OrderedDict extends LinkedHashMap<Object, Object> {}

  /** The pickle's bytes, with the position of the opcode being run, for messages. */
  private static final class Bytes extends java.io.ByteArrayInputStream {
    Bytes(byte[] b) {
      super(b);
    }

    int position() {
      return pos;
    }
  }

  private static final class SafeUnpickler extends Unpickler {
    private final String where;
    Bytes in;
    private int at;

    SafeUnpickler(String where) {
      this.where = where;
    }

    int at() {
      return at;
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
      at = in.position() - 1;
      switch (key) {
        case Opcodes.GLOBAL -> {
          String module = PickleUtils.readline(input);
          String name = PickleUtils.readline(input);
          stack.add(resolve(module, name));
          return NO_RETURN_VALUE;
        }
        case Opcodes.STACK_GLOBAL -> {
          Object name = stack.pop();
          Object module = stack.pop();
          if (!(name instanceof String n) || !(module instanceof String m)) {
            throw bad("a global named by something other than two strings");
          }
          stack.add(resolve(m, n));
          return NO_RETURN_VALUE;
        }
        // A Python dict keeps its insertion order, and a state_dict's order is its layer order; Pyrolite
        // gathers dict items in a HashMap, so every dict is built here instead.
        case Opcodes.EMPTY_DICT -> {
          stack.add(new LinkedHashMap<>());
          return NO_RETURN_VALUE;
        }
        case Opcodes.DICT -> {
          List<Object> items = stack.pop_all_since_marker();
          LinkedHashMap<Object, Object> dict = new LinkedHashMap<>();
          putAll(dict, items);
          stack.add(dict);
          return NO_RETURN_VALUE;
        }
        case Opcodes.SETITEM -> {
          Object value = stack.pop();
          Object k = stack.pop();
          putAll(target(), List.of(keyOf(k), value == null ? NONE : value));
          return NO_RETURN_VALUE;
        }
        case Opcodes.SETITEMS -> {
          List<Object> items = stack.pop_all_since_marker();
          putAll(target(), items);
          return NO_RETURN_VALUE;
        }
        case Opcodes.BUILD -> {
          stack.pop();
          if (!(stack.peek() instanceof OrderedDict)) {
            throw bad("sets the state of " + describe(stack.peek()) + "; only an ordered dict's is taken");
          }
          return NO_RETURN_VALUE;
        }
        default -> {
          return super.dispatch(key);
        }
      }
    }

    private static final Object NONE = new Object();

    private Map<Object, Object> target() {
      if (!(stack.peek() instanceof Map<?, ?> m)) {
        throw bad("sets items of " + describe(stack.peek()) + ", not of a dict");
      }
      @SuppressWarnings("unchecked")
      Map<Object, Object> dict = (Map<Object, Object>) m;
      return dict;
    }

    /**
     * Dict keys are strings or numbers: a container as a key would be hashed through its contents,
     * and a container that holds itself would be hashed forever.
     */
    private Object keyOf(Object k) {
      if (!(k instanceof String || k instanceof Integer || k instanceof Long || k instanceof Boolean)) {
        throw bad("a dict key that is " + describe(k) + "; a state_dict's keys are strings");
      }
      return k;
    }

    private void putAll(Map<Object, Object> dict, List<Object> items) {
      if (items.size() % 2 != 0) {
        throw bad("dict items that are not key, value pairs");
      }
      for (int i = 0; i < items.size(); i += 2) {
        Object v = items.get(i + 1);
        dict.put(keyOf(items.get(i)), v == NONE ? null : v);
      }
    }

    private TorchFormatException bad(String what) {
      return new TorchFormatException(where + " at byte " + at + ": " + what);
    }

    private Object resolve(String module, String name) {
      String full = module + "." + name;
      switch (full) {
        case "collections.OrderedDict":
          return (IObjectConstructor) args -> new OrderedDict();
        case "torch._utils._rebuild_tensor_v2":
        case "torch._utils._rebuild_tensor":
          return (IObjectConstructor) StatePickle::rebuildTensor;
        case "torch._utils._rebuild_parameter":
          return (IObjectConstructor) args -> {
            if (args.length < 1 || !(args[0] instanceof TensorRef t)) {
              throw new PickleException("_rebuild_parameter without a tensor");
            }
            return t;
          };
        default:
          if (module.equals("torch")) {
            TorchTensor.DType d = TorchTensor.DType.ofStorageClass(name);
            if (d != null) {
              return new StorageType(d);
            }
          }
          throw new TorchFormatException(where + " at byte " + at + ": its pickle names " + Names.shown(full)
              + "; a state_dict holds only tensors"
              + " and ordered dicts, so it is refused without being run (a whole pickled model is refused too:"
              + " save torch.save(model.state_dict(), FILE))");
      }
    }

    @Override
    protected Object persistentLoad(Object pid) {
      if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])
          || !(t[1] instanceof StorageType type) || !(t[2] instanceof String key) || !isInteger(t[4])) {
        throw bad("a persistent id that is not a storage ('storage', type, key, device, size)");
      }
      if (!key.matches("[A-Za-z0-9_]{1,64}")) {
        throw bad("a storage key " + Names.printable(key) + "; torch.save's keys are letters, digits and '_'");
      }
      return new StorageRef(type.dtype(), key, ((Number) t[4]).longValue());
    }
  }

  /** A Python int that fits in 64 bits; a longer one is a BigInteger here, and is refused. */
  private static boolean isInteger(Object o) {
    return o instanceof Integer || o instanceof Long;
  }

  private static Object rebuildTensor(Object[] args) {
    if (args.length < 4 || !(args[0] instanceof StorageRef s) || !isInteger(args[1])
        || !(args[2] instanceof Object[] size) || !(args[3] instanceof Object[] stride) || size.length != stride.length
        || size.length > PickleBounds.MAX_DEPTH) {
      throw new PickleException("a tensor rebuilt from something other than (storage, offset, size, stride)");
    }
    int[] shape = new int[size.length];
    long[] strides = new long[size.length];
    for (int i = 0; i < size.length; i++) {
      if (!isInteger(size[i]) || !isInteger(stride[i])) {
        throw new PickleException("a tensor whose size or stride is not a tuple of integers");
      }
      long d = ((Number) size[i]).longValue();
      if (d < 0 || d > Integer.MAX_VALUE) {
        throw new PickleException("tensor size " + d + " out of range");
      }
      shape[i] = (int) d;
      strides[i] = ((Number) stride[i]).longValue();
    }
    return new TensorRef(s, ((Number) args[1]).longValue(), shape, strides);
  }
}
