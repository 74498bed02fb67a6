// The run records: every record round-trips through JSON, old run directories load, bad fields are named.
#include "core/test_util.h"

#include "core/analysis/curves.h"
#include "core/io/records.h"
#include "core/io/run_dir.h"
#include "core/util/error.h"

#include <QtTest>

#include <cstdlib>
#include <fstream>

using namespace fan;
using nlohmann::json;

namespace {

std::filesystem::path fixture(const std::string& name) {
  const char* root = std::getenv("FAN_TEST_SOURCE_DIR");
  return std::filesystem::path(root ? root : ".") / "tests" / "fixtures" / name;
}

json read(const std::filesystem::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

io::Accuracy accuracy(double top1, bool with_classes) {
  io::Accuracy a;
  a.top1 = top1;
  a.top5 = top1 + 0.1;
  if (with_classes) {
    a.per_class = {top1, 1 - top1};
    a.confusion = {{3, 1}, {0, 4}};
  }
  return a;
}

// A state with every field set to something other than its default.
io::RunState full_state() {
  io::RunState s;
  s.stage = io::Stage::kAdaptation;
  s.stage1 = {120, 33.5, {{"source", {7, 3}}}};
  s.stage2 = {40, 12.25, {{"source", {2, 9}}, {"target", {3, 1}}}};
  s.metrics_lines = 77;
  s.source_only = accuracy(0.5, true);
  s.source_only_adabn = accuracy(0.6, false);
  s.source_test = accuracy(0.9, false);
  s.adapted = accuracy(0.7, true);
  s.validation_source_only = 0.55;
  s.validation_adapted = 0.75;
  s.target_prior_estimate = {0.25, 0.75};
  s.loader_wait = {{1, {0.5, 30}}, {2, {0.25, 12}}};
  s.seconds = {{"train_steps", 40.0}, {"evaluations", 2.5}};
  s.picks = {{"snd", {16, 4.5}}, {"oracle", {24, 0.8}}};
  return s;
}

io::Results full_results() {
  io::Results r;
  r.status = "finished";
  r.name = "tiny";
  r.variant = "full";
  r.encoder = "lenet";
  r.framing = "mnist";
  r.seed = 4;
  r.source = {{"dataset", "mnist"}};
  r.target = {{"dataset", "usps"}};
  r.source_only = accuracy(0.5, true);
  r.source_only_adabn = accuracy(0.6, false);
  r.source_test = accuracy(0.9, false);
  r.adapted = accuracy(0.7, true);
  r.target_prior_estimate = {0.25, 0.75};
  r.loader_wait = {{2, {0.25, 12}}};
  r.validation_source_only = 0.55;
  r.validation_adapted = 0.75;
  r.validation_images = 50;
  r.eval_images = 1000;
  r.stage1_seconds = 33.5;
  r.stage2_seconds = 12.25;
  r.stage1_steps = 120;
  r.stage2_steps = 40;
  r.seconds = {{"train_steps", 40.0}};
  r.device = "cpu";
  r.threads = 2;
  r.fan_version = "0.1.0";
  r.torch_version = "1.13.0";
  r.cpu = {{"model", "Intel(R) Xeon(R) Processor"}, {"aten", "AVX512"}, {"blas", "OpenBLAS SkylakeX"}, {"onednn", "avx512_core"}};
  r.proxy_a_distance = {{"logits", {{"before", {{"distance", 1.5}}}}}};
  r.picks = {{"snd", {16, 4.5, 0.81, 0.97}}, {"oracle", {24, 0.8, 0.83, 0.98}}};
  r.selected = "snd";
  return r;
}

}  // namespace

class TestRecords : public QObject {
  Q_OBJECT
 private slots:
  void runStateRoundTrips() {
    const auto s = full_state();
    const auto j = io::to_json(s);
    QCOMPARE(j["format"].get<int>(), io::kRecordFormat);
    QCOMPARE(j["stage"].get<std::string>(), std::string("adaptation"));
    const auto back = io::run_state_from_json(j, "state");
    QCOMPARE(io::to_json(back), j);
    QVERIFY(back.stage == io::Stage::kAdaptation);
    QCOMPARE(back.stage2.streams.at("target").epoch, int64_t(3));
    QCOMPARE(back.stage1.seconds, 33.5);
    QCOMPARE(back.adapted->confusion, (std::vector<std::vector<int64_t>>{{3, 1}, {0, 4}}));
    QCOMPARE(*back.validation_adapted, 0.75);
    QCOMPARE(back.loader_wait.at(2).stage_seconds, 12.0);
    QCOMPARE(back.seconds.at("evaluations"), 2.5);
    QCOMPARE(back.picks.at("snd").step, int64_t(16));
    QCOMPARE(back.picks.at("oracle").value, 0.8);
    // A fresh state (nothing measured yet) round-trips as well.
    QCOMPARE(io::to_json(io::run_state_from_json(io::to_json(io::RunState{}), "state")), io::to_json(io::RunState{}));
  }

  void resultsRoundTrip() {
    const auto r = full_results();
    const auto j = io::to_json(r);
    const auto back = io::results_from_json(j, "results.json");
    QCOMPARE(io::to_json(back), j);
    QCOMPARE(back.name, std::string("tiny"));
    QCOMPARE(back.adapted->top1, 0.7);
    QVERIFY(back.source_only_adabn->per_class.empty());
    QCOMPARE(back.validation_images, int64_t(50));
    QCOMPARE(back.total_seconds(), 45.75);
    QCOMPARE(j["wall_seconds"]["total"].get<double>(), 45.75);
    QCOMPARE(back.proxy_a_distance["logits"]["before"]["distance"].get<double>(), 1.5);
    QCOMPARE(back.picks.at("snd").top1, 0.81);
    QCOMPARE(back.selected, std::string("snd"));
    QCOMPARE(back.cpu["blas"].get<std::string>(), std::string("OpenBLAS SkylakeX"));
    // Runs made before the code paths were recorded have none, and write none back.
    auto old = j;
    old.erase("cpu");
    QVERIFY(io::results_from_json(old, "results.json").cpu.is_null());
    QVERIFY(!io::to_json(io::results_from_json(old, "results.json")).contains("cpu"));
    QVERIFY(j["picks"]["oracle"]["note"].get<std::string>().find("test labels") != std::string::npos);
  }

  void metricRecordsRoundTrip() {
    events::StageEvent stage{2, "adaptation", 300};
    events::StepEvent step;
    step.stage = 2;
    step.step = 10;
    step.total_steps = 300;
    step.losses = {{"L_advD", 0.7}, {"D_acc", 0.5}};
    step.learning_rates = {{"target", 2e-4}};
    step.images_per_second = 1234.5;
    step.elapsed_seconds = 3.25;
    events::EvaluationEvent eval;
    eval.stage = 2;
    eval.step = 10;
    eval.split = "target_test";
    eval.network = "target";
    eval.images = 1000;
    eval.top1 = 0.8;
    eval.top5 = 0.95;
    eval.per_class = {0.7, 0.9};
    for (const io::MetricRecord& record : std::vector<io::MetricRecord>{stage, step, eval}) {
      const auto j = io::to_json(record);
      const auto back = io::metric_record_from_json(j, "metrics.jsonl:1");
      QCOMPARE(back.index(), record.index());
      QCOMPARE(io::to_json(back), j);
    }
    const auto back = std::get<events::StepEvent>(io::metric_record_from_json(io::to_json(step), "m"));
    QCOMPARE(back.losses, step.losses);
    QCOMPARE(back.elapsed_seconds, 3.25);
  }

  // A run directory written before the records (format 1, the code of 2026-11) still loads.
  void formatOneRunDirectoryLoads() {
    test::ScratchDir dir;
    std::filesystem::copy(fixture("format1_run"), dir.path(), std::filesystem::copy_options::recursive);
    const io::RunDirectory run(dir.path());
    const auto results = run.read_results();
    QCOMPARE(results.format, 1);
    QVERIFY(results.finished());
    QCOMPARE(results.name, std::string("mnist_to_usps"));
    QVERIFY(results.adapted && results.adapted->confusion.size() == 10);
    QCOMPARE(results.adapted->top1, read(dir / "results.json")["adapted"]["top1"].get<double>());
    QCOMPARE(results.eval_images, int64_t(0));  // format 1 evaluated whole sets
    QCOMPARE(results.target_prior_estimate.size(), size_t(10));
    const auto metrics = run.read_metrics();
    QCOMPARE(metrics.size(), size_t(11));
    QVERIFY(std::holds_alternative<events::StageEvent>(metrics.front()));
    const auto curves = analysis::curves_from_metrics(metrics);
    QVERIFY(!curves.stage(1).series.empty());
    QVERIFY(!curves.stage(2).series.empty());
    const auto summary = run.summary();  // no checkpoint.pt in the fixture: results decide
    QVERIFY(summary.status == io::RunSummary::Status::kFinished);
    QCOMPARE(summary.name, std::string("mnist_to_usps"));

    // Checkpoint states of that format: mid stage 1, mid stage 2, finished.
    const auto s1 = io::run_state_from_json(read(dir / "state_stage1.json"), "state_stage1.json");
    QVERIFY(s1.stage == io::Stage::kSource);
    QCOMPARE(s1.stage1.step, int64_t(381));
    QCOMPARE(s1.stage1.streams.at("source").epoch, int64_t(380));
    QCOMPARE(s1.metrics_lines, int64_t(385));
    const auto s2 = io::run_state_from_json(read(dir / "state_stage2.json"), "state_stage2.json");
    QVERIFY(s2.stage == io::Stage::kAdaptation);
    QCOMPARE(s2.stage1.step, int64_t(1));
    QCOMPARE(s2.stage2.step, int64_t(46));
    QCOMPARE(s2.stage2.streams.at("target").epoch, int64_t(45));
    QCOMPARE(s2.stage2.streams.at("source").cursor, int64_t(1));
    QVERIFY(s2.source_only_adabn.has_value());
    const auto done = io::run_state_from_json(read(dir / "state_finished.json"), "state_finished.json");
    QVERIFY(done.stage == io::Stage::kFinished);
    QCOMPARE(done.adapted->top1, results.adapted->top1);
  }

  void badFieldsAreNamed_data() {
    QTest::addColumn<QString>("record");
    QTest::addColumn<QString>("edit");
    QTest::addColumn<QString>("expected");
    QTest::newRow("results: wrong type") << "results" << "seed=\"x\"" << "results.json: field \"seed\": expected an integer";
    QTest::newRow("results: missing") << "results" << "-wall_seconds" << "results.json: field \"wall_seconds\" is missing";
    QTest::newRow("results: nested") << "results" << "adapted.top1=\"high\""
                                     << "results.json: adapted: field \"top1\": expected a number, found a string";
    QTest::newRow("results: cpu") << "results" << "cpu=\"AVX2\""
                                  << "results.json: field \"cpu\": expected an object, found a string";
    QTest::newRow("results: newer format") << "results" << "format=9" << "field \"format\": this build reads formats 1 to";
    QTest::newRow("state: stage") << "state" << "stage=\"done\"" << "checkpoint.pt: field \"stage\": expected \"source\"";
    QTest::newRow("state: stream") << "state" << "stage2.streams.target.cursor=1.5"
                                   << "checkpoint.pt: field \"stage2.streams.target.cursor\": expected an integer";
    QTest::newRow("metric: type") << "metric" << "type=\"loss\"" << "metrics.jsonl:3: field \"type\": expected";
    QTest::newRow("metric: loss") << "metric" << "losses.Lc=\"nan\""
                                  << "metrics.jsonl:3: field \"losses.Lc\": expected a number, found a string";
    QTest::newRow("metric: missing step") << "metric" << "-step" << "metrics.jsonl:3: field \"step\" is missing";
  }
  void badFieldsAreNamed() {
    QFETCH(QString, record);
    QFETCH(QString, edit);
    QFETCH(QString, expected);
    events::StepEvent step;
    step.losses = {{"Lc", 1.0}};
    json j = record == "results" ? io::to_json(full_results())
             : record == "state" ? io::to_json(full_state())
                                 : io::to_json(io::MetricRecord(step));
    // "a.b=value" sets a field (value as JSON), "-a" removes one.
    const auto e = edit.toStdString();
    if (e[0] == '-') {
      j.erase(e.substr(1));
    } else {
      const auto eq = e.find('=');
      json* target = &j;
      std::string key = e.substr(0, eq);
      for (auto dot = key.find('.'); dot != std::string::npos; dot = key.find('.')) {
        target = &(*target)[key.substr(0, dot)];
        key = key.substr(dot + 1);
      }
      (*target)[key] = json::parse(e.substr(eq + 1));
    }
    const QString message = test::error_of([&] {
      if (record == "results") io::results_from_json(j, "results.json");
      else if (record == "state") io::run_state_from_json(j, "checkpoint.pt");
      else io::metric_record_from_json(j, "metrics.jsonl:3");
    });
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  void metricsFileErrorsNameTheLine() {
    test::ScratchDir dir;
    const io::RunDirectory run(dir.path());
    events::StageEvent stage{1, "source", 10};
    const std::string good = io::to_json(io::MetricRecord(stage)).dump();
    // A torn last line (a run killed mid-write) is left out.
    test::write_file(run.metrics_path(), good + "\n" + good + "\n{\"type\": \"st");
    QCOMPARE(run.read_metrics().size(), size_t(2));
    // A bad line before the end is an error naming the file, the line and the field.
    test::write_file(run.metrics_path(), good + "\n{\"type\": \"step\", \"stage\": 1}\n" + good + "\n");
    const auto message = test::error_of([&] { run.read_metrics(); });
    QVERIFY2(message.contains("metrics.jsonl:2: field \"step\" is missing"), qPrintable(message));
    test::write_file(run.metrics_path(), "not json\n" + good + "\n");
    QVERIFY(test::error_of([&] { run.read_metrics(); }).contains("metrics.jsonl:1: not valid JSON"));
  }

  void summaryOfDirectories() {
    test::ScratchDir dir;
    QVERIFY(io::RunDirectory(dir / "nothing").summary().status == io::RunSummary::Status::kNotARun);
    test::write_file(dir / "bad" / "config.json", "{ not json");
    const auto bad = io::RunDirectory(dir / "bad").summary();
    QVERIFY(bad.status == io::RunSummary::Status::kUnreadable);
    QVERIFY2(QString::fromStdString(bad.problem).contains("config.json"), bad.problem.c_str());
    test::write_file(dir / "started" / "config.json", R"({"name": "n", "seed": 5, "model": {"variant": "joint"}})");
    const auto started = io::RunDirectory(dir / "started").summary();
    QVERIFY(started.status == io::RunSummary::Status::kStarted);
    QCOMPARE(started.seed, int64_t(5));
    QCOMPARE(started.variant, std::string("joint"));
    test::write_file(dir / "started" / "results.json", io::to_json(full_results()).dump());
    const auto finished = io::RunDirectory(dir / "started").summary();
    QVERIFY(finished.status == io::RunSummary::Status::kFinished);
    QCOMPARE(finished.results->adapted->top1, 0.7);
  }
};

QTEST_APPLESS_MAIN(TestRecords)
#include "tst_records.moc"
