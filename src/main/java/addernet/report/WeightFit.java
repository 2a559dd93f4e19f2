package addernet.report;

import java.util.Arrays;
import org.apache.commons.math3.distribution.LaplaceDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;

/**
 * Laplace and Gaussian fits of a sample of trained weights, each by maximum likelihood, with the
 * Kolmogorov-Smirnov statistic of each fit. The AdderNet paper (Chen et al., CVPR 2020) reports
 * that adder-layer weights follow a Laplace distribution and CNN weights a Gaussian one; this is
 * how the report checks that claim on our own networks.
 *
 * <p>Only the KS statistic (the largest gap between the empirical and the fitted distribution
 * function) is reported, not a p-value: with parameters estimated from the same sample the
 * standard KS p-value is not valid (Lilliefors), and with thousands of weights any small misfit
 * would be "significant" anyway. The smaller statistic is the better fit.
 *
 * @param count number of weights
 * @param laplaceLocation Laplace MLE location: the sample median
 * @param laplaceScale Laplace MLE scale: the mean absolute deviation from the median
 * @param normalMean Gaussian MLE mean
 * @param normalSd Gaussian MLE standard deviation (divisor n, the MLE, not n - 1)
 * @param ksLaplace KS statistic of the Laplace fit
 * @param ksNormal KS statistic of the Gaussian fit
 */
public record WeightFit(
    int count,
    double laplaceLocation,
    double laplaceScale,
    double normalMean,
    double normalSd,
    double ksLaplace,
    double ksNormal) {

  /** Names of the two candidate distributions, as printed. */
  public static final String LAPLACE = "Laplace";
  public static final String GAUSSIAN = "Gaussian";

  /** Fits both distributions to {@code weights} (at least 2 values, not all equal). */
  public static WeightFit of(double[] weights) {
    if (weights.length < 2) {
      throw new IllegalArgumentException("need at least 2 weights to fit, got " + weights.length);
    }
    double[] sorted = weights.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    double mean = 0;
    for (double w : sorted) {
      mean += w;
    }
    mean /= n;
    double absDev = 0;
    double sq = 0;
    for (double w : sorted) {
      absDev += Math.abs(w - median);
      sq += (w - mean) * (w - mean);
    }
    double b = absDev / n;
    double sd = Math.sqrt(sq / n);
    if (!(b > 0) || !(sd > 0)) {
      throw new IllegalArgumentException("all " + n + " weights are equal: nothing to fit");
    }
    KolmogorovSmirnovTest ks = new KolmogorovSmirnovTest();
    // Passing a null random generator: the distributions are only evaluated, never sampled.
    double dLaplace = ks.kolmogorovSmirnovStatistic(new LaplaceDistribution(null, median, b), sorted);
    double dNormal = ks.kolmogorovSmirnovStatistic(
        new NormalDistribution(null, mean, sd, NormalDistribution.DEFAULT_INVERSE_ABSOLUTE_ACCURACY), sorted);
    return new WeightFit(n, median, b, mean, sd, dLaplace, dNormal);
  }

  /** The distribution with the smaller KS statistic. */
  public String betterFit() {
    return ksLaplace <= ksNormal ? LAPLACE : GAUSSIAN;
  }

  public double laplaceDensity(double x) {
    return Math.exp(-Math.abs(x - laplaceLocation) / laplaceScale) / (2 * laplaceScale);
  }

  public double normalDensity(double x) {
    double z = (x - normalMean) / normalSd;
    return Math.exp(-0.5 * z * z) / (normalSd * Math.sqrt(2 * Math.PI));
  }
}
