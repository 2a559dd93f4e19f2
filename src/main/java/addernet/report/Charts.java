package addernet.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's PNG charts, drawn with JFreeChart without a display (the caller sets {@code
 * java.awt.headless}). Every chart is a plain picture of numbers that the page also lists in a
 * table, so a chart that fails to draw loses no information.
 */
final class Charts {
  static final int WIDTH = 640;
  static final int HEIGHT = 360;
  private static final int BINS = 60;

  private Charts() {}

  /** One line per series, x = epoch. */
  static void epochLines(Path png, String title, String yLabel, Map<String, double[]> series) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    series.forEach((name, ys) -> {
      XYSeries s = new XYSeries(name);
      for (int i = 0; i < ys.length; i++) {
        s.add(i + 1, ys[i]);
      }
      data.addSeries(s);
    });
    JFreeChart chart = ChartFactory.createXYLineChart(title, "epoch", yLabel, data,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    plot.setRenderer(r);
    ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    plot.getDomainAxis().setStandardTickUnits(org.jfree.chart.axis.NumberAxis.createIntegerTickUnits());
    save(png, chart);
  }

  /**
   * A density histogram of {@code weights} with the fitted Laplace and Gaussian densities drawn
   * over it. The bins span the 0.5th to 99.5th percentile so that a few outliers do not squeeze
   * the bulk into a handful of bars; the fits and KS statistics use every weight.
   */
  static void histogramWithFits(Path png, String title, double[] weights, WeightFit fit) throws IOException {
    double[] sorted = weights.clone();
    java.util.Arrays.sort(sorted);
    double lo = sorted[(int) Math.floor(0.005 * (sorted.length - 1))];
    double hi = sorted[(int) Math.ceil(0.995 * (sorted.length - 1))];
    if (!(hi > lo)) {
      lo = sorted[0];
      hi = sorted[sorted.length - 1];
    }
    double width = (hi - lo) / BINS;
    int[] counts = new int[BINS];
    for (double w : sorted) {
      int b = (int) Math.floor((w - lo) / width);
      if (b >= 0 && b < BINS) {
        counts[b]++;
      } else if (w == hi) {
        counts[BINS - 1]++;
      }
    }
    XYSeries bars = new XYSeries("weights (density)");
    for (int b = 0; b < BINS; b++) {
      bars.add(lo + (b + 0.5) * width, counts[b] / (sorted.length * width));
    }
    XYSeriesCollection histogram = new XYSeriesCollection(bars);
    histogram.setIntervalWidth(width);
    XYSeries laplace = new XYSeries(String.format("Laplace fit (KS %.3f)", fit.ksLaplace()));
    XYSeries normal = new XYSeries(String.format("Gaussian fit (KS %.3f)", fit.ksNormal()));
    for (int i = 0; i <= 300; i++) {
      double x = lo + (hi - lo) * i / 300.0;
      laplace.add(x, fit.laplaceDensity(x));
      normal.add(x, fit.normalDensity(x));
    }
    XYSeriesCollection curves = new XYSeriesCollection();
    curves.addSeries(laplace);
    curves.addSeries(normal);

    JFreeChart chart = ChartFactory.createHistogram(title, "weight", "density", histogram,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    XYBarRenderer bar = (XYBarRenderer) plot.getRenderer();
    bar.setBarPainter(new StandardXYBarPainter());
    bar.setShadowVisible(false);
    bar.setDrawBarOutline(false);
    bar.setSeriesPaint(0, new Color(170, 190, 215));
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer(true, false);
    lines.setSeriesPaint(0, new Color(200, 40, 40));
    lines.setSeriesPaint(1, new Color(30, 120, 30));
    lines.setSeriesStroke(0, new BasicStroke(2f));
    lines.setSeriesStroke(1, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
    plot.setDataset(1, curves);
    plot.setRenderer(1, lines);
    plot.setDatasetRenderingOrder(org.jfree.chart.plot.DatasetRenderingOrder.FORWARD);
    save(png, chart);
  }

  /** Grouped bars: {@code values.get(series).get(category)}; missing pairs are left out. */
  static void groupedBars(Path png, String title, String yLabel, List<String> categories,
      Map<String, Map<String, Double>> values, boolean stacked) throws IOException {
    groupedBars(png, title, yLabel, categories, values, stacked, true);
  }

  /**
   * Grouped bars; with {@code fromZero} false the value axis starts near the smallest bar, for
   * accuracies that differ by tenths of a point (the axis label must then say so).
   */
  static void groupedBars(Path png, String title, String yLabel, List<String> categories,
      Map<String, Map<String, Double>> values, boolean stacked, boolean fromZero) throws IOException {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    values.forEach((series, byCategory) -> {
      for (String c : categories) {
        Double v = byCategory.get(c);
        if (v != null) {
          data.addValue(v, series, c);
        }
      }
    });
    JFreeChart chart = stacked
        ? ChartFactory.createStackedBarChart(title, null, yLabel, data, PlotOrientation.VERTICAL, true, false, false)
        : ChartFactory.createBarChart(title, null, yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    org.jfree.chart.renderer.category.BarRenderer r =
        (org.jfree.chart.renderer.category.BarRenderer) chart.getCategoryPlot().getRenderer();
    r.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
    r.setShadowVisible(false);
    if (!fromZero) {
      r.setIncludeBaseInRange(false);
      ((org.jfree.chart.axis.NumberAxis) chart.getCategoryPlot().getRangeAxis()).setAutoRangeIncludesZero(false);
    }
    save(png, chart);
  }

  private static void save(Path png, JFreeChart chart) throws IOException {
    chart.setBackgroundPaint(Color.WHITE);
    org.jfree.chart.plot.Plot plot = chart.getPlot();
    plot.setBackgroundPaint(Color.WHITE);
    if (plot instanceof XYPlot xy) {
      xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
      xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
      xy.setDomainZeroBaselineVisible(false);
    } else if (plot instanceof org.jfree.chart.plot.CategoryPlot cp) {
      cp.setRangeGridlinePaint(Color.LIGHT_GRAY);
    }
    ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
  }
}
