// Training: frozen source in stage 2, the discriminator, config errors, end-to-end runs and resume.
#include "core/synthetic.h"
#include "core/test_util.h"

#include "core/data/domain.h"

#include "core/analysis/curves.h"
#include "core/analysis/ensemble.h"
#include "core/analysis/features.h"
#include "core/analysis/rank_study.h"
#include "core/io/config.h"
#include "core/io/run_dir.h"
#include "core/models/discriminator.h"
#include "core/train/experiment.h"
#include "core/train/losses.h"
#include "core/train/source_trainer.h"
#include "core/train/target_adapter.h"
#include "core/util/error.h"

#include <QtTest>

#include <tuple>

using namespace fan;
using nlohmann::json;

namespace {

std::map<std::string, torch::Tensor> snapshot(torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  for (const auto& b : m.named_buffers()) out["buffer:" + b.key()] = b.value().detach().clone();
  return out;
}

bool identical(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a)
    if (!torch::equal(v, b.at(k))) return false;
  return true;
}

// A tiny experiment on the synthetic domains (threads = 1: bit-reproducible).
json tiny_config(const std::filesystem::path& root) { return test::tiny_project(root); }

using test::StopAt;

// The metric stream without wall-clock fields.
std::vector<json> comparable_metrics(const std::filesystem::path& run) {
  std::vector<json> records;
  for (const auto& record : io::RunDirectory(run).read_metrics()) {
    auto r = io::to_json(record);
    r.erase("images_per_second");
    r.erase("elapsed_seconds");
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace

class TestTraining : public QObject {
  Q_OBJECT
 private:
  test::ScratchDir data_{"fan-synthetic"};

 private slots:
  void initTestCase() {
    torch::set_num_threads(1);
    test::write_synthetic_domains(data_.path(), 320, 100);
  }

  void stage2LeavesSourceBitIdentical() {
    torch::manual_seed(1);
    models::FanNetOptions o;
    models::FanNet source(o), target(o);
    train::SourceTrainer trainer(source, {});
    trainer.step(torch::rand({16, 1, 28, 28}), torch::randint(10, {16}, torch::kLong));
    models::copy_state(*source, *target);
    const auto before = snapshot(*source);
    train::TargetAdapter adapter(source, target, models::Discriminator(10, 500, true), {});
    adapter.precompute_source_logits(torch::rand({40, 1, 28, 28}));
    const auto target_before = snapshot(*target);
    const auto d_before = snapshot(*adapter.discriminator());
    for (int i = 0; i < 3; ++i) {
      const auto losses = adapter.step(torch::randint(40, {16}, torch::kLong), torch::rand({16, 1, 28, 28}));
      QVERIFY(losses.count("L_advD") && losses.count("L_advM") && losses.count("Lr"));
    }
    QVERIFY(identical(before, snapshot(*source)));
    for (const auto& p : source->parameters()) QVERIFY(!p.requires_grad());
    QVERIFY(!identical(target_before, snapshot(*target)));
    QVERIFY(!identical(d_before, snapshot(*adapter.discriminator())));
  }

  // stage2.train_classifier = false: the target's logit map M keeps the source's
  // weights (no gradient, not in the optimizer) while the encoder still adapts.
  void frozenClassifierKeepsLogitMap() {
    torch::manual_seed(2);
    models::FanNetOptions o;
    models::FanNet source(o), target(o);
    models::copy_state(*source, *target);
    train::TargetAdapterOptions a;
    a.train_classifier = false;
    train::TargetAdapter adapter(source, target, models::Discriminator(10, 64, false), a);
    adapter.precompute_source_logits(torch::rand({40, 1, 28, 28}));
    const auto m_before = snapshot(*target->logit_map);
    const auto encoder_before = snapshot(*target->encoder);
    for (int i = 0; i < 3; ++i) adapter.step(torch::randint(40, {16}, torch::kLong), torch::rand({16, 1, 28, 28}));
    QVERIFY(identical(m_before, snapshot(*target->logit_map)));
    QVERIFY(!identical(encoder_before, snapshot(*target->encoder)));
    for (const auto& p : target->logit_map->parameters()) QVERIFY(!p.requires_grad());
    int64_t optimized = 0;
    for (const auto& group : adapter.target_optimizer().param_groups()) optimized += group.params().size();
    QCOMPARE(optimized, static_cast<int64_t>(target->parameters().size() - target->logit_map->parameters().size()));
  }

  // Beyond the paper: stage2.information_maximization adds w·Lim to the target network's loss (logged
  // as "Lim"); at 0 (the default) there is no such term.
  void informationMaximizationTermJoinsTheTargetLoss() {
    torch::manual_seed(3);
    models::FanNetOptions o;
    models::FanNet source(o), target(o);
    models::copy_state(*source, *target);
    train::TargetAdapterOptions a;
    a.information_maximization = 0.5;
    train::TargetAdapter adapter(source, target, models::Discriminator(10, 64, false), a);
    adapter.precompute_source_logits(torch::rand({40, 1, 28, 28}));
    const auto losses = adapter.step(torch::randint(40, {16}, torch::kLong), torch::rand({16, 1, 28, 28}));
    QVERIFY(losses.count("Lim"));
    QVERIFY(losses.at("Lim") <= 1e-6 && losses.at("Lim") >= -std::log(10.0) - 1e-6);
    QVERIFY(std::abs(losses.at("total") - (losses.at("L_advM") + losses.at("Lr") + 0.5 * losses.at("Lim"))) < 1e-5);
    models::FanNet source2(o), target2(o);
    train::TargetAdapter plain(source2, target2, models::Discriminator(10, 64, false), {});
    plain.precompute_source_logits(torch::rand({40, 1, 28, 28}));
    QVERIFY(!plain.step(torch::randint(40, {16}, torch::kLong), torch::rand({16, 1, 28, 28})).count("Lim"));
  }

  void sourceLogitsComputedOnce() {
    models::FanNetOptions o;
    models::FanNet source(o), target(o);
    train::TargetAdapter adapter(source, target, models::Discriminator(10, 500, false), {});
    const auto images = torch::rand({30, 1, 28, 28});
    adapter.precompute_source_logits(images);
    QCOMPARE(adapter.source_logits().sizes().vec(), (std::vector<int64_t>{30, 10}));
    source->eval();
    torch::NoGradGuard no_grad;
    QVERIFY(torch::allclose(adapter.source_logits(), source->classify(images), 1e-5, 1e-6));
  }

  void discriminatorSeparatesShiftedClouds_data() {
    QTest::addColumn<bool>("batch_norm");
    QTest::newRow("with BN") << true;
    QTest::newRow("without BN") << false;
  }
  void discriminatorSeparatesShiftedClouds() {
    QFETCH(bool, batch_norm);
    torch::manual_seed(5);
    models::Discriminator d(10, 64, batch_norm);
    torch::optim::Adam opt(d->parameters(), torch::optim::AdamOptions(1e-3));
    for (int i = 0; i < 150; ++i) {
      const auto s = torch::randn({64, 10}) + 1.0;
      const auto t = torch::randn({64, 10}) - 1.0;
      const auto scores = d->forward(torch::cat({s, t}));  // one joint batch
      const auto loss = train::discriminator_loss(scores.narrow(0, 0, 64), scores.narrow(0, 64, 64));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
    d->eval();
    torch::NoGradGuard no_grad;
    const auto s = d->forward(torch::randn({500, 10}) + 1.0);
    const auto t = d->forward(torch::randn({500, 10}) - 1.0);
    const double accuracy = (torch::cat({s > 0, t <= 0}).to(torch::kFloat).mean()).item<double>();
    QVERIFY2(accuracy > 0.95, qPrintable(QString::number(accuracy)));
  }

  void configErrorsNameTheKey_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown") << "stage1.epocs" << "3" << "stage1.epocs";
    QTest::newRow("type") << "stage1.epochs" << "\"many\"" << "stage1.epochs";
    QTest::newRow("range") << "stage1.lr" << "-1" << "stage1.lr";
    QTest::newRow("choice") << "model.variant" << "\"fancy\"" << "full, concatenation";
    QTest::newRow("bool") << "model.discriminator_batch_norm" << "1" << "true or false";
    QTest::newRow("device") << "device" << "\"gpu\"" << "cuda:N";
    QTest::newRow("channels") << "data.channels" << "2" << "data.channels";
    QTest::newRow("non-integer") << "stage2.iterations" << "2.5" << "an integer";
  }
  void configErrorsNameTheKey() {
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    json config = json::object();
    io::set_path(config, key.toStdString(), json::parse(value.toStdString()));
    try {
      io::validate_config(config, "p.json");
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains(expected), e.what());
      QVERIFY2(QString(e.what()).startsWith("p.json"), e.what());
    }
  }

  void configDefaultsAndOverrides() {
    json config = {{"stage1", {{"epochs", 7}}}};
    io::apply_override(config, "stage2.lr=0.001");
    io::apply_override(config, "model.variant=adda");
    io::apply_override(config, "model.discriminator_batch_norm=false");
    const auto c = io::ExperimentConfig::from_json(config);
    QCOMPARE(c.stage1_epochs, int64_t(7));
    QCOMPARE(c.stage2_lr, 0.001);
    QVERIFY(c.variant == models::Variant::kAdda);
    QVERIFY(!c.discriminator_batch_norm);
    QCOMPARE(c.alpha, 2.0);  // FAN-SPEC defaults
    QCOMPARE(c.mu, 2.0);
    QCOMPARE(c.stage1_batch_size, int64_t(128));
    QVERIFY_THROWS_EXCEPTION(Error, io::apply_override(config, "nokey=1"));
    QVERIFY_THROWS_EXCEPTION(Error, io::apply_override(config, "noequals"));
  }

  void shippedProjectsValidate() {
    const auto dir = std::filesystem::path(qgetenv("FAN_TEST_SOURCE_DIR").toStdString()) / "projects";
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".json") continue;
      io::ExperimentConfig::load(entry.path());
      ++count;
    }
    QVERIFY(count >= 8);
  }

  // The curves drawn live (fed the events as they come) equal those rebuilt from the run directory.
  void liveCurvesEqualReopened() {
    struct Collector : train::EventSink {
      analysis::CurveBuilder curves;
      void on_stage(const train::StageEvent& e) override { curves.add(e); }
      void on_step(const train::StepEvent& e) override { curves.add(e); }
      void on_evaluation(const train::EvaluationEvent& e) override { curves.add(e); }
      void on_validators(const train::ValidatorEvent& e) override { curves.add(e); }
    } live;
    test::ScratchDir runs;
    train::Experiment(io::ExperimentConfig::from_json(tiny_config(data_.path())), runs / "run").run(&live);
    const auto reopened = analysis::curves_from_metrics(io::RunDirectory(runs / "run").read_metrics());
    QCOMPARE(reopened.records(), live.curves.records());
    for (int figure = 0; figure < 3; ++figure) {
      const auto& a = figure < 2 ? live.curves.stage(figure + 1) : live.curves.accuracy();
      const auto& b = figure < 2 ? reopened.stage(figure + 1) : reopened.accuracy();
      QCOMPARE(a.title, b.title);
      QCOMPARE(a.series.size(), b.series.size());
      for (size_t i = 0; i < a.series.size(); ++i) {
        const auto &x = a.series[i], &y = b.series[i];
        QCOMPARE(x.name, y.name);
        QVERIFY(x.color == y.color && x.dashed == y.dashed && x.markers == y.markers && x.right_axis == y.right_axis);
        QCOMPARE(x.x, y.x);
        QCOMPARE(x.y, y.y);  // bit-exact: metrics.jsonl keeps doubles round-trip exact
      }
    }
    // Stage 2 has its losses, the discriminator's accuracy (right axis) and the test accuracy (dashed, markers).
    QStringList names;
    for (const auto& series : live.curves.stage(2).series) names << QString::fromStdString(series.name);
    for (const char* name : {"L_advD", "L_advM", "discriminator accuracy", "target test accuracy"})
      QVERIFY2(names.contains(name), qPrintable(names.join(", ")));
  }

  // eval.images: the curves' evaluations use a fixed subset; the reported numbers the whole test set.
  void curveEvaluationsUseASubset() {
    test::ScratchDir runs;
    auto config = tiny_config(data_.path());
    config["eval"]["images"] = 40;
    const auto r = io::to_json(train::Experiment(io::ExperimentConfig::from_json(config), runs / "subset").run());
    const auto whole = io::to_json(train::Experiment(io::ExperimentConfig::from_json(tiny_config(data_.path())),
                                                     runs / "whole").run());
    QCOMPARE(r["eval_images"].get<int>(), 40);
    // Evaluation does not touch training: the numbers equal those of the default run.
    QCOMPARE(r["adapted"]["top1"].get<double>(), whole["adapted"]["top1"].get<double>());
    QCOMPARE(r["source_only"]["top1"].get<double>(), whole["source_only"]["top1"].get<double>());
    std::map<std::pair<int, int64_t>, int64_t> images;  // (stage, step) → images of the target or source test set
    for (const auto& m : io::RunDirectory(runs / "subset").read_metrics())
      if (const auto* e = std::get_if<events::EvaluationEvent>(&m)) images[{e->stage, e->step}] = e->images;
    QCOMPARE(images.at({2, 8}), int64_t(40));    // during adaptation: the subset
    QCOMPARE(images.at({2, 24}), int64_t(100));  // the last: the whole target test set
    QCOMPARE(images.at({1, 10}), int64_t(40));   // stage 1, epoch 1 of 3: the source test subset
  }

  // The sampled protocol leaves source images unused: 1,000 of them (here all 120) are held out for
  // DEV without changing what the protocol draws, so training is the same as without them.
  void heldOutSourceImagesFeedDev() {
    test::ScratchDir runs;
    auto config = tiny_config(data_.path());
    config["source"]["protocol"] = "sampled";
    config["source"]["samples"] = 200;
    const auto with = io::to_json(train::Experiment(io::ExperimentConfig::from_json(config), runs / "with").run());
    config["source"]["validation"] = 0;
    const auto without = io::to_json(train::Experiment(io::ExperimentConfig::from_json(config), runs / "without").run());
    QCOMPARE(with["adapted"]["top1"].get<double>(), without["adapted"]["top1"].get<double>());
    QCOMPARE(with["source_only"]["top1"].get<double>(), without["source_only"]["top1"].get<double>());
    int dev_records = 0;
    for (const auto& m : io::RunDirectory(runs / "with").read_metrics())
      if (const auto* v = std::get_if<events::ValidatorEvent>(&m)) {
        QVERIFY(v->values.count("dev") && v->values.count("devn") && v->values.count("source_accuracy"));
        QVERIFY(std::isfinite(v->values.at("dev")));
        ++dev_records;
      }
    QCOMPARE(dev_records, 5);
    QVERIFY(with["picks"].contains("dev"));
    QVERIFY(!without["picks"].contains("dev"));
    // Too few validator images is an error naming the field, before any training.
    auto few = tiny_config(data_.path());
    few["eval"]["validator_images"] = 3;
    QVERIFY(test::error_of([&] { train::Experiment(io::ExperimentConfig::from_json(few), runs / "few").run(); })
                .contains("eval.validator_images"));
    // The full protocol leaves nothing to hold out.
    auto full = tiny_config(data_.path());
    full["source"]["validation"] = 50;
    QVERIFY(test::error_of([&] { io::ExperimentConfig::from_json(full); }).contains("source.validation"));
  }

  // The rank study over two seeds of one task: every validator scored on all their evaluation points.
  void validatorsRankStudy() {
    test::ScratchDir runs;
    for (int seed : {3, 4}) {
      auto config = tiny_config(data_.path());
      config["seed"] = seed;
      train::Experiment(io::ExperimentConfig::from_json(config), runs / ("seed" + std::to_string(seed))).run();
    }
    test::write_file(runs / "not-a-run" / "notes.txt", "x");
    std::vector<std::string> skipped;
    const auto study = analysis::rank_validators({runs.path()}, &skipped);
    QCOMPARE(study.size(), size_t(1));
    QCOMPARE(QString::fromStdString(study[0].task), QString("mnist→usps full, full"));
    QCOMPARE(study[0].runs.size(), size_t(2));
    QCOMPARE(study[0].scores.size(), size_t(6));  // five validators and the discriminator's accuracy
    for (const auto& s : study[0].scores) {
      QCOMPARE(s.points, int64_t(6));  // 2 runs × 3 stage-2 evaluations
      QCOMPARE(s.runs, s.validator.rfind("d_accuracy", 0) == 0 ? int64_t(0) : int64_t(2));  // D picks nothing
      QVERIFY2(s.pick_minus_oracle <= 1e-12 || std::isnan(s.pick_minus_oracle), s.validator.c_str());
      QVERIFY(std::isnan(s.spearman) || std::abs(s.spearman) <= 1);
    }
    QCOMPARE(skipped.size(), size_t(1));  // not-a-run
    QVERIFY(analysis::rank_study_markdown(study).find("| snd |") != std::string::npos);
  }

  void tinyRunBeatsChance() {
    test::ScratchDir runs;
    train::Experiment experiment(io::ExperimentConfig::from_json(tiny_config(data_.path())), runs / "run");
    const auto r = io::to_json(experiment.run());
    QCOMPARE(r["status"].get<std::string>(), std::string("finished"));
    const double adapted = r["adapted"]["top1"];
    const double source_only = r["source_only"]["top1"];
    QVERIFY2(adapted > 0.4, qPrintable(QString::number(adapted)));  // chance is 0.1
    QVERIFY(source_only >= 0 && source_only <= 1);
    QCOMPARE(r["adapted"]["confusion"].size(), size_t(10));
    // A complete run directory.
    for (const char* f : {"config.json", "metrics.jsonl", "checkpoint.pt", "results.json"})
      QVERIFY2(std::filesystem::exists(runs / "run" / f), f);
    const auto metrics = io::RunDirectory(runs / "run").read_metrics();
    int stage1 = 0, stage2 = 0;
    for (const auto& m : metrics)
      if (const auto* step = std::get_if<events::StepEvent>(&m)) (step->stage == 1 ? stage1 : stage2)++;
    QCOMPARE(stage1, 3 * (320 / 32));
    QCOMPARE(stage2, 24);
    // The validators: the stage-1 network plain and with target statistics, then every stage-2 evaluation.
    std::vector<std::pair<std::string, int64_t>> validated;
    for (const auto& m : metrics)
      if (const auto* v = std::get_if<events::ValidatorEvent>(&m)) {
        validated.emplace_back(v->network, v->step);
        QCOMPARE(v->images, int64_t(320));  // eval.validator_images (1,000) capped by the 320 target images
        QCOMPARE(v->values.size(), size_t(5));
        QVERIFY(v->values.at("class_ami") <= 1.0 && v->values.at("entropy") >= 0);
      }
    QCOMPARE(validated, (std::vector<std::pair<std::string, int64_t>>{
                            {"source", 30}, {"adabn", 30}, {"target", 8}, {"target", 16}, {"target", 24}}));
    // Checkpoint selection: every validator and the oracle picked one of the evaluation points,
    // whose network was kept and evaluated on the whole target test set.
    QCOMPARE(r["picks"].size(), size_t(6));
    QCOMPARE(r["selected"].get<std::string>(), std::string("last"));
    for (const auto& [name, pick] : r["picks"].items()) {
      const auto step = pick["step"].get<int64_t>();
      QVERIFY2(step == 8 || step == 16 || step == 24, name.c_str());
      QVERIFY(pick["top1"].get<double>() >= 0 && pick["top1"].get<double>() <= 1);
      QVERIFY2(std::filesystem::exists(io::RunDirectory(runs / "run").pick_path(name)), name.c_str());
    }
    QVERIFY(r["picks"]["oracle"].contains("note"));
    // Finished runs are not overwritten.
    QVERIFY_THROWS_EXCEPTION(Error, train::Experiment(io::ExperimentConfig::from_json(tiny_config(data_.path())),
                                                      runs / "run"));
  }

  void heldOutTargetValidation() {
    // 50 labelled target training images set aside before the protocol: disjoint from
    // the adaptation set, the same for the same seed, reported apart from the test set.
    data::DomainSpec spec;
    spec.dataset = "usps";
    spec.validation = 50;
    data::Preprocess p;
    const auto held = data::load_domain(spec, p, data_.path(), 5);
    spec.validation = 0;
    const auto all = data::load_domain(spec, p, data_.path(), 5);
    QCOMPARE(held.validation.size(), int64_t(50));
    QCOMPARE(held.train.size() + 50, all.train.size());
    const auto distances = torch::cdist(held.validation.images.flatten(1), held.train.images.flatten(1));
    QVERIFY(distances.min().item<double>() > 0);  // no validation image is adapted on
    spec.validation = 50;
    QVERIFY(torch::equal(held.validation.images, data::load_domain(spec, p, data_.path(), 5).validation.images));
    spec.validation = 100000;
    QVERIFY(test::error_of([&] { data::load_domain(spec, p, data_.path(), 5); }).contains("validation"));

    test::ScratchDir runs;
    auto config = tiny_config(data_.path());
    config["target"]["validation"] = 50;
    train::Experiment experiment(io::ExperimentConfig::from_json(config), runs / "run");
    const auto r = io::to_json(experiment.run());
    QCOMPARE(r["target_validation"]["images"].get<int>(), 50);
    const double v = r["target_validation"]["adapted"];
    QVERIFY(v >= 0 && v <= 1);
    int validation_events = 0;
    for (const auto& m : io::RunDirectory(runs / "run").read_metrics())
      if (const auto* e = std::get_if<events::EvaluationEvent>(&m); e && e->split == "target_validation") ++validation_events;
    QCOMPARE(validation_events, 1 + 24 / 8);  // source only, then every 8 adaptation steps
  }

  void resumeContinuesTheSameStream_data() {
    QTest::addColumn<int>("stage");
    QTest::addColumn<int>("step");
    QTest::newRow("stage 1") << 1 << 13;
    QTest::newRow("stage 2") << 2 << 11;
  }
  void resumeContinuesTheSameStream() {
    QFETCH(int, stage);
    QFETCH(int, step);
    test::ScratchDir runs;
    const auto config = io::ExperimentConfig::from_json(tiny_config(data_.path()));
    const auto whole = io::to_json(train::Experiment(config, runs / "whole").run());

    train::StopToken token;
    StopAt stopper(token, stage, step);
    const auto partial = io::to_json(train::Experiment(config, runs / "parts").run(&stopper, &token));
    QCOMPARE(partial["status"].get<std::string>(), std::string("stopped"));
    QVERIFY(!std::filesystem::exists(runs / "parts" / "results.json"));
    const auto resumed = io::to_json(train::Experiment::resume(runs / "parts")->run());
    QCOMPARE(resumed["status"].get<std::string>(), std::string("finished"));

    QCOMPARE(resumed["adapted"]["top1"].get<double>(), whole["adapted"]["top1"].get<double>());
    QCOMPARE(resumed["picks"], whole["picks"]);  // the same picks, the same networks behind them
    const auto a = comparable_metrics(runs / "whole");
    const auto b = comparable_metrics(runs / "parts");
    QCOMPARE(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) QVERIFY2(a[i] == b[i], (a[i].dump() + " vs " + b[i].dump()).c_str());
  }

  // stage1.from: a run adapts another run's stage-1 network. With stage 2's own draw it repeats that run's
  // stage 2 exactly (and carries its stage-1 records and numbers); stage2.draw = 1 is another adaptation of
  // the same network; a run whose stage 1 would differ, or that has not finished stage 1, is refused before
  // any directory is made.
  void stageTwoAgainFromAnotherRunsStageOne() {
    test::ScratchDir runs;
    const auto base = tiny_config(data_.path());
    const auto whole = io::to_json(train::Experiment(io::ExperimentConfig::from_json(base), runs / "whole").run());

    auto again = base;
    again["stage1"]["from"] = (runs / "whole").string();
    again["eval"]["every"] = 12;  // evaluation fields may differ: stage 1 never reads them
    const auto repeated = io::to_json(train::Experiment(io::ExperimentConfig::from_json(again), runs / "again").run());
    QCOMPARE(repeated["source_only"], whole["source_only"]);
    QCOMPARE(repeated["source_only_adabn"], whole["source_only_adabn"]);
    QCOMPARE(repeated["adapted"]["top1"].get<double>(), whole["adapted"]["top1"].get<double>());
    const auto a = comparable_metrics(runs / "whole");
    const auto b = comparable_metrics(runs / "again");
    std::vector<json> steps_a, steps_b, stage1_a, stage1_b;
    for (const auto& [from, steps, stage1] : {std::tuple{&a, &steps_a, &stage1_a}, std::tuple{&b, &steps_b, &stage1_b}})
      for (const auto& r : *from) {
        if (r["stage"] == 1) stage1->push_back(r);
        else if (r["type"] == "step") steps->push_back(r);
      }
    QVERIFY(!stage1_a.empty());
    QCOMPARE(stage1_b, stage1_a);  // its stage-1 curves, as they were
    QCOMPARE(steps_b, steps_a);    // the same stage 2, step by step

    auto other_draw = again;
    other_draw["stage2"]["draw"] = 1;
    const auto drawn = io::to_json(train::Experiment(io::ExperimentConfig::from_json(other_draw), runs / "draw1").run());
    QCOMPARE(drawn["source_only"], whole["source_only"]);
    std::vector<json> steps_c;
    for (const auto& r : comparable_metrics(runs / "draw1"))
      if (r["stage"] == 2 && r["type"] == "step") steps_c.push_back(r);
    QCOMPARE(steps_c.size(), steps_a.size());
    QVERIFY(steps_c.front()["losses"] != steps_a.front()["losses"]);  // another D, other batches from step 1

    // A chain: the draw-1 run's checkpoint still holds the same stage-1 network.
    auto chained = again;
    chained["stage1"]["from"] = (runs / "draw1").string();
    const auto chain = io::to_json(train::Experiment(io::ExperimentConfig::from_json(chained), runs / "chain").run());
    QCOMPARE(chain["adapted"]["top1"].get<double>(), whole["adapted"]["top1"].get<double>());

    auto other_stage1 = again;
    other_stage1["stage1"]["lr"] = 0.0005;
    auto error = test::error_of([&] { train::Experiment refused(io::ExperimentConfig::from_json(other_stage1), runs / "refused"); });
    QVERIFY2(error.contains("stage1.from") && error.contains("stage1.lr"), qPrintable(error));
    QVERIFY(!std::filesystem::exists(runs / "refused"));
    auto other_seed = again;
    other_seed["seed"] = 7;
    QVERIFY(test::error_of([&] { train::Experiment refused(io::ExperimentConfig::from_json(other_seed), runs / "refused"); })
                .contains("another seed"));
    auto missing = again;
    missing["stage1"]["from"] = (runs / "nowhere").string();
    QVERIFY(test::error_of([&] { train::Experiment refused(io::ExperimentConfig::from_json(missing), runs / "refused"); })
                .contains("no such run directory"));
    // A run stopped in stage 1 has no stage-1 network to give.
    train::StopToken token;
    StopAt stopper(token, 1, 13);
    train::Experiment(io::ExperimentConfig::from_json(base), runs / "early").run(&stopper, &token);
    auto early = again;
    early["stage1"]["from"] = (runs / "early").string();
    QVERIFY(test::error_of([&] { train::Experiment refused(io::ExperimentConfig::from_json(early), runs / "refused"); })
                .contains("has not finished"));
    QVERIFY(!std::filesystem::exists(runs / "refused"));
  }

  // stage1.draw: another source network from the same seed (other initial weights and source batches), on
  // the same images: the same protocol sample and held-out target images, so its run can join draw 0's in
  // an ensemble; a run adapting its stage-1 network must name the same draw.
  void stageOneDrawTrainsAnotherSourceNetworkOnTheSameImages() {
    test::ScratchDir runs;
    auto base = tiny_config(data_.path());
    base["target"]["validation"] = 20;
    train::Experiment(io::ExperimentConfig::from_json(base), runs / "draw0").run();
    auto other = base;
    other["stage1"]["draw"] = 1;
    train::Experiment(io::ExperimentConfig::from_json(other), runs / "draw1").run();
    std::vector<json> first_steps;
    for (const auto* dir : {"draw0", "draw1"})
      for (const auto& r : comparable_metrics(runs / dir))
        if (r["stage"] == 1 && r["type"] == "step") {
          first_steps.push_back(r);
          break;
        }
    QCOMPARE(first_steps.size(), size_t{2});
    QVERIFY(first_steps[0]["losses"] != first_steps[1]["losses"]);  // another network from step 1
    const auto a = analysis::load_run(runs / "draw0"), b = analysis::load_run(runs / "draw1");
    QVERIFY(!torch::equal(a.source->parameters().front(), b.source->parameters().front()));
    QCOMPARE(b.target_validation.size(), int64_t{20});
    QVERIFY(torch::equal(a.target_validation.images, b.target_validation.images));
    QCOMPARE(analysis::evaluate_ensemble({runs / "draw0", runs / "draw1"}).validation_images, int64_t{20});
    auto adopt = base;  // stage1.draw 0 (the default) cannot take draw 1's network
    adopt["stage1"]["from"] = (runs / "draw1").string();
    const auto error =
        test::error_of([&] { train::Experiment refused(io::ExperimentConfig::from_json(adopt), runs / "refused"); });
    QVERIFY2(error.contains("stage1.draw"), qPrintable(error));
  }

  // stage2.source_prior = target_estimate: the AdaBN estimate of the target's class
  // proportions is reported, and the re-weighted source draws survive a resume.
  void targetPriorSourceSampling() {
    test::ScratchDir runs;
    auto json_config = tiny_config(data_.path());
    json_config["stage2"]["source_prior"] = "target_estimate";
    const auto config = io::ExperimentConfig::from_json(json_config);
    const auto whole = io::to_json(train::Experiment(config, runs / "whole").run());
    const auto prior = whole["target_prior_estimate"].get<std::vector<double>>();
    QCOMPARE(prior.size(), size_t(10));
    double sum = 0;
    for (double v : prior) {
      QVERIFY(v >= 0 && v <= 1);
      sum += v;
    }
    QVERIFY(std::abs(sum - 1.0) < 1e-9);
    train::StopToken token;
    StopAt stopper(token, 2, 11);
    train::Experiment(config, runs / "parts").run(&stopper, &token);
    const auto resumed = io::to_json(train::Experiment::resume(runs / "parts")->run());
    QCOMPARE(resumed["adapted"]["top1"].get<double>(), whole["adapted"]["top1"].get<double>());
    QCOMPARE(comparable_metrics(runs / "whole"), comparable_metrics(runs / "parts"));
    // The default draws the source's own mix and reports no estimate.
    const auto plain = io::to_json(train::Experiment(io::ExperimentConfig::from_json(tiny_config(data_.path())), runs / "plain").run());
    QVERIFY(!plain.contains("target_prior_estimate"));
    auto select = tiny_config(data_.path());
    select["stage2"]["select"] = "accuracy";
    QVERIFY(test::error_of([&] { io::ExperimentConfig::from_json(select); }).contains("stage2.select"));
    select["stage2"]["select"] = "snd";
    select["eval"]["validator_images"] = 0;
    QVERIFY(test::error_of([&] { io::ExperimentConfig::from_json(select); }).contains("needs the validators"));
    json_config["stage2"]["source_prior"] = "uniform";
    QVERIFY(test::error_of([&] { io::ExperimentConfig::from_json(json_config); }).contains("stage2.source_prior"));
  }

  void nonFiniteLossStopsWithAnErrorEvent() {
    struct Errors : train::EventSink {
      std::vector<std::string> seen;
      void on_error(const std::string& m) override { seen.push_back(m); }
    } sink;
    train::check_finite({{"Lc", 0.5}, {"Lr", 0.1}}, 1, 7, "run/checkpoint.pt", "hint", sink);
    QVERIFY(sink.seen.empty());
    for (double bad : {std::nan(""), double(INFINITY), -double(INFINITY)}) {
      const auto message = test::error_of(
          [&] { train::check_finite({{"Lc", 0.5}, {"Lr", bad}}, 2, 42, "run/checkpoint.pt", "try lower rates", sink); });
      QVERIFY2(message.contains("stage 2, step 42") && message.contains("run/checkpoint.pt") &&
                   message.contains("try lower rates"),
               qPrintable(message));
    }
    QCOMPARE(sink.seen.size(), size_t(3));
  }

  void everyFieldRejectsBadValues() {
    // Every field: a value of the wrong type, and (where there is a range or a
    // set of choices) one outside it, each named in the message.
    for (const auto& field : io::config_schema()) {
      const json wrong_type = field.type == io::FieldType::kString ? json(17) : json("seventeen");
      json config = json::object();
      io::set_path(config, field.key, wrong_type);
      QVERIFY2(test::error_of([&] { io::validate_config(config, "p.json"); }).contains(QString::fromStdString(field.key)),
               field.key.c_str());
      json out_of_range;
      if (field.has_range) out_of_range = field.max + 1;
      else if (!field.choices.empty()) out_of_range = field.type == io::FieldType::kString ? json("no-such-choice") : json(99);
      else continue;
      config = json::object();
      io::set_path(config, field.key, out_of_range);
      const auto message = test::error_of([&] { io::validate_config(config, "p.json"); });
      QVERIFY2(message.contains(QString::fromStdString(field.key)), (field.key + ": " + message.toStdString()).c_str());
    }
  }

  void fullDiskKeepsTheLastCheckpoint() {
    // checkpoint.pt.tmp pointing at /dev/full: every checkpoint write fails with ENOSPC.
    test::ScratchDir runs;
    const auto dir = runs / "run";
    auto config = tiny_config(data_.path());
    train::Experiment experiment(io::ExperimentConfig::from_json(config), dir);
    std::filesystem::create_symlink("/dev/full", dir / "checkpoint.pt.tmp");
    const auto message = test::error_of([&] { experiment.run(); });
    QVERIFY2(message.contains("cannot write the checkpoint"), qPrintable(message));
    QVERIFY(!std::filesystem::exists(dir / "checkpoint.pt"));  // nothing half-written
    QVERIFY(!std::filesystem::exists(dir / "results.json"));
  }

  void unwritableRunDirectoryFailsBeforeTraining() {
    test::ScratchDir runs;
    test::write_file(runs / "a-file", "x");
    const auto message = test::error_of([&] {
      train::Experiment(io::ExperimentConfig::from_json(tiny_config(data_.path())), runs / "a-file" / "run");
    });
    QVERIFY2(message.contains("a-file"), qPrintable(message));
  }

  void missingDataIsAClearError() {
    test::ScratchDir runs;
    auto config = tiny_config(runs.path() / "no-data-here");
    train::Experiment experiment(io::ExperimentConfig::from_json(config), runs / "run");
    try {
      experiment.run();
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("no-data-here"), e.what());
    }
  }
};

QTEST_APPLESS_MAIN(TestTraining)
#include "tst_training.moc"
