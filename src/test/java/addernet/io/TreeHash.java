package addernet.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** A SHA-256 over a whole folder tree (names, file contents, link targets), to show a refusal touched nothing. */
public final class TreeHash {
  private TreeHash() {}

  public static String of(Path root) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    List<Path> all;
    try (Stream<Path> s = Files.walk(root)) {
      all = s.sorted().toList();
    }
    for (Path p : all) {
      md.update(root.relativize(p).toString().getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
      if (Files.isSymbolicLink(p)) {
        md.update(("-> " + Files.readSymbolicLink(p)).getBytes(StandardCharsets.UTF_8));
      } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        md.update(Files.readAllBytes(p));
      } else {
        md.update("/".getBytes(StandardCharsets.UTF_8));
      }
      md.update((byte) 0);
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
