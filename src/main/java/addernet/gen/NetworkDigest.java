package addernet.gen;

import addernet.hw.LayerParams;
import addernet.hw.LayerRoute;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The SHA-256 that ties a generated accelerator to the network it was generated from ({@code
 * networkSha256} in accel.json): over everything that decides what the accelerator computes, in
 * a fixed binary order (docs/accelerator.md, "accel.json"). The network's name is left out, so
 * renaming a package does not orphan its RTL; the PE operation, the input shift, the logit width
 * and every layer's name, shape, requantization and weights are in.
 */
public final class NetworkDigest {
  private static final String VERSION = "addernet-network-digest-1";

  private NetworkDigest() {}

  public static String of(String op, int inputShift, int logitBits, List<LayerParams> layers) {
    return of(op, inputShift, logitBits, layers, new LayerRoute[0]);
  }

  /** With the routes of a network with branches; a chain's (none) leave the digest as it was. */
  public static String of(String op, int inputShift, int logitBits, List<LayerParams> layers, LayerRoute[] routes) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
    try (DataOutputStream out = new DataOutputStream(new DigestOutputStream(OutputStream.nullOutputStream(), md))) {
      out.writeUTF(VERSION);
      out.writeUTF(op);
      out.writeInt(inputShift);
      out.writeInt(logitBits);
      out.writeInt(layers.size());
      for (LayerParams l : layers) {
        out.writeUTF(l.name());
        for (int v : new int[] {l.inC(), l.inH(), l.inW(), l.outC(), l.kernel(), l.stride(), l.pad(),
            l.pool() ? 1 : 0, l.shift(), l.lo(), l.hi()}) {
          out.writeInt(v);
        }
        out.writeInt(l.terms().length);
        for (int[] t : l.terms()) {
          out.writeInt(t.length);
          for (int d : t) {
            out.writeInt(d);
          }
        }
        out.writeInt(l.bias().length);
        for (long b : l.bias()) {
          out.writeLong(b);
        }
        out.writeInt(l.weights().length);
        for (int w : l.weights()) {
          out.writeInt(w);
        }
      }
      for (LayerRoute r : routes) {
        for (int v : new int[] {r.src(), r.dst(), r.addFrom(), r.addShift(), r.poolShift()}) {
          out.writeInt(v);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a null stream does not fail
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
