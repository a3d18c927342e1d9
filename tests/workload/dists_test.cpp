// Arrival processes and length distributions: moments and quantiles over many draws
// with a fixed seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "scratch_dir.h"
#include "workload/workload_dists.h"

namespace bricks::engine {
namespace {

struct Moments {
  double mean, cv;
};

Moments gaps(const ArrivalProcess& p, int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> g(static_cast<size_t>(n));
  for (double& x : g) x = p.next_gap(rng);
  const double mean = std::accumulate(g.begin(), g.end(), 0.0) / n;
  double var = 0;
  for (double x : g) var += (x - mean) * (x - mean);
  return {mean, std::sqrt(var / (n - 1)) / mean};
}

TEST(Arrivals, PoissonGapsHaveMeanOneOverRateAndCvOne) {
  const Moments m = gaps(ArrivalProcess(4.0, 1.0), 200000, 1);
  EXPECT_NEAR(m.mean, 0.25, 0.25 * 0.01);
  EXPECT_NEAR(m.cv, 1.0, 0.02);
}

TEST(Arrivals, GammaKeepsTheMeanAndHasTheAskedCv) {
  for (double cv : {0.5, 2.0, 4.0}) {
    const Moments m = gaps(ArrivalProcess(10.0, cv), 400000, 7);
    EXPECT_NEAR(m.mean, 0.1, 0.1 * 0.02) << "cv " << cv;
    EXPECT_NEAR(m.cv, cv, cv * 0.05) << "cv " << cv;
  }
}

TEST(Arrivals, BurstinessIsTheGammaShape) {
  bricks::manifest::Arrival a;
  a.set_process("gamma");
  a.set_burstiness(0.25);  // cv = 1 / sqrt(0.25) = 2
  EXPECT_DOUBLE_EQ(ArrivalProcess::from(a, 1.0).cv(), 2.0);
  a.set_burstiness(0);
  a.set_cv(3);
  EXPECT_DOUBLE_EQ(ArrivalProcess::from(a, 1.0).cv(), 3.0);
  EXPECT_DOUBLE_EQ(ArrivalProcess::from(bricks::manifest::Arrival(), 1.0).cv(), 1.0);
}

TEST(Arrivals, ZeroRateMeansAllAtOnce) {
  Rng rng(3);
  EXPECT_EQ(ArrivalProcess(0.0, 1.0).next_gap(rng), 0.0);
}

TEST(Lengths, LognormalFromMedianAndP90HitsBoth) {
  const Lognormal ln = Lognormal::from_median_p90(200, 800);
  EXPECT_NEAR(ln.median(), 200, 1e-9);
  const LengthSampler s = LengthSampler::lognormal(ln, 1, 0);
  Rng rng(11);
  std::vector<double> v(100000);
  for (double& x : v) x = s.draw(rng);
  std::sort(v.begin(), v.end());
  EXPECT_NEAR(v[v.size() / 2], 200, 200 * 0.03);
  EXPECT_NEAR(v[v.size() * 9 / 10], 800, 800 * 0.03);
}

TEST(Lengths, LognormalFromMeanAndSigmaHasThatMean) {
  const Lognormal ln = Lognormal::from_mean_sigma(300, 0.8);
  EXPECT_NEAR(ln.mean(), 300, 1e-9);
  const LengthSampler s = LengthSampler::lognormal(ln, 1, 0);
  Rng rng(5);
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) sum += s.draw(rng);
  EXPECT_NEAR(sum / n, 300, 300 * 0.02);
}

TEST(Lengths, ClampAndUniformRange) {
  Rng rng(2);
  const LengthSampler c = LengthSampler::lognormal(Lognormal::from_median_p90(100, 1000), 50, 120);
  const LengthSampler u = LengthSampler::uniform(3, 5);
  std::vector<int> seen(6, 0);
  for (int i = 0; i < 10000; ++i) {
    const int32_t x = c.draw(rng);
    ASSERT_GE(x, 50);
    ASSERT_LE(x, 120);
    const int32_t y = u.draw(rng);
    ASSERT_GE(y, 3);
    ASSERT_LE(y, 5);
    ++seen[y];
  }
  EXPECT_GT(seen[3], 3000);
  EXPECT_GT(seen[5], 3000);
  EXPECT_EQ(LengthSampler::fixed(42).draw(rng), 42);
}

TEST(Lengths, EmpiricalQuantilesInterpolate) {
  const EmpiricalDist d = EmpiricalDist::from_quantiles({{0, 10}, {0.5, 100}, {1, 200}}, "t");
  EXPECT_DOUBLE_EQ(d.quantile(0.0), 10);
  EXPECT_DOUBLE_EQ(d.quantile(0.25), 55);
  EXPECT_DOUBLE_EQ(d.quantile(0.5), 100);
  EXPECT_DOUBLE_EQ(d.quantile(0.75), 150);
  EXPECT_DOUBLE_EQ(d.quantile(1.0), 200);
  EXPECT_THROW(EmpiricalDist::from_quantiles({{0.1, 1}, {1, 2}}, "t"), WorkloadError);
  EXPECT_THROW(EmpiricalDist::from_quantiles({{0, 5}, {1, 2}}, "t"), WorkloadError);
}

TEST(Lengths, EmpiricalHistogramSharesFollowWeights) {
  const EmpiricalDist d =
      EmpiricalDist::from_histogram({{0, 10, 3}, {10, 20, 0}, {20, 30, 1}}, "t");
  EXPECT_DOUBLE_EQ(d.quantile(0.375), 5);   // half-way through the first bin (weight 0.75)
  EXPECT_DOUBLE_EQ(d.quantile(0.875), 25);  // half-way through the last
  Rng rng(9);
  int low = 0;
  for (int i = 0; i < 40000; ++i) low += d.sample(rng) < 10 ? 1 : 0;
  EXPECT_NEAR(low / 40000.0, 0.75, 0.01);
}

TEST(Lengths, ShippedDataFilesLoadAndNameTheirSource) {
  const std::filesystem::path dir =
      std::filesystem::path(BRICKS_SOURCE_DIR) / "manifests/workloads";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    ++files;
    std::ifstream in(e.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\"source\""), std::string::npos) << e.path();
    for (const char* key : {"prompt_len", "output_len"}) {
      const EmpiricalDist d = EmpiricalDist::load(e.path(), key);
      EXPECT_GE(d.quantile(0.5), 1.0) << e.path() << " " << key;
      EXPECT_GE(d.quantile(0.9), d.quantile(0.5)) << e.path() << " " << key;
    }
  }
  EXPECT_GE(files, 3);
}

TEST(Lengths, EmpiricalFileErrorsNameTheFile) {
  const auto dir = bricks::testing::scratch_dir("bricks-workload-test");
  const auto file = dir / "bricks-empirical-bad.json";
  std::ofstream(file) << "{\"prompt_len\": {\"quantiles\": [[0, 1], [0.5]]}}";
  try {
    EmpiricalDist::load(file, "prompt_len");
    FAIL() << "no error";
  } catch (const WorkloadError& e) {
    EXPECT_NE(std::string(e.what()).find("bricks-empirical-bad.json"), std::string::npos);
  }
  EXPECT_THROW(EmpiricalDist::load(file, "output_len"), WorkloadError);
}

}  // namespace
}  // namespace bricks::engine
