package addernet.nn;

/** Training uses batch statistics in batch norm and keeps what backward needs; eval does not. */
public enum Mode {
  TRAIN,
  EVAL
}
