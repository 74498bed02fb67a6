// The label-free validators: hand-computed values on small matrices, AMI against scikit-learn, k-means on blobs.
#include "core/test_util.h"

#include "core/analysis/rank_study.h"
#include "core/analysis/validators.h"
#include "core/util/error.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace fan;

namespace {
torch::Tensor matrix(std::vector<std::vector<double>> rows) {
  auto t = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, torch::kFloat64);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) t[i][j] = rows[i][j];
  return t;
}
bool near(double a, double b, double tolerance = 1e-9) { return std::abs(a - b) < tolerance; }
}  // namespace

class TestValidators : public QObject {
  Q_OBJECT
 private slots:
  void entropyAndInformationMaximization() {
    // Rows: a certain prediction (H = 0) and an even one (H = ln 2).
    const auto p = matrix({{1, 0}, {0.5, 0.5}});
    QVERIFY(near(analysis::prediction_entropy(p), std::log(2.0) / 2));
    // Mean prediction (0.75, 0.25): H = −0.75 ln 0.75 − 0.25 ln 0.25; minus the mean entropy.
    const double h_mean = -0.75 * std::log(0.75) - 0.25 * std::log(0.25);
    QVERIFY(near(analysis::information_maximization(p), h_mean - std::log(2.0) / 2));
    // Confident and diverse beats confident and collapsed.
    QVERIFY(analysis::information_maximization(matrix({{1, 0}, {0, 1}})) >
            analysis::information_maximization(matrix({{1, 0}, {1, 0}})));
  }

  void batchNuclearNorm() {
    // Two one-hot rows of different classes: singular values 1 and 1; of one class: √2 and 0.
    QVERIFY(near(analysis::batch_nuclear_norm(matrix({{1, 0}, {0, 1}})), 1.0));
    QVERIFY(near(analysis::batch_nuclear_norm(matrix({{1, 0}, {1, 0}})), std::sqrt(2.0) / 2));
  }

  void softNeighborhoodDensityOnThreePoints() {
    // Points 0 and 1 predict class 0, point 2 class 1: cosine similarities s01 = 1, s02 = s12 = 0.
    const auto p = matrix({{1, 0}, {1, 0}, {0, 1}});
    // Temperature 1: rows 0 and 1 spread softmax(1, 0) = (e, 1)/(e + 1); row 2 softmax(0, 0) = (½, ½).
    const double q = std::exp(1.0) / (std::exp(1.0) + 1);
    const double h01 = -q * std::log(q) - (1 - q) * std::log(1 - q);
    QVERIFY(near(analysis::soft_neighborhood_density(p, 1.0), (2 * h01 + std::log(2.0)) / 3));
    // The default temperature (0.05) makes rows 0 and 1 almost certain: only row 2 keeps ln 2.
    QVERIFY(near(analysis::soft_neighborhood_density(p), std::log(2.0) / 3, 1e-6));
  }

  void adjustedMutualInformation_data() {
    QTest::addColumn<std::vector<int64_t>>("a");
    QTest::addColumn<std::vector<int64_t>>("b");
    QTest::addColumn<double>("expected");
    // Expected values from scikit-learn 1.2 (adjusted_mutual_info_score, arithmetic normaliser).
    QTest::newRow("identical") << std::vector<int64_t>{0, 0, 1, 1, 2} << std::vector<int64_t>{0, 0, 1, 1, 2} << 1.0;
    QTest::newRow("renamed") << std::vector<int64_t>{0, 0, 1, 1} << std::vector<int64_t>{5, 5, 3, 3} << 1.0;
    QTest::newRow("split cluster") << std::vector<int64_t>{0, 0, 1, 1} << std::vector<int64_t>{0, 0, 1, 2}
                                   << 0.5714285714285715;
    QTest::newRow("3×3 table") << std::vector<int64_t>{0, 0, 0, 1, 1, 1, 2, 2} << std::vector<int64_t>{0, 0, 1, 1, 1, 2, 2, 2}
                               << 0.31967265056964705;
    QTest::newRow("one cluster") << std::vector<int64_t>{0, 0, 0, 0} << std::vector<int64_t>{0, 1, 2, 3} << 0.0;
  }
  void adjustedMutualInformation() {
    QFETCH(std::vector<int64_t>, a);
    QFETCH(std::vector<int64_t>, b);
    QFETCH(double, expected);
    const double ami = analysis::adjusted_mutual_information(a, b);
    QVERIFY2(near(ami, expected, 1e-12), qPrintable(QString::number(ami, 'g', 17)));
  }

  void independentLabelingsHaveAmiNearZero() {
    std::mt19937_64 rng(7);
    std::vector<int64_t> a(5000), b(5000);
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<int64_t>(rng() % 10);
      b[i] = static_cast<int64_t>(rng() % 10);
    }
    QVERIFY(std::abs(analysis::adjusted_mutual_information(a, b)) < 0.005);
  }

  void kmeansFindsSeparatedBlobsAndClassAmiScoresThem() {
    torch::manual_seed(3);
    const auto centres = matrix({{0, 0}, {10, 0}, {0, 10}});
    const auto truth = torch::arange(300, torch::kLong) % 3;
    const auto points = centres.index_select(0, truth) + 0.5 * torch::randn({300, 2}, torch::kFloat64);
    const auto clusters = analysis::kmeans(points, 3, /*seed=*/1);
    std::vector<int64_t> t(truth.data_ptr<int64_t>(), truth.data_ptr<int64_t>() + 300);
    QVERIFY(near(analysis::adjusted_mutual_information(clusters, t), 1.0));
    QCOMPARE(analysis::kmeans(points, 3, 1), clusters);  // seeded: the same clusters again
    // Predictions that follow the blobs score 1; predictions that ignore them score ≈ 0.
    const auto following = torch::one_hot(truth, 3).to(torch::kFloat64);
    QVERIFY(near(analysis::class_ami(points, following, 1), 1.0));
    const auto ignoring = torch::one_hot(torch::randint(3, {300}, torch::kLong), 3).to(torch::kFloat64);
    QVERIFY(analysis::class_ami(points, ignoring, 1) < 0.05);
  }

  // Selection over a synthetic stream of evaluation points: the best value wins, a tie keeps the earlier point.
  void selectionPicksTheBestPoint_data() {
    QTest::addColumn<QString>("validator");
    QTest::addColumn<std::vector<double>>("stream");
    QTest::addColumn<int>("picked");
    QTest::newRow("higher is better") << "snd" << std::vector<double>{0.3, 0.5, 0.4, 0.5, 0.7, 0.6} << 4;
    QTest::newRow("tie keeps the earlier") << "im" << std::vector<double>{0.2, 0.9, 0.9, 0.1} << 1;
    QTest::newRow("lower is better") << "entropy" << std::vector<double>{1.0, 0.8, 0.9, 0.8, 0.5, 0.6} << 4;
    QTest::newRow("NaN never picked") << "bnm" << std::vector<double>{0.1, std::nan(""), 0.05} << 0;
  }
  void selectionPicksTheBestPoint() {
    QFETCH(QString, validator);
    QFETCH(std::vector<double>, stream);
    QFETCH(int, picked);
    std::optional<double> best;
    int at = -1;
    for (size_t i = 0; i < stream.size(); ++i)
      if (analysis::improves(best, stream[i], validator.toStdString())) {
        best = stream[i];
        at = static_cast<int>(i);
      }
    QCOMPARE(at, picked);
  }

  // Leave one pair out: a pair's validator is chosen on the other pairs' tasks only, and a validator
  // scored on fewer of them (source accuracy exists only where source images were held out) does
  // not compete with one scored on all.
  void leaveOnePairOutChoosesOnTheOtherPairs() {
    auto task = [](const std::string& pair, std::vector<std::pair<std::string, double>> rhos) {
      analysis::TaskStudy t;
      t.pair = pair;
      t.task = pair + " sampled, full";
      for (const auto& [v, rho] : rhos) t.scores.push_back({v, rho, 10, 0, 0, 1});
      return t;
    };
    const std::vector<analysis::TaskStudy> tasks{task("a→b", {{"entropy", -0.9}, {"snd", 0.9}}),
                                                 task("b→a", {{"entropy", 0.3}, {"snd", 0.1}, {"source_accuracy", 0.9}}),
                                                 task("c→d", {{"entropy", 0.4}, {"snd", 0.2}})};
    const auto choices = analysis::choose_leave_one_pair_out(
        tasks, {{"a→b", {"entropy", "snd", "source_accuracy"}}, {"c→d", {"entropy", "snd"}}, {"b→a", {"entropy", "snd"}}});
    std::map<std::string, analysis::HeldOutChoice> by_pair;
    for (const auto& c : choices) by_pair[c.pair] = c;
    // a→b: over b→a and c→d entropy 0.35, snd 0.15; source_accuracy (0.9) only on one of the two.
    QCOMPARE(by_pair["a→b"].validator, std::string("entropy"));
    QVERIFY(std::abs(by_pair["a→b"].mean_spearman - 0.35) < 1e-12);
    QCOMPARE(by_pair["a→b"].chosen_on.size(), size_t(2));
    // b→a: over a→b and c→d, entropy −0.25 against snd 0.55: its own 0.3 for entropy does not count.
    QCOMPARE(by_pair["b→a"].validator, std::string("snd"));
    QCOMPARE(by_pair["c→d"].validator, std::string("snd"));  // (0.9 + 0.1) / 2 against (−0.9 + 0.3) / 2
  }

  void spearmanOnKnownRanks() {
    QVERIFY(near(analysis::spearman({1, 2, 3, 4}, {10, 20, 35, 40}), 1.0));
    QVERIFY(near(analysis::spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0));
    // Ties share their average rank: x ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / √(4.5 · 5).
    QVERIFY(near(analysis::spearman({1, 2, 2, 3}, {1, 2, 3, 4}), 4.5 / std::sqrt(22.5)));
    QVERIFY(std::isnan(analysis::spearman({1, 1, 1}, {1, 2, 3})));
  }

  // DEV's weights recover the density ratio of two shifted Gaussians: p_t / p_s = exp(x − ½) for N(1, 1) over N(0, 1).
  void importanceWeightsAreTheDensityRatio() {
    torch::manual_seed(5);
    const auto source = torch::randn({20000, 1}, torch::kFloat64);
    const auto target = torch::randn({20000, 1}, torch::kFloat64) + 1.0;
    const auto w = analysis::importance_weights(source, target);
    const auto x = source.flatten();
    const auto inside = (x > -2) & (x < 2);
    const auto error = (w.log() - (x - 0.5)).abs().masked_select(inside);
    QVERIFY2(error.max().item<double>() < 0.1, qPrintable(QString::number(error.max().item<double>())));
  }

  void deepEmbeddedValidationByHand() {
    // w = (1, 3), ℓ = (2, 4): w·ℓ = (2, 12), mean 7; Var(w) = 2, Cov(wℓ, w) = 10, η = −5;
    // DEV = 7 + (−5)·2 − (−5) = 2; DEVN = 14 / 4 = 3.5.
    const auto r = analysis::deep_embedded_validation(torch::tensor({1.0, 3.0}), torch::tensor({2.0, 4.0}));
    QVERIFY(near(r.dev, 2.0));
    QVERIFY(near(r.devn, 3.5));
    QVERIFY(!analysis::higher_is_better("dev") && !analysis::higher_is_better("devn"));
    QVERIFY(analysis::higher_is_better("source_accuracy"));
  }

  void allValidatorsByName() {
    torch::manual_seed(1);
    const auto logits = torch::randn({50, 10});
    const auto values = analysis::label_free_validators(logits, torch::randn({50, 6}), 2);
    QCOMPARE(values.size(), size_t(5));
    for (const char* name : {"entropy", "im", "bnm", "snd", "class_ami"}) QVERIFY2(values.count(name), name);
    QVERIFY(!analysis::higher_is_better("entropy"));
    QVERIFY(analysis::higher_is_better("snd"));
    QVERIFY(test::error_of([] { analysis::prediction_entropy(torch::ones({1, 3})); }).contains("N ≥ 2"));
  }
};

QTEST_APPLESS_MAIN(TestValidators)
#include "tst_validators.moc"
