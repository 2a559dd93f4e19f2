package addernet.tool;

import java.util.List;

/** A JVM that runs a long external command tree (sh and two sleeps) until it is killed. */
public final class LongToolMain {
  private LongToolMain() {}

  public static void main(String[] args) {
    ExternalTool.run(List.of("sh", "-c", "sleep 300 & sleep 300; wait"), null, 10);
  }
}
