package addernet.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.distribution.LaplaceDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.random.Well19937c;
import org.junit.jupiter.api.Test;

class WeightFitTest {
  private static final int N = 5000;

  @Test
  void laplaceSampleIsFittedBetterByLaplaceAndRecoversItsParameters() {
    double[] x = new LaplaceDistribution(new Well19937c(7), 0.3, 0.05).sample(N);
    WeightFit fit = WeightFit.of(x);
    assertEquals(WeightFit.LAPLACE, fit.betterFit());
    assertTrue(fit.ksLaplace() < fit.ksNormal(), fit.toString());
    assertEquals(0.3, fit.laplaceLocation(), 0.01);
    assertEquals(0.05, fit.laplaceScale(), 0.005);
  }

  @Test
  void gaussianSampleIsFittedBetterByGaussianAndRecoversItsParameters() {
    double[] x = new NormalDistribution(new Well19937c(11), -1.0, 2.0).sample(N);
    WeightFit fit = WeightFit.of(x);
    assertEquals(WeightFit.GAUSSIAN, fit.betterFit());
    assertTrue(fit.ksNormal() < fit.ksLaplace(), fit.toString());
    assertEquals(-1.0, fit.normalMean(), 0.1);
    assertEquals(2.0, fit.normalSd(), 0.1);
  }

  @Test
  void ksStatisticOfTheTrueFamilyIsSmallForALargeSample() {
    // For n = 5000 the KS statistic of a correct fit is of order 1/sqrt(n), about 0.014.
    WeightFit l = WeightFit.of(new LaplaceDistribution(new Well19937c(3), 0, 1).sample(N));
    WeightFit g = WeightFit.of(new NormalDistribution(new Well19937c(5), 0, 1).sample(N));
    assertTrue(l.ksLaplace() < 0.03, l.toString());
    assertTrue(g.ksNormal() < 0.03, g.toString());
  }

  @Test
  void fittedDensitiesIntegrateToOne() {
    WeightFit fit = WeightFit.of(new LaplaceDistribution(new Well19937c(1), 0.5, 0.2).sample(N));
    double lap = 0;
    double nor = 0;
    double h = 1e-3;
    for (double x = -20; x < 20; x += h) {
      lap += fit.laplaceDensity(x) * h;
      nor += fit.normalDensity(x) * h;
    }
    assertEquals(1, lap, 1e-3);
    assertEquals(1, nor, 1e-3);
  }

  @Test
  void constantWeightsAreRefusedWithAReason() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> WeightFit.of(new double[] {0.5, 0.5, 0.5}));
    assertTrue(e.getMessage().contains("equal"), e.getMessage());
  }
}
