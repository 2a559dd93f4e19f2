package addernet.export;

import addernet.io.FileHash;
import addernet.quant.PeOp;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import addernet.quant.Scales;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The validating reader of docs/model-package.md ("What the reader checks"): every rule of that
 * page is enforced here, in the page's order, and each refusal is a {@link PackageException} that
 * names the file, the field (as a JSON path) and what was expected. Sizes declared in the manifest
 * are compared with the real files before anything is allocated for them, so no input can end in
 * another exception.
 */
final class PackageReader {
  /** The manifest holds no bulk data; a bigger one is not a package (and would fill the heap). */
  static final long MAX_MANIFEST_BYTES = 64L << 20;
  /** Largest element count of one array: a signed 32-bit index (a Java array, a $readmemh address). */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE;
  /** Contract section 3: the reduction length K is limited to 2^24. */
  static final long MAX_K = 1L << 24;
  static final int MAX_SIZE = 1 << 16;
  static final int MAX_KERNEL = 1 << 10;
  static final int MAX_GOLDEN = 1 << 16;
  static final String LAYER_NAME_RULE = "a letter, then up to 63 letters, digits, '_' or '-'";
  private static final Pattern LAYER_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern DATA_FILE =
      Pattern.compile("(weights|golden)/[A-Za-z][A-Za-z0-9_-]{0,63}\\.(mem|bin)");
  private static final BigInteger BOUND = BigInteger.ONE.shiftLeft(62);

  private static final ObjectMapper STRICT =
      JsonMapper.builder(
              JsonFactory.builder()
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxNestingDepth(100)
                          .maxNumberLength(100)
                          .maxStringLength(1 << 20)
                          .build())
                  .build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .build();

  private final Path given;
  private Path dir;
  private JsonNode root;
  /** The files listed in the manifest, and whether an array descriptor has named each yet. */
  private final Map<String, Boolean> files = new LinkedHashMap<>();

  private PackageReader(Path dir) {
    this.given = dir;
  }

  static ModelPackage read(Path dir) throws PackageException {
    try {
      return new PackageReader(dir).read();
    } catch (PackageException e) {
      throw e;
    } catch (IOException e) {
      throw new PackageException(dir + ": cannot read: " + describe(e));
    }
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : " " + m);
  }

  // ---------------------------------------------------------------- the steps, in the doc's order

  private ModelPackage read() throws IOException {
    if (!Files.isDirectory(given)) {
      throw new PackageException(given + ": " + (Files.exists(given) ? "not a folder" : "no such folder")
          + "; a model package is a folder holding " + ModelPackage.MANIFEST);
    }
    dir = given.toRealPath();
    root = manifest();
    if (!ModelPackage.FORMAT.equals(root.path("format").textValue())) {
      throw bad("format", "must be \"" + ModelPackage.FORMAT + "\", got " + shown(root.get("format")));
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isIntegralNumber() || !version.canConvertToInt()
        || version.intValue() != ModelPackage.VERSION) {
      throw bad("version", "unsupported package version " + shown(version) + " (this reader knows version "
          + ModelPackage.VERSION + ")");
    }
    checkFiles();
    checkFolderContents();
    String network = text(root, "network", "network");
    String problem = addernet.io.Names.problem(network);
    if (problem != null) {
      throw bad("network", "must be a name without control characters, line separators or bidirectional controls"
          + " (docs/spec-format.md, \"Names\"): " + addernet.io.Names.printable(network) + " " + problem);
    }
    JsonNode in = obj(root, "input", "input");
    int ch = integer(in, "channels", "input.channels", 1, MAX_SIZE);
    int h = integer(in, "height", "input.height", 1, MAX_SIZE);
    int w = integer(in, "width", "input.width", 1, MAX_SIZE);
    checkElements("input", (long) ch * h * w, "the input image");
    integer(in, "pixel_bits", "input.pixel_bits", 8, 8);
    int logitBits = integer(root, "logit_bits", "logit_bits", 2, 32);
    double logitScale = positive(root, "logit_scale", "logit_scale");
    JsonNode layersNode = array(root, "layers", "layers");
    if (layersNode.isEmpty()) {
      throw bad("layers", "must hold at least one layer, got []");
    }
    int n = layersNode.size();
    // Data bits first: each layer's clamp is the next layer's range (contract section 7).
    int[] dataBits = new int[n];
    for (int i = 0; i < n; i++) {
      dataBits[i] = integer(obj(layersNode, i, "layers[" + i + "]"), "data_bits", "layers[" + i + "].data_bits", 2, 16);
    }
    integer(in, "input_shift", "input.input_shift", IntNetwork.inputShift(dataBits[0]),
        IntNetwork.inputShift(dataBits[0]));
    List<IntLayer> layers = new ArrayList<>();
    double[] scales = new double[n];
    Map<String, String> names = new HashMap<>();
    PeOp networkOp = null;
    int c = ch;
    int hh = h;
    int ww = w;
    for (int i = 0; i < n; i++) {
      JsonNode l = layersNode.get(i);
      String f = "layers[" + i + "]";
      String name = text(l, "name", f + ".name");
      // "input" names the golden input's files; on a case-insensitive file system so does "INPUT".
      if (!LAYER_NAME.matcher(name).matches() || name.equalsIgnoreCase("input")) {
        throw bad(f + ".name", "must be " + LAYER_NAME_RULE + ", and not \"input\" in any case (the name is also a file"
            + " name: weights/<name>.mem), got " + shown(l.get("name")));
      }
      String earlier = names.putIfAbsent(name.toLowerCase(Locale.ROOT), f);
      if (earlier != null) {
        throw bad(f + ".name", "\"" + name + "\" is already the name of " + earlier
            + " (layer names are unique, ignoring case: each names its own files)");
      }
      String type = text(l, "type", f + ".type");
      if (!type.equals("conv") && !type.equals("fc")) {
        throw bad(f + ".type", "must be conv or fc, got " + shown(l.get("type")));
      }
      PeOp op = operation(l, f);
      if (networkOp == null) {
        networkOp = op;
      } else if (op != networkOp) {
        throw bad(f + ".operation", "must be " + networkOp.word() + " like layers[0]"
            + " (all layers of a package share one operation, contract section 6), got "
            + (l.has("operation") ? shown(l.get("operation")) : "nothing (adder)"));
      }
      int inC = integer(l, "in_channels", f + ".in_channels", c, c);
      int inH = integer(l, "in_height", f + ".in_height", hh, hh);
      int inW = integer(l, "in_width", f + ".in_width", ww, ww);
      int outC = integer(l, "out_channels", f + ".out_channels", 1, MAX_SIZE);
      int k = integer(l, "kernel", f + ".kernel", 1, MAX_KERNEL);
      int stride = integer(l, "stride", f + ".stride", 1, MAX_KERNEL);
      int pad = integer(l, "padding", f + ".padding", 0, MAX_KERNEL);
      boolean pool = bool(l, "pool", f + ".pool");
      boolean fc = type.equals("fc");
      if (fc) {
        integer(l, "kernel", f + ".kernel", inH, inH); // an fc layer covers its input
        if (inW != inH) {
          throw bad(f + ".kernel", "an fc layer's kernel covers its whole square input, but the input is "
              + inH + "x" + inW);
        }
        integer(l, "stride", f + ".stride", 1, 1);
        integer(l, "padding", f + ".padding", 0, 0);
      }
      if (inH + 2L * pad < k || inW + 2L * pad < k) {
        throw bad(f + ".kernel", "must fit the " + inH + "x" + inW + " input with padding " + pad + ", got " + k);
      }
      long kk = (long) inC * k * k;
      if (kk > MAX_K) {
        throw bad(f, "K = in_channels * kernel^2 = " + kk + " exceeds the contract's 2^24 (section 3)");
      }
      int convH = (inH + 2 * pad - k) / stride + 1;
      int convW = (inW + 2 * pad - k) / stride + 1;
      if (pool && (convH < 2 || convW < 2)) {
        throw bad(f + ".pool", "a 2x2 max-pool needs a convolution output of at least 2x2, got " + convH + "x" + convW);
      }
      checkElements(f, (long) outC * convH * convW, "its output before pooling");
      int bits = dataBits[i];
      scales[i] = positive(l, "scale", f + ".scale");
      int[] weights = readArray(obj(l, "weights", f + ".weights"), f + ".weights", "weights/" + name, bits, true,
          new long[] {outC, inC, k, k});
      boolean last = i == n - 1;
      Requant rq = requant(obj(l, "requant", f + ".requant"), f + ".requant", outC, last,
          last ? logitBits : dataBits[i + 1]);
      IntLayer layer;
      try {
        layer = new IntLayer(name, op, fc, inC, inH, inW, outC, k, stride, pad, bits, weights, rq, pool);
      } catch (IllegalArgumentException e) {
        throw bad(f, e.getMessage()); // the checks above leave nothing for it; kept as a guard
      }
      integer(l, "out_height", f + ".out_height", layer.outHeight(), layer.outHeight());
      integer(l, "out_width", f + ".out_width", layer.outWidth(), layer.outWidth());
      layers.add(layer);
      // The MAC's bound depends on the input range, i.e. on the layers before (section 3).
      int acc = network("partial", ch, h, w, layers, logitBits).accBits(i);
      integer(l, "acc_bits", f + ".acc_bits", acc, acc);
      checkBound(rq, acc, f + ".requant");
      c = layer.outChannels();
      hh = layer.outHeight();
      ww = layer.outWidth();
    }
    IntNetwork net = network(network, ch, h, w, layers, logitBits);
    integer(root, "classes", "classes", net.classes(), net.classes());
    ModelPackage.Golden golden = golden(net);
    for (Map.Entry<String, Boolean> e : files.entrySet()) {
      if (!e.getValue()) {
        throw bad("files." + e.getKey(), "no array descriptor names this file (files lists exactly the"
            + " package's .mem and .bin files)");
      }
    }
    Map<String, Object> prov = new LinkedHashMap<>();
    JsonNode p = root.get("provenance");
    if (p != null) {
      if (!p.isObject()) {
        throw bad("provenance", "must be an object, got " + shown(p));
      }
      Iterator<Map.Entry<String, JsonNode>> it = p.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        try {
          prov.put(e.getKey(), STRICT.convertValue(e.getValue(), Object.class));
        } catch (IllegalArgumentException x) {
          throw bad(shownField("provenance", e.getKey()), "cannot be read as a JSON value: " + oneLine(x.getMessage()));
        }
      }
    }
    return new ModelPackage(net, new Scales(scales, logitScale), prov, golden);
  }

  private JsonNode manifest() throws IOException {
    Path m = dir.resolve(ModelPackage.MANIFEST);
    if (!Files.exists(m, LinkOption.NOFOLLOW_LINKS)) {
      throw new PackageException(ModelPackage.MANIFEST + ": missing in " + given);
    }
    if (!Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) {
      throw new PackageException(ModelPackage.MANIFEST + ": must be a regular file (not a folder or a link)");
    }
    long size = Files.size(m);
    if (size > MAX_MANIFEST_BYTES) {
      throw new PackageException(ModelPackage.MANIFEST + ": " + size + " bytes, more than the "
          + (MAX_MANIFEST_BYTES >> 20) + " MiB a manifest may have (it holds no bulk data)");
    }
    byte[] bytes = Files.readAllBytes(m);
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new PackageException(ModelPackage.MANIFEST + ": not UTF-8 text");
    }
    if (text.startsWith("\uFEFF")) {
      throw new PackageException(ModelPackage.MANIFEST + ": starts with a byte-order mark; JSON in UTF-8 has none");
    }
    JsonNode r;
    try {
      r = STRICT.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new PackageException(ModelPackage.MANIFEST + ": not valid JSON"
          + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()) + ": "
          + oneLine(e.getOriginalMessage()));
    }
    if (r == null || !r.isObject()) {
      throw new PackageException(ModelPackage.MANIFEST + ": must be a JSON object, got "
          + (r == null || r.isMissingNode() ? "an empty file" : shown(r)));
    }
    return r;
  }

  /** Every listed file: a safe name, a lower-case SHA-256, and a regular file with that hash. */
  private void checkFiles() throws IOException {
    JsonNode f = obj(root, "files", "files");
    Iterator<Map.Entry<String, JsonNode>> it = f.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String rel = e.getKey();
      String field = "files." + rel;
      if (!DATA_FILE.matcher(rel).matches()) {
        throw bad(shownField("files", rel), "not a file of this format (weights/<layer>.mem|bin or"
            + " golden/<input or layer>.mem|bin)");
      }
      JsonNode v = e.getValue();
      if (!v.isTextual() || !SHA256.matcher(v.textValue()).matches()) {
        throw bad(field, "must be a SHA-256 as 64 lower-case hex digits, got " + shown(v));
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
  private void checkFolderContents() throws IOException {
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
        throw new PackageException(relative(p) + ": cannot read: " + describe(e));
      }
    });
  }

  private PackageException unlisted(String rel, String what) {
    String name = rel.matches("[A-Za-z0-9_./ -]{1,200}") ? rel : cut(new TextNode(rel).toString(), 200);
    return new PackageException(name + ": " + what + " that " + ModelPackage.MANIFEST + " does not list; a"
        + " package holds only its listed files (hidden names, starting with '.', are ignored): move it out");
  }

  private static boolean hidden(Path p) {
    return p.getFileName().toString().startsWith(".");
  }

  private String relative(Path p) {
    return dir.relativize(p).toString().replace('\\', '/');
  }

  private PeOp operation(JsonNode l, String f) throws PackageException {
    // Packages written before the CNN twin have no operation: every layer was an adder layer.
    if (!l.has("operation")) {
      return PeOp.ADDER;
    }
    JsonNode o = l.get("operation");
    try {
      return PeOp.fromWord(o.isTextual() ? o.textValue() : null);
    } catch (IllegalArgumentException e) {
      throw bad(f + ".operation", "must be adder or multiply, got " + shown(o));
    }
  }

  private IntNetwork network(String name, int ch, int h, int w, List<IntLayer> layers, int logitBits)
      throws PackageException {
    try {
      return new IntNetwork(name, ch, h, w, layers, logitBits);
    } catch (IllegalArgumentException e) {
      throw bad("layers", e.getMessage()); // the reader's own checks come first; kept as a guard
    }
  }

  private void checkElements(String f, long count, String what) throws PackageException {
    if (count > MAX_ELEMENTS) {
      throw bad(f, what + " has " + count + " elements, more than the 2^31 - 1 of any array of this format");
    }
  }

  /**
   * Reads one array descriptor and its two files: the declared shape against the layer, the
   * file names against the layout, the .bin length against the count (before allocating), every
   * value against its width, and every .mem word against the .bin value.
   */
  private int[] readArray(JsonNode a, String f, String base, int bits, boolean signed, long[] shape)
      throws IOException {
    long count = 1;
    for (long s : shape) {
      count *= s; // each factor is at most 2^16, so four of them fit a long
    }
    checkElements(f, count, "the array");
    integer(a, "count", f + ".count", (int) count, (int) count);
    integer(a, "bits", f + ".bits", bits, bits);
    JsonNode sg = a.get("signed");
    if (sg == null || !sg.isBoolean() || sg.booleanValue() != signed) {
      throw bad(f + ".signed", "must be " + signed + ", got " + shown(sg));
    }
    JsonNode sh = a.get("shape");
    boolean same = sh != null && sh.isArray() && sh.size() == shape.length;
    for (int i = 0; same && i < shape.length; i++) {
      same = sh.get(i).isIntegralNumber() && sh.get(i).canConvertToLong() && sh.get(i).longValue() == shape[i];
    }
    if (!same) {
      throw bad(f + ".shape", "must be " + Arrays.toString(shape) + ", got " + shown(sh));
    }
    String bin = base + ".bin";
    String mem = base + ".mem";
    for (String[] file : new String[][] {{"bin", bin}, {"mem", mem}}) {
      JsonNode v = a.get(file[0]);
      if (v == null || !v.isTextual() || !v.textValue().equals(file[1])) {
        throw bad(f + "." + file[0], "must be \"" + file[1] + "\", got " + shown(v));
      }
      if (!files.containsKey(file[1])) {
        throw bad("files", "must list " + file[1] + " (with its SHA-256), named by " + f + "." + file[0]);
      }
      files.put(file[1], true);
    }
    int[] v = IntArrayFiles.readBin(dir.resolve(bin), bin, (int) count, bits, signed);
    IntArrayFiles.checkMem(dir.resolve(mem), mem, v, bits, signed);
    return v;
  }

  private Requant requant(JsonNode r, String f, int channels, boolean last, int outBits) throws PackageException {
    int shift = integer(r, "shift", f + ".shift", 0, 62);
    // Contract section 7: after ReLU the clamp is the next layer's non-negative data range; the
    // last layer's is the whole logit range. Neither is a free choice.
    int lo = last ? (int) -(1L << (outBits - 1)) : 0;
    int hi = (int) ((1L << (outBits - 1)) - 1);
    String why = last ? " (the " + outBits + "-bit logit range)" : " (ReLU into the next layer's " + outBits + "-bit data)";
    integer(r, "lo", f + ".lo", lo, lo, why);
    integer(r, "hi", f + ".hi", hi, hi, why);
    JsonNode terms = array(r, "terms", f + ".terms");
    JsonNode bias = array(r, "bias", f + ".bias");
    if (terms.size() != channels) {
      throw bad(f + ".terms", "must hold one list per output channel (" + channels + "), got " + terms.size());
    }
    if (bias.size() != channels) {
      throw bad(f + ".bias", "must hold one integer per output channel (" + channels + "), got " + bias.size());
    }
    int[][] t = new int[channels][];
    long[] b = new long[channels];
    int most = 0;
    for (int c = 0; c < channels; c++) {
      JsonNode tc = terms.get(c);
      String fc = f + ".terms[" + c + "]";
      if (!tc.isArray()) {
        throw bad(fc, "must be a list of integers, got " + shown(tc));
      }
      t[c] = new int[tc.size()];
      for (int j = 0; j < tc.size(); j++) {
        JsonNode d = tc.get(j);
        String fj = fc + "[" + j + "]";
        if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() == 0
            || Math.abs(d.intValue()) - 1 > Requant.MAX_EXPONENT) {
          throw bad(fj, "must be a non-zero integer in +-1..+-" + (Requant.MAX_EXPONENT + 1) + ", got " + shown(d));
        }
        t[c][j] = d.intValue();
        if (j > 0 && Math.abs(t[c][j]) >= Math.abs(t[c][j - 1])) {
          throw bad(fj, Math.abs(t[c][j]) == Math.abs(t[c][j - 1])
              ? "repeats the power of two of " + fc + "[" + (j - 1) + "] (each power at most once per channel), got " + t[c][j]
              : "must be a smaller power of two than " + fc + "[" + (j - 1) + "] = " + t[c][j - 1]
                  + " (most significant first), got " + t[c][j]);
        }
      }
      most = Math.max(most, t[c].length);
      JsonNode bc = bias.get(c);
      if (!bc.isIntegralNumber() || !bc.canConvertToLong()) {
        throw bad(f + ".bias[" + c + "]", "must be a 64-bit integer, got " + shown(bc));
      }
      b[c] = bc.longValue();
    }
    integer(r, "max_terms", f + ".max_terms", most, most, " (the most terms of any channel)");
    return new Requant(shift, t, b, lo, hi);
  }

  /**
   * Contract section 7: |v| <= D 2^(A + e_max) + |bias| must stay below 2^62. Computed exactly
   * (a bias may be any long, and 2^(A + e_max) alone can pass 2^63).
   */
  static void checkBound(Requant r, int accBits, String f) throws PackageException {
    for (int c = 0; c < r.channels(); c++) {
      int emax = 0;
      for (int t : r.terms()[c]) {
        emax = Math.max(emax, Math.abs(t) - 1);
      }
      BigInteger abs = BigInteger.valueOf(r.bias()[c]).abs();
      BigInteger reach = BigInteger.valueOf(r.terms()[c].length).shiftLeft(accBits + emax).add(abs);
      if (reach.compareTo(BOUND) >= 0) {
        String field = abs.compareTo(BOUND) >= 0 ? f + ".bias[" + c + "]" : f + ".terms[" + c + "]";
        throw new PackageException(ModelPackage.MANIFEST + ": " + field + ": the requantized sum can reach "
            + r.terms()[c].length + " * 2^" + (accBits + emax) + " + |" + r.bias()[c] + "| = " + reach
            + "; the contract's 64-bit bound (section 7) needs it below 2^62");
      }
    }
  }

  private ModelPackage.Golden golden(IntNetwork net) throws IOException {
    JsonNode g = obj(root, "golden", "golden");
    int count = integer(g, "count", "golden.count", 1, MAX_GOLDEN);
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    int classes = net.classes();
    int[] labels = integers(g, "labels", "golden.labels", count, classes);
    int[] preds = integers(g, "predictions", "golden.predictions", count, classes);
    int[] pix = readArray(obj(g, "input", "golden.input"), "golden.input", "golden/input", 8, false,
        new long[] {count, net.inChannels(), net.inHeight(), net.inWidth()});
    JsonNode outs = array(g, "outputs", "golden.outputs");
    if (outs.size() != net.layers().size()) {
      throw bad("golden.outputs", "must hold one entry per layer (" + net.layers().size() + "), got " + outs.size());
    }
    int[][] pixels = new int[count][];
    List<List<int[]>> traces = new ArrayList<>();
    for (int v = 0; v < count; v++) {
      pixels[v] = Arrays.copyOfRange(pix, v * size, (v + 1) * size);
      traces.add(net.trace(pixels[v]));
    }
    for (int i = 0; i < net.layers().size(); i++) {
      IntLayer l = net.layers().get(i);
      String f = "golden.outputs[" + i + "]";
      JsonNode o = obj(outs, i, f);
      String layer = text(o, "layer", f + ".layer");
      if (!layer.equals(l.name())) {
        throw bad(f + ".layer", "must be \"" + l.name() + "\" (layers[" + i + "].name), got " + shown(o.get("layer")));
      }
      String base = "golden/" + l.name();
      int[] want = readArray(obj(o, "values", f + ".values"), f + ".values", base, ModelPackage.outputBits(net, i),
          true, new long[] {count, l.outChannels(), l.outHeight(), l.outWidth()});
      for (int v = 0; v < count; v++) {
        int[] got = traces.get(v).get(i + 1);
        for (int e = 0; e < got.length; e++) {
          if (got[e] != want[v * l.outSize() + e]) {
            throw new PackageException(base + ".bin: vector " + v + " element " + e + " is "
                + want[v * l.outSize() + e] + " but the network computes " + got[e]);
          }
        }
      }
    }
    // Layer outputs first: the first layer that differs says more than a changed prediction.
    for (int v = 0; v < count; v++) {
      int pred = ModelPackage.argmax(traces.get(v).get(net.layers().size()));
      if (preds[v] != pred) {
        throw bad("golden.predictions[" + v + "]", "says " + preds[v] + ", the network gives " + pred);
      }
    }
    return new ModelPackage.Golden(pixels, labels, traces);
  }

  // ---------------------------------------------------------------- fields

  private static PackageException bad(String field, String problem) {
    return new PackageException(ModelPackage.MANIFEST + ": " + field + ": " + problem);
  }

  /** A value as it stands in the JSON, cut short: messages stay one readable line. */
  static String shown(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "nothing (missing)";
    }
    return cut(v.toString());
  }

  /** A field path whose key is user text (a file name): quoted as JSON when it is not plain. */
  private static String shownField(String parent, String key) {
    return parent + (key.matches("[A-Za-z0-9_./-]{1,100}") ? "." + key : "[" + cut(new TextNode(key).toString()) + "]");
  }

  private static String cut(String s) {
    return cut(s, 60);
  }

  private static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  private static String oneLine(String s) {
    return s == null ? "" : cut(s.lines().findFirst().orElse(""), 160);
  }

  private static JsonNode obj(JsonNode n, String key, String f) throws PackageException {
    JsonNode v = n.get(key);
    if (v == null || !v.isObject()) {
      throw bad(f, "must be an object, got " + shown(v));
    }
    return v;
  }

  private static JsonNode obj(JsonNode arr, int i, String f) throws PackageException {
    JsonNode v = arr.get(i);
    if (v == null || !v.isObject()) {
      throw bad(f, "must be an object, got " + shown(v));
    }
    return v;
  }

  private static JsonNode array(JsonNode n, String key, String f) throws PackageException {
    JsonNode v = n.get(key);
    if (v == null || !v.isArray()) {
      throw bad(f, "must be an array, got " + shown(v));
    }
    return v;
  }

  private static String text(JsonNode n, String key, String f) throws PackageException {
    JsonNode v = n.get(key);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw bad(f, "must be a non-empty string, got " + shown(v));
    }
    return v.textValue();
  }

  private static boolean bool(JsonNode n, String key, String f) throws PackageException {
    JsonNode v = n.get(key);
    if (v == null || !v.isBoolean()) {
      throw bad(f, "must be true or false, got " + shown(v));
    }
    return v.booleanValue();
  }

  private static int integer(JsonNode n, String key, String f, int min, int max) throws PackageException {
    return integer(n, key, f, min, max, "");
  }

  /**
   * An integer field: a JSON number without fraction or exponent ({@code 5}, never {@code 5.0}
   * or {@code 5e0}) in [min, max]; {@code why} says where a fixed value comes from.
   */
  private static int integer(JsonNode n, String key, String f, int min, int max, String why)
      throws PackageException {
    JsonNode v = n.get(key);
    String want = min == max ? "must be " + min + why : "must be an integer in " + min + ".." + max;
    if (v == null || !v.isIntegralNumber()) {
      throw bad(f, want + (v != null && v.isNumber() ? " written without fraction or exponent" : "")
          + ", got " + shown(v));
    }
    if (!v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
      throw bad(f, want + ", got " + shown(v));
    }
    return v.intValue();
  }

  /** {@code count} integers in 0..classes-1 (labels and predictions are class indices). */
  private static int[] integers(JsonNode n, String key, String f, int count, int classes) throws PackageException {
    JsonNode a = array(n, key, f);
    if (a.size() != count) {
      throw bad(f, "must hold golden.count = " + count + " entries, got " + a.size());
    }
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = integer(a, i, f + "[" + i + "]", 0, classes - 1);
    }
    return out;
  }

  private static int integer(JsonNode arr, int i, String f, int min, int max) throws PackageException {
    JsonNode v = arr.get(i);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
      throw bad(f, "must be an integer in " + min + ".." + max + " (a class index), got " + shown(v));
    }
    return v.intValue();
  }

  private static double positive(JsonNode n, String key, String f) throws PackageException {
    JsonNode v = n.get(key);
    if (v == null || !v.isNumber() || !(v.doubleValue() > 0) || !Double.isFinite(v.doubleValue())) {
      throw bad(f, "must be a positive finite number, got " + shown(v));
    }
    return v.doubleValue();
  }
}
