package addernet.report;

import static addernet.report.Html.pct;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Figures for the plain-text summary, filled while the sections are built. */
final class RunSummary {
  Double floatAccuracy;
  final Map<Integer, Double> ptq = new TreeMap<>(Comparator.reverseOrder());
  final Map<Integer, Double> qat = new TreeMap<>(Comparator.reverseOrder());
  final List<String> mismatches = new ArrayList<>();
  /** The whole accelerator's adder/MAC LUT ratios, per flow, and the report they came from. */
  String lutsAccelerator;
  /** The same for a bare PE array. */
  String lutsArray;
  final List<String> fmax = new ArrayList<>();
  final List<String> weights = new ArrayList<>();
  String energy;
  final List<String> missing = new ArrayList<>();

  String text(Path run, List<Section> sections) {
    StringBuilder t = new StringBuilder();
    t.append(String.format("%-22s %s%n", "run", run));
    StringBuilder acc = new StringBuilder();
    acc.append("float ").append(floatAccuracy == null ? "—" : pct(floatAccuracy));
    ptq.forEach((b, a) -> acc.append(", ").append(b).append("-bit ").append(pct(a)));
    qat.forEach((b, a) -> acc.append(", ").append(b).append("-bit QAT ").append(pct(a)));
    t.append(String.format("%-22s %s%n", "test accuracy",
        floatAccuracy == null && ptq.isEmpty() ? "not in this run" : acc));
    t.append(String.format("%-22s %s%n", "weights fit better",
        weights.isEmpty() ? "not in this run" : String.join("; ", weights)));
    t.append(String.format("%-22s %s%n", "RTL mismatches",
        mismatches.isEmpty() ? "not in this run" : String.join("; ", mismatches)));
    // The whole design is the claim; the PE array alone is shown under it.
    t.append(String.format("%-22s %s%n", "LUTs adder/MAC",
        lutsAccelerator == null ? "whole accelerator not in this run" : "whole accelerator " + lutsAccelerator));
    if (lutsArray != null) {
      t.append(String.format("%-22s %s%n", "", "PE array " + lutsArray));
    }
    t.append(String.format("%-22s %s%n", "Fmax", fmax.isEmpty() ? "not in this run" : String.join("; ", fmax)));
    t.append(String.format("%-22s %s%n", "energy/inference", energy == null ? "—" : energy + ", ESTIMATE"));
    if (!missing.isEmpty()) {
      t.append(String.format("%-22s %d expected input(s) missing, each named in the report (%s)%n", "not in this run",
          missing.size(),
          String.join(", ", sections.stream().filter(x -> !x.missing.isEmpty()).map(x -> x.id).toList())));
    }
    return t.toString();
  }
}
