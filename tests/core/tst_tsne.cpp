// t-SNE and PCA: cluster preservation, exact vs Barnes-Hut, calibration, determinism, cancel, CSV errors.
#include "core/test_util.h"

#include "core/analysis/points_csv.h"
#include "core/analysis/tsne.h"
#include "core/util/error.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace fan;
using analysis::TsneOptions;

namespace {

// Points per cluster, clusters and dimension of the synthetic data.
constexpr int kPerCluster = 40;
constexpr int kClusters = 4;
constexpr int kDim = 10;

struct Clusters {
  std::vector<float> points;
  std::vector<int> labels;
  int64_t n = 0;
};

// Well-separated Gaussian clusters: centres 10 units apart along their own axis, unit noise.
Clusters gaussian_clusters(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  Clusters c;
  for (int k = 0; k < kClusters; ++k)
    for (int i = 0; i < kPerCluster; ++i) {
      for (int d = 0; d < kDim; ++d) c.points.push_back(noise(rng) + (d == k ? 10.0f : 0.0f));
      c.labels.push_back(k);
    }
  c.n = static_cast<int64_t>(c.labels.size());
  return c;
}

// Fraction of points whose nearest neighbour in the embedding has their label.
double nearest_neighbour_agreement(const std::vector<float>& y, const std::vector<int>& labels) {
  const int64_t n = static_cast<int64_t>(labels.size());
  int64_t same = 0;
  for (int64_t i = 0; i < n; ++i) {
    double best = 1e300;
    int64_t best_j = -1;
    for (int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      if (dx * dx + dy * dy < best) {
        best = dx * dx + dy * dy;
        best_j = j;
      }
    }
    same += labels[best_j] == labels[i];
  }
  return static_cast<double>(same) / n;
}

// Fraction of points closer to their own cluster's embedded centroid than to any other's.
double centroid_agreement(const std::vector<float>& y, const std::vector<int>& labels) {
  std::vector<double> cx(kClusters, 0), cy(kClusters, 0), count(kClusters, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    cx[labels[i]] += y[2 * i];
    cy[labels[i]] += y[2 * i + 1];
    count[labels[i]] += 1;
  }
  for (int k = 0; k < kClusters; ++k) {
    cx[k] /= count[k];
    cy[k] /= count[k];
  }
  int64_t good = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    int best = 0;
    double best_d = 1e300;
    for (int k = 0; k < kClusters; ++k) {
      const double d = std::hypot(y[2 * i] - cx[k], y[2 * i + 1] - cy[k]);
      if (d < best_d) {
        best_d = d;
        best = k;
      }
    }
    good += best == labels[i];
  }
  return static_cast<double>(good) / labels.size();
}

TsneOptions small_options(TsneOptions::Method method) {
  TsneOptions o;
  o.perplexity = 10;
  o.iterations = 400;
  o.method = method;
  o.threads = 2;
  return o;
}

}  // namespace

class TestTsne : public QObject {
  Q_OBJECT
 private slots:
  void clustersStaySeparated_data() {
    QTest::addColumn<int>("method");
    QTest::newRow("exact") << static_cast<int>(TsneOptions::Method::kExact);
    QTest::newRow("barnes-hut") << static_cast<int>(TsneOptions::Method::kBarnesHut);
  }
  void clustersStaySeparated() {
    QFETCH(int, method);
    const auto data = gaussian_clusters(1);
    const auto r = analysis::tsne(data.points.data(), data.n, kDim,
                                  small_options(static_cast<TsneOptions::Method>(method)));
    QCOMPARE(r.embedding.size(), static_cast<size_t>(2 * data.n));
    QCOMPARE(r.iterations_run, 400);
    QVERIFY(!r.cancelled);
    QVERIFY(std::isfinite(r.kl_divergence) && r.kl_divergence > 0);
    QCOMPARE(nearest_neighbour_agreement(r.embedding, data.labels), 1.0);
    QCOMPARE(centroid_agreement(r.embedding, data.labels), 1.0);
  }

  void exactAndBarnesHutAgree() {
    const auto data = gaussian_clusters(2);
    const auto exact =
        analysis::tsne(data.points.data(), data.n, kDim, small_options(TsneOptions::Method::kExact));
    const auto bh =
        analysis::tsne(data.points.data(), data.n, kDim, small_options(TsneOptions::Method::kBarnesHut));
    QCOMPARE(exact.method, TsneOptions::Method::kExact);
    QCOMPARE(bh.method, TsneOptions::Method::kBarnesHut);
    QCOMPARE(centroid_agreement(exact.embedding, data.labels), centroid_agreement(bh.embedding, data.labels));
    // The two KLs use different P (dense vs 3·perplexity neighbours), so only roughly equal.
    QVERIFY2(
        std::abs(exact.kl_divergence - bh.kl_divergence) < 0.25 * exact.kl_divergence + 0.05,
        qPrintable(QString("exact KL %1, Barnes-Hut KL %2").arg(exact.kl_divergence).arg(bh.kl_divergence)));
  }

  void autoPicksByPointCount() {
    const auto data = gaussian_clusters(3);
    auto o = small_options(TsneOptions::Method::kAuto);
    o.iterations = 10;
    QCOMPARE(analysis::tsne(data.points.data(), data.n, kDim, o).method, TsneOptions::Method::kExact);
    QCOMPARE(analysis::parse_tsne_method("barnes-hut"), TsneOptions::Method::kBarnesHut);
    QCOMPARE(analysis::to_string(TsneOptions::Method::kExact), std::string("exact"));
    QVERIFY_THROWS_EXCEPTION(Error, analysis::parse_tsne_method("fast"));
  }

  void calibrationHitsTargetEntropy_data() {
    QTest::addColumn<double>("perplexity");
    QTest::addColumn<double>("scale");
    QTest::newRow("5, unit distances") << 5.0 << 1.0;
    QTest::newRow("30, unit distances") << 30.0 << 1.0;
    QTest::newRow("30, huge distances") << 30.0 << 1e6;
    QTest::newRow("50, tiny distances") << 50.0 << 1e-6;
  }
  void calibrationHitsTargetEntropy() {
    QFETCH(double, perplexity);
    QFETCH(double, scale);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> uniform(0.1, 10.0);
    std::vector<double> d2(200);
    for (auto& v : d2) v = uniform(rng) * scale;
    double beta = 0;
    const auto p = analysis::calibrate_conditional(d2, perplexity, &beta);
    double sum = 0, entropy = 0;
    for (double v : p) {
      sum += v;
      if (v > 0) entropy -= v * std::log(v);
    }
    QVERIFY(beta > 0);
    QVERIFY(std::abs(sum - 1.0) < 1e-9);
    QVERIFY2(std::abs(entropy - std::log(perplexity)) < 1e-4,
             qPrintable(QString("entropy %1, target %2").arg(entropy).arg(std::log(perplexity))));
    // Closer points get more probability.
    const auto nearest = std::min_element(d2.begin(), d2.end()) - d2.begin();
    QCOMPARE(std::max_element(p.begin(), p.end()) - p.begin(), nearest);
  }

  void seededRunsAreReproducible() {
    const auto data = gaussian_clusters(4);
    for (bool pca : {true, false}) {
      auto o = small_options(TsneOptions::Method::kBarnesHut);
      o.iterations = 120;
      o.pca_init = pca;
      o.seed = 11;
      o.threads = 1;
      const auto a = analysis::tsne(data.points.data(), data.n, kDim, o);
      o.threads = 2;
      const auto b = analysis::tsne(data.points.data(), data.n, kDim, o);
      QVERIFY(a.embedding == b.embedding);  // bit-identical, whatever the thread count
      QCOMPARE(a.kl_divergence, b.kl_divergence);
      o.seed = 12;
      const auto c = analysis::tsne(data.points.data(), data.n, kDim, o);
      QCOMPARE(c.embedding == a.embedding, pca);  // the seed only matters for the random start
    }
    auto o = small_options(TsneOptions::Method::kExact);
    o.iterations = 60;
    o.threads = 1;
    const auto e1 = analysis::tsne(data.points.data(), data.n, kDim, o);
    o.threads = 2;
    QVERIFY(e1.embedding == analysis::tsne(data.points.data(), data.n, kDim, o).embedding);
  }

  void progressAndCancel() {
    const auto data = gaussian_clusters(5);
    auto o = small_options(TsneOptions::Method::kExact);
    std::vector<int> seen;
    double kl_at_50 = 0;
    const auto r = analysis::tsne(data.points.data(), data.n, kDim, o, [&](int iteration, double kl) {
      seen.push_back(iteration);
      if (iteration == 50) kl_at_50 = kl;
      return iteration < 70;
    });
    QVERIFY(r.cancelled);
    QCOMPARE(r.iterations_run, 70);
    QCOMPARE(seen, (std::vector<int>{10, 20, 30, 40, 50, 60, 70}));
    QVERIFY(std::isfinite(kl_at_50));
    QCOMPARE(r.embedding.size(), static_cast<size_t>(2 * data.n));
  }

  void badInput() {
    std::vector<float> few(50 * 3, 1.0f);
    for (size_t i = 0; i < few.size(); ++i) few[i] = static_cast<float>(i % 7);
    TsneOptions o;  // perplexity 30 needs 91 points
    try {
      analysis::tsne(few.data(), 50, 3, o);
      QFAIL("50 points at perplexity 30 were accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("3·perplexity + 1 = 91"), e.what());
    }
    few[7] = std::nanf("");
    o.perplexity = 5;
    QVERIFY_THROWS_EXCEPTION(Error, analysis::tsne(few.data(), 50, 3, o));
    o.perplexity = -1;
    QVERIFY_THROWS_EXCEPTION(Error, analysis::tsne(few.data(), 50, 3, o));
  }

  void csvErrorsNameFileAndLine_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("ragged") << "1,2,3\n4,5,6\n7,8\n"
                            << "x.csv:3: 2 columns";
    QTest::newRow("not a number") << "1,2\n3,abc\n"
                                  << "x.csv:2: field 2 is not a finite number (\"abc\")";
    QTest::newRow("empty field") << "1,,2\n"
                                 << "x.csv:1: field 2";
    QTest::newRow("header") << "a,b\n1,2\n"
                            << "x.csv:1: field 1";
    QTest::newRow("infinite") << "1,inf\n"
                              << "x.csv:1: field 2";
    QTest::newRow("empty") << "\n\n"
                           << "x.csv: no points";
  }
  void csvErrorsNameFileAndLine() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    try {
      analysis::parse_points_csv(text.toStdString(), "x.csv");
      QFAIL("bad CSV accepted");
    } catch (const Error& e) {
      QVERIFY2(QString::fromUtf8(e.what()).contains(expected), e.what());
    }
  }

  void csvRoundTrip() {
    const auto m = analysis::parse_points_csv(" 1, -2.5e-3 \r\n\n+3,4\n5,6", "ok.csv");
    QCOMPARE(m.rows, 3);
    QCOMPARE(m.cols, 2);
    QCOMPARE(m.values, (std::vector<float>{1.0f, -2.5e-3f, 3.0f, 4.0f, 5.0f, 6.0f}));
    test::ScratchDir dir;
    const auto path = (dir / "y.csv").string();
    analysis::write_points_csv(path, m.values.data(), m.rows, m.cols);
    const auto back = analysis::read_points_csv(path);
    QCOMPARE(back.values, m.values);
    QVERIFY_THROWS_EXCEPTION(Error, analysis::read_points_csv((dir / "missing.csv").string()));
  }

  void pcaFindsTheMainAxes() {
    // Points along (1, 1, 0, 0) with a smaller spread along (0, 0, 1, 0).
    std::vector<float> x;
    const int n = 100;
    for (int i = 0; i < n; ++i) {
      const float t = static_cast<float>(i - n / 2);
      const float s = static_cast<float>((i * 37) % 11 - 5) * 0.1f;
      x.insert(x.end(), {t + 3.0f, t - 1.0f, s, 2.0f});
    }
    const auto y = analysis::pca_2d(x.data(), n, 4);
    QCOMPARE(y.size(), static_cast<size_t>(2 * n));
    for (int i = 0; i < n; ++i) {
      const float centred = static_cast<float>(i - n / 2) + 0.5f;  // t minus its mean (−0.5)
      QVERIFY(std::abs(y[2 * i] - centred * std::sqrt(2.0f)) < 1e-3f);
      QVERIFY(std::abs(y[2 * i + 1]) < 1.0f);  // the small spread along the third axis
    }
    // Deterministic signs: the largest loading is positive, so the score grows with t.
    QVERIFY(y[2 * (n - 1)] > 0);
    const auto line = analysis::pca_2d(x.data(), n, 1);  // one dimension: second column is zero
    for (int i = 0; i < n; ++i) QCOMPARE(line[2 * i + 1], 0.0f);
  }
};

QTEST_APPLESS_MAIN(TestTsne)
#include "tst_tsne.moc"
