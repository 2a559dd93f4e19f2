package addernet.export;

import addernet.io.FileHash;
import addernet.io.StrictJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The package's data files against its manifest (docs/model-package.md, "What the reader
 * checks"): the {@code files} list with its hashes, nothing unlisted beside it, and each array
 * descriptor with the .bin and .mem files it names. Every listed file must be named by exactly
 * one descriptor, so a file no check reads cannot pass for part of the model.
 */
final class PackageFiles {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern DATA_FILE =
      Pattern.compile("(weights|golden)/[A-Za-z][A-Za-z0-9_-]{0,63}\\.(mem|bin)");

  private final Path dir;
  private final StrictJson<PackageException> json;
  /** The files listed in the manifest, and whether an array descriptor has named each yet. */
  private final Map<String, Boolean> files = new LinkedHashMap<>();

  PackageFiles(Path dir, StrictJson<PackageException> json) {
    this.dir = dir;
    this.json = json;
  }

  /** Every listed file: a safe name, a lower-case SHA-256, and a regular file with that hash. */
  void checkListed(JsonNode root) throws IOException {
    JsonNode f = json.object(root, "files", "files");
    Iterator<Map.Entry<String, JsonNode>> it = f.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String rel = e.getKey();
      String field = "files." + rel;
      if (!DATA_FILE.matcher(rel).matches()) {
        throw json.bad(StrictJson.shownField("files", rel), "not a file of this format (weights/<layer>.mem|bin or"
            + " golden/<input or layer>.mem|bin)");
      }
      JsonNode v = e.getValue();
      if (!v.isTextual() || !SHA256.matcher(v.textValue()).matches()) {
        throw json.bad(field, "must be a SHA-256 as 64 lower-case hex digits, got " + StrictJson.shown(v));
      }
      Path p = dir.resolve(rel);
      if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new PackageException(rel + ": missing (listed in " + ModelPackage.MANIFEST + " files)");
      }
      if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        throw new PackageException(rel + ": must be a regular file (not a folder or a link)");
      }
      String got = FileHash.sha256(p);
      if (!got.equals(v.textValue())) {
        throw new PackageException(rel + ": SHA-256 is " + got + " but " + ModelPackage.MANIFEST + " files."
            + rel + " says " + v.textValue() + " (file changed or damaged)");
      }
      files.put(rel, false);
    }
  }

  /**
   * Nothing unlisted beside the listed files: a file the checksums do not cover could be taken
   * for part of the model. Hidden entries (the output marker, editors' and systems' files) are
   * not part of any package and are skipped.
   */
  void checkFolderContents() throws IOException {
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
        if (d.equals(dir)) {
          return FileVisitResult.CONTINUE;
        }
        if (hidden(d)) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        String rel = relative(d);
        if (!rel.equals("weights") && !rel.equals("golden")) {
          throw unlisted(rel + "/", "a folder");
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path p, BasicFileAttributes a) throws IOException {
        if (hidden(p)) {
          return FileVisitResult.CONTINUE;
        }
        String rel = relative(p);
        if (rel.equals(ModelPackage.MANIFEST) || files.containsKey(rel)) {
          return FileVisitResult.CONTINUE;
        }
        throw unlisted(rel, a.isSymbolicLink() ? "a link" : a.isRegularFile() ? "a file" : "an entry");
      }

      @Override
      public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
        throw new PackageException(relative(p) + ": cannot read: " + StrictJson.describe(e));
      }
    });
  }

  /** The listed files no array descriptor named: each is refused, as a file no check reads. */
  void checkAllNamed() {
    for (Map.Entry<String, Boolean> e : files.entrySet()) {
      if (!e.getValue()) {
        throw json.bad("files." + e.getKey(), "no array descriptor names this file (files lists exactly the"
            + " package's .mem and .bin files)");
      }
    }
  }

  private PackageException unlisted(String rel, String what) {
    String name = rel.matches("[A-Za-z0-9_./ -]{1,200}") ? rel : StrictJson.quoted(rel, 200);
    return new PackageException(name + ": " + what + " that " + ModelPackage.MANIFEST + " does not list; a"
        + " package holds only its listed files (hidden names, starting with '.', are ignored): move it out");
  }

  private static boolean hidden(Path p) {
    return p.getFileName().toString().startsWith(".");
  }

  private String relative(Path p) {
    return dir.relativize(p).toString().replace('\\', '/');
  }

  /**
   * Reads one array descriptor and its two files: the declared shape against the layer, the
   * file names against the layout, the .bin length against the count (before allocating), every
   * value against its width, and every .mem word against the .bin value.
   */
  int[] readArray(JsonNode a, String f, String base, int bits, boolean signed, long[] shape) throws IOException {
    long count = 1;
    for (long s : shape) {
      count *= s; // each factor is at most 2^16, so four of them fit a long
    }
    PackageReader.checkElements(json, f, count, "the array");
    json.integer(a, "count", f + ".count", (int) count, (int) count);
    json.integer(a, "bits", f + ".bits", bits, bits);
    JsonNode sg = a.get("signed");
    if (sg == null || !sg.isBoolean() || sg.booleanValue() != signed) {
      throw json.bad(f + ".signed", "must be " + signed + ", got " + StrictJson.shown(sg));
    }
    JsonNode sh = a.get("shape");
    boolean same = sh != null && sh.isArray() && sh.size() == shape.length;
    for (int i = 0; same && i < shape.length; i++) {
      same = sh.get(i).isIntegralNumber() && sh.get(i).canConvertToLong() && sh.get(i).longValue() == shape[i];
    }
    if (!same) {
      throw json.bad(f + ".shape", "must be " + Arrays.toString(shape) + ", got " + StrictJson.shown(sh));
    }
    String bin = base + ".bin";
    String mem = base + ".mem";
    for (String[] file : new String[][] {{"bin", bin}, {"mem", mem}}) {
      json.same(a, file[0], f + "." + file[0], file[1]);
      if (!files.containsKey(file[1])) {
        throw json.bad("files", "must list " + file[1] + " (with its SHA-256), named by " + f + "." + file[0]);
      }
      files.put(file[1], true);
    }
    int[] v = IntArrayFiles.readBin(dir.resolve(bin), bin, (int) count, bits, signed);
    IntArrayFiles.checkMem(dir.resolve(mem), mem, v, bits, signed);
    return v;
  }
}
