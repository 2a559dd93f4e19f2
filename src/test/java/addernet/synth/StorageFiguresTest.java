package addernet.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import addernet.io.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The optional storage figures of accel.json: reported when present, silent when absent. */
class StorageFiguresTest {
  @TempDir Path tmp;

  @Test
  void figuresPresentAreReadAndPrinted() throws Exception {
    Path f = Files.writeString(tmp.resolve("accel.json"),
        "{\"top\": \"Accelerator\", \"activationBitsNeeded\": 4000, \"activationBitsStored\": 5000, \"requantizers\": 2}");
    StorageFigures s = StorageFigures.read(f);
    assertEquals(new StorageFigures(4000L, 5000L, 2L), s);
    assertEquals(List.of("activation storage: 5000 bits stored for 4000 needed (1.25 x)", "requantizers: 2"), s.lines());
  }

  @Test
  void absentFiguresPrintNothing() throws Exception {
    Path f = Files.writeString(tmp.resolve("accel.json"), "{\"top\": \"Accelerator\"}");
    assertEquals(StorageFigures.NONE, StorageFigures.read(f));
    assertEquals(List.of(), StorageFigures.read(f).lines());
    assertEquals(StorageFigures.NONE, StorageFigures.read(tmp.resolve("none.json")));
  }

  @Test
  void aFigureThatIsNotAWholeNumberIsOneLineNamingTheField() throws Exception {
    Path f = Files.writeString(tmp.resolve("accel.json"), "{\"requantizers\": \"two\"}");
    UserError e = assertThrows(UserError.class, () -> StorageFigures.read(f));
    assertEquals(f + ": field requantizers must be a whole number of at least 0, got \"two\"", e.getMessage());
  }
}
