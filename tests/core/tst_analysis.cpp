// Analysis: the Fig. 6b swap by construction, proxy A-distance, sampling, grids, and figures of a tiny run.
#include "core/synthetic.h"
#include "core/test_util.h"

#include "core/analysis/domain_distance.h"
#include "core/analysis/ensemble.h"
#include "core/analysis/features.h"
#include "core/analysis/figures.h"
#include "core/data/image_io.h"
#include "core/io/config.h"
#include "core/io/run_dir.h"
#include "core/train/evaluation.h"
#include "core/train/experiment.h"
#include "core/util/error.h"

#include <QtTest>

#include <fstream>
#include <set>

using namespace fan;
using nlohmann::json;

namespace {

// Records what it was asked to draw and writes a stand-in file, so that the
// core test sees every PNG path without Qt Widgets.
class RecordingRenderer : public analysis::FigureRenderer {
 public:
  void scatter(const analysis::ScatterFigure& f, const std::filesystem::path& png) override {
    int64_t points = 0;
    for (const auto& s : f.series) points += static_cast<int64_t>(s.xy.size() / 2);
    scatter_points.push_back(points);
    touch(png);
  }
  void curves(const analysis::CurveFigure& f, const std::filesystem::path& png) override {
    curve_series += static_cast<int>(f.series.size());
    touch(png);
  }
  void matrix(const analysis::MatrixFigure& f, const std::filesystem::path& png) override {
    matrix_size = static_cast<int>(f.counts.size());
    touch(png);
  }
  void table(const analysis::TableFigure& f, const std::filesystem::path& png) override {
    table_rows = static_cast<int>(f.rows.size());
    touch(png);
  }
  std::vector<int64_t> scatter_points;
  int curve_series = 0, matrix_size = 0, table_rows = 0;

 private:
  static void touch(const std::filesystem::path& p) { std::ofstream(p) << "png"; }
};

}  // namespace

class TestAnalysis : public QObject {
  Q_OBJECT
 private:
  test::ScratchDir data_{"fan-analysis-data"};

 private slots:
  void initTestCase() { torch::set_num_threads(1); }

  void swapUsesTargetHdAndSourceLogits() {
    torch::manual_seed(3);
    models::FanNetOptions o;
    models::FanNet source(o), target(o);  // different random weights
    const auto target_images = torch::rand({12, 1, 28, 28});
    const auto target_labels = torch::arange(12, torch::kLong) % 10;
    const auto source_images = torch::rand({40, 1, 28, 28});
    const auto source_labels = torch::arange(40, torch::kLong) % 10;
    const auto r = analysis::swap_reconstructions(target, source, target_images, target_labels, source_images,
                                                  source_labels, /*seed=*/5);
    QCOMPARE(r.source_partner.size(), size_t{12});
    torch::NoGradGuard no_grad;
    target->eval();
    source->eval();
    for (int64_t i = 0; i < 12; ++i)  // the partner has the target image's class
      QCOMPARE(source_labels[r.source_partner[i]].item<int64_t>(), target_labels[i].item<int64_t>());
    const auto partners = source_images.index_select(0, torch::tensor(r.source_partner, torch::kLong));
    // Exactly the target image's hd (target network) and the partner's logits (source network)…
    QVERIFY(torch::equal(r.target_domain_specific, target->forward(target_images).domain_specific));
    QVERIFY(torch::equal(r.source_logits, source->classify(partners)));
    // …decoded by the target network's decoder.
    QVERIFY(torch::allclose(r.reconstruction, target->decode(r.target_domain_specific, r.source_logits)));
    // Not the plain reconstruction (the logits really were swapped).
    QVERIFY(!torch::allclose(r.reconstruction, target->forward(target_images).reconstruction, 1e-4, 1e-5));
    // Seeded: the same partners again.
    const auto again = analysis::swap_reconstructions(target, source, target_images, target_labels,
                                                      source_images, source_labels, 5);
    QCOMPARE(again.source_partner, r.source_partner);
    // A class the source lacks is an error.
    QVERIFY_THROWS_EXCEPTION(
        Error, analysis::swap_reconstructions(target, source, target_images, target_labels, source_images,
                                              torch::zeros({40}, torch::kLong), 5));
  }

  void proxyADistance() {
    torch::manual_seed(1);
    const auto a = torch::randn({400, 8});
    const auto far = torch::randn({400, 8}) + 3.0;
    const auto same = torch::randn({400, 8});
    const auto separable = analysis::proxy_a_distance(a, far, 0);
    QVERIFY2(separable.distance > 1.9, qPrintable(QString::number(separable.distance)));
    const auto mixed = analysis::proxy_a_distance(a, same, 0);
    QVERIFY2(mixed.distance < 0.3, qPrintable(QString::number(mixed.distance)));
    QCOMPARE(mixed.train_size + mixed.test_size, int64_t{800});
    QCOMPARE(analysis::proxy_a_distance(a, far, 0).distance, separable.distance);  // seeded
    QVERIFY_THROWS_EXCEPTION(Error, analysis::proxy_a_distance(a, torch::randn({10, 3}), 0));
    QVERIFY_THROWS_EXCEPTION(Error, analysis::proxy_a_distance(a.narrow(0, 0, 2), far, 0));
  }

  void sampleIndicesAndGrid() {
    const auto s = analysis::sample_indices(100, 30, 9);
    QCOMPARE(s.size(), size_t{30});
    QCOMPARE(std::set<int64_t>(s.begin(), s.end()).size(), size_t{30});
    QVERIFY(std::is_sorted(s.begin(), s.end()));
    QCOMPARE(analysis::sample_indices(100, 30, 9), s);
    QCOMPARE(analysis::sample_indices(5, 30, 9).size(), size_t{5});
    const auto grid = analysis::image_grid({torch::rand({4, 1, 28, 28}), torch::rand({3, 1, 28, 28})}, 2, 2);
    QCOMPARE(grid.sizes().vec(), (std::vector<int64_t>{1, 2 + 2 * (56 + 2), 2 + 4 * (56 + 2)}));
  }

  void figuresOfATinyRun() {
    test::write_synthetic_domains(data_.path(), 200, 80);
    test::ScratchDir runs("fan-analysis-run");
    const auto run_dir = runs / "tiny";
    const json config = {{"name", "tiny"},
                         {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
                         {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
                         {"data", {{"root", data_.path().string()}, {"framing", "stretch"}}},
                         {"stage1", {{"epochs", 2}, {"batch_size", 32}, {"lr", 1e-3}}},
                         {"stage2", {{"iterations", 12}, {"batch_size", 32}}},
                         {"eval", {{"every", 6}, {"batch_size", 100}}},
                         {"run", {{"log_every", 2}, {"checkpoint_every", 50}, {"preview_every", 0}}},
                         {"seed", 1},
                         {"threads", 1}};
    train::Experiment experiment(io::ExperimentConfig::from_json(config), run_dir);
    QVERIFY(experiment.run().finished());

    const auto loaded = analysis::load_run(run_dir);
    QVERIFY(loaded.adapted());
    QCOMPARE(loaded.target_test.size(), int64_t{80});

    analysis::FiguresOptions o;
    o.images_per_domain = 40;
    o.perplexity = 5;
    o.threads = 1;
    RecordingRenderer renderer;
    const auto report = analysis::write_figures(run_dir, o, &renderer);
    QVERIFY2(report.skipped.empty(), report.skipped.empty() ? "" : report.skipped.front().c_str());
    const auto figures = run_dir / "figures";
    std::vector<std::string> expected;
    for (const auto* panel :
         {"fig5a_logits_before", "fig5b_logits_after", "fig5c_dss_before", "fig5d_dss_after"})
      for (const auto* suffix : {".csv", ".png", "_by_class.png"})
        expected.push_back(std::string(panel) + suffix);
    for (const auto* name : {"loss_stage1", "loss_stage2", "accuracy", "confusion", "proxy_a_distance"}) {
      expected.push_back(std::string(name) + ".png");
      expected.push_back(std::string(name) + (std::string(name) == "proxy_a_distance" ? ".json" : ".csv"));
    }
    expected.push_back("proxy_a_distance.md");
    // The live embedding's frames (eval.live_embedding_images, on by default) as a GIF and a strip.
    expected.push_back("live_embedding.gif");
    expected.push_back("live_embedding_strip.png");
    if (data::image_io_available()) {
      expected.push_back("fig6a_reconstructions.png");
      expected.push_back("fig6b_swap.png");
      expected.push_back("fig6b_swap.csv");
    }
    for (const auto& name : expected) QVERIFY2(std::filesystem::exists(figures / name), name.c_str());
    QCOMPARE(report.written.size(), expected.size() + 1);              // + results.json
    QCOMPARE(renderer.scatter_points, (std::vector<int64_t>(8, 80)));  // 40 per domain, 8 plots
    QCOMPARE(renderer.matrix_size, 10);
    QCOMPARE(renderer.table_rows, 3);
    // The t-SNE CSV: header, one line per point, domains in order.
    std::ifstream csv(figures / "fig5a_logits_before.csv");
    std::string line;
    std::getline(csv, line);
    QCOMPARE(line, std::string("x,y,domain,label"));
    int lines = 0, source_lines = 0;
    while (std::getline(csv, line)) {
      ++lines;
      source_lines += line.find(",source,") != std::string::npos;
    }
    QCOMPARE(lines, 80);
    QCOMPARE(source_lines, 40);
    // results.json gains the proxy A-distance of all three spaces, before and after.
    const auto results = io::to_json(io::RunDirectory(run_dir).read_results());
    for (const auto* space : {"logits", "task_specific", "domain_specific"}) {
      QVERIFY2(results["proxy_a_distance"].contains(space), space);
      QVERIFY(results["proxy_a_distance"][space].contains("before"));
      QVERIFY(results["proxy_a_distance"][space].contains("after"));
    }
    QCOMPARE(results.value("status", ""), std::string("finished"));

    // Without a renderer: CSVs and grids only, the PNG plots listed as skipped.
    const auto plain = analysis::write_figures(run_dir, o, nullptr);
    QVERIFY(!plain.skipped.empty());
    QVERIFY(QString::fromStdString(plain.skipped.front()).contains("GUI build"));
  }

  // `fan ensemble`: draws of one seed averaged; runs holding out other images refused.
  void ensembleAveragesTheDrawsSoftmax() {
    test::write_synthetic_domains(data_.path(), 200, 80);
    test::ScratchDir runs("fan-analysis-ensemble");
    auto config_of = [&](const std::string& name, int seed) {
      return json{{"name", name},
                  {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
                  {"target", {{"dataset", "usps"}, {"protocol", "full"}, {"validation", 30}}},
                  {"data", {{"root", data_.path().string()}, {"framing", "stretch"}}},
                  {"stage1", {{"epochs", 1}, {"batch_size", 32}, {"lr", 1e-3}}},
                  {"stage2", {{"iterations", 8}, {"batch_size", 32}}},
                  {"eval", {{"every", 8}, {"batch_size", 100}}},
                  {"run", {{"log_every", 4}, {"checkpoint_every", 50}, {"preview_every", 0}}},
                  {"seed", seed},
                  {"threads", 1}};
    };
    const auto a = runs / "draw0", b = runs / "draw1", other_seed = runs / "seed2";
    auto draw1 = config_of("draw1", 1);
    draw1["stage1"]["from"] = a.string();
    draw1["stage2"]["draw"] = 1;
    for (const auto& [dir, config] : {std::pair{a, config_of("draw0", 1)}, std::pair{b, draw1},
                                      std::pair{other_seed, config_of("seed2", 2)}}) {
      train::Experiment experiment(io::ExperimentConfig::from_json(config), dir);
      QVERIFY(experiment.run().finished());
    }

    const auto result = analysis::evaluate_ensemble({a, b});
    QCOMPARE(result.members.size(), size_t{2});
    QCOMPARE(result.test_images, int64_t{80});
    QVERIFY(result.validation.has_value());
    QCOMPARE(result.validation_images, int64_t{30});
    // Each member alone is the run's own evaluation; the ensemble is the mean of their softmax outputs.
    auto run_a = analysis::load_run(a), run_b = analysis::load_run(b);
    QCOMPARE(result.members[0].test_top1, train::evaluate(run_a.target, run_a.target_test, 100).top1);
    QCOMPARE(result.members[1].test_top1, train::evaluate(run_b.target, run_b.target_test, 100).top1);
    QCOMPARE(*result.members[0].validation_top1, train::evaluate(run_a.target, run_a.target_validation, 100).top1);
    // The draws really are two networks (else the average below would prove nothing).
    const auto logits_a = train::predict_logits(run_a.target, run_a.target_test.images, 100);
    const auto logits_b = train::predict_logits(run_b.target, run_b.target_test.images, 100);
    QVERIFY(!torch::allclose(logits_a, logits_b));
    const auto mean = (torch::softmax(logits_a.to(torch::kDouble), 1) + torch::softmax(logits_b.to(torch::kDouble), 1)) / 2;
    const auto expected = train::evaluate_logits(mean, run_a.target_test.labels, 10);
    QCOMPARE(result.test.top1, expected.top1);
    QCOMPARE(result.test.confusion, expected.confusion);
    // A run with itself is that run.
    const auto twice = analysis::evaluate_ensemble({a, a});
    QCOMPARE(twice.test.top1, result.members[0].test_top1);
    QCOMPARE(twice.validation->top1, *result.members[0].validation_top1);
    // Another seed holds out other images: refused, naming the run and why.
    try {
      analysis::evaluate_ensemble({a, other_seed});
      QFAIL("runs holding out different images were ensembled");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains(QString::fromStdString(other_seed.string())) &&
                   QString(e.what()).contains("target.validation"),
               e.what());
    }
    try {
      analysis::evaluate_ensemble({a});
      QFAIL("an ensemble of one run was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("at least two"), e.what());
    }
  }

  void loadRunErrors() {
    test::ScratchDir empty("fan-analysis-empty");
    QVERIFY_THROWS_EXCEPTION(Error, analysis::load_run(empty / "missing"));
    try {
      analysis::load_run(empty.path());
      QFAIL("a folder without a checkpoint was accepted");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("checkpoint.pt"), e.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestAnalysis)
#include "tst_analysis.moc"
