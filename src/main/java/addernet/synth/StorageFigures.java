package addernet.synth;

import addernet.io.UserError;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The optional storage figures an accelerator's {@code accel.json} may carry, read on their own
 * (a tree read, not the generator's manifest) so that synth reports them when a folder has them
 * and says nothing when it has not. Each is null when absent.
 *
 * @param activationBitsNeeded the activation bits the network needs at once
 * @param activationBitsStored the activation bits the accelerator's buffers hold
 * @param requantizers the requantizer instances
 */
public record StorageFigures(Long activationBitsNeeded, Long activationBitsStored, Long requantizers) {
  public static final StorageFigures NONE = new StorageFigures(null, null, null);

  /** The figures of {@code file}, or {@link #NONE} if there is no such file (a bare array's folder). */
  public static StorageFigures read(Path file) {
    if (!Files.isRegularFile(file)) {
      return NONE;
    }
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage(), e);
    }
    return new StorageFigures(
        field(file, root, "activationBitsNeeded"),
        field(file, root, "activationBitsStored"),
        field(file, root, "requantizers"));
  }

  private static Long field(Path file, JsonNode root, String name) {
    JsonNode v = root.path(name);
    if (v.isMissingNode()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw new UserError(file + ": field " + name + " must be a whole number of at least 0, got " + v);
    }
    return v.asLong();
  }

  /** The summary's lines for the figures present; none if none is. */
  public java.util.List<String> lines() {
    java.util.List<String> out = new java.util.ArrayList<>();
    if (activationBitsStored != null && activationBitsNeeded != null) {
      out.add(String.format(java.util.Locale.ROOT, "activation storage: %d bits stored for %d needed (%.2f x)",
          activationBitsStored, activationBitsNeeded,
          activationBitsNeeded == 0 ? Double.NaN : (double) activationBitsStored / activationBitsNeeded));
    } else if (activationBitsStored != null) {
      out.add("activation storage: " + activationBitsStored + " bits stored");
    } else if (activationBitsNeeded != null) {
      out.add("activation storage: " + activationBitsNeeded + " bits needed");
    }
    if (requantizers != null) {
      out.add("requantizers: " + requantizers);
    }
    return out;
  }
}
