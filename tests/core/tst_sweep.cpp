// Sweeps: expansion and names, spec errors, statistics, diffs, summaries of run directories, and the
// runner (real `fan` processes on tiny synthetic data): skip, resume, a failing run, the Slurm script,
// and the CPU code paths a run records.
#include "core/io/config_schema.h"
#include "core/io/run_dir.h"
#include "core/sweep/runner.h"
#include "core/sweep/sweep.h"
#include "core/util/blas_kernels.h"
#include "core/util/error.h"
#include "core/synthetic.h"
#include "core/test_util.h"

#include <QtTest>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

using namespace fan;
using nlohmann::json;

namespace {

// test::tiny_project, shorter: 2 stage-1 epochs, 12 stage-2 steps, evaluations every 6.
json tiny_project(const std::filesystem::path& root) {
  auto p = test::tiny_project(root);
  p["stage1"]["epochs"] = 2;
  p["stage2"]["iterations"] = 12;
  p["eval"]["every"] = 6;
  p["run"] = {{"log_every", 1}, {"checkpoint_every", 4}, {"preview_every", 10}};
  return p;
}

std::vector<std::string> names(const std::vector<sweep::PlannedRun>& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs) out.push_back(r.name);
  return out;
}

// A finished run directory with a given adapted top-1 (the rest of its results fixed).
void fake_run(const std::filesystem::path& dir, const json& config, double adapted, double source_only) {
  io::RunDirectory rd(dir);
  rd.create(config);
  io::Results r;
  r.name = config.value("name", std::string());
  r.seed = config.value("seed", int64_t{0});
  r.source_only = io::Accuracy{source_only, 0.9, {}, {}};
  r.adapted = io::Accuracy{adapted, 0.99, {}, {}};
  r.picks["snd"] = io::PickResult{500, 1.0, adapted + 0.01, 0.99};
  rd.write_results(r);
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::filesystem::path fan_binary() {
  const char* bin = std::getenv("FAN_BIN");
  return bin == nullptr ? std::filesystem::path() : std::filesystem::path(bin);
}

}  // namespace

class TestSweep : public QObject {
  Q_OBJECT

 private slots:
  void expansionNamesAreStableAndReadable() {
    const auto spec = sweep::spec_from_json(
        {{"name", "grid"},
         {"base", tiny_project("/data")},
         {"axes", json::array({{{"key", "model.variant"}, {"values", {"full", "adda"}}},
                               {{"key", "stage2.lr"}, {"values", {0.001, 0.002}}}})},
         {"seeds", {0, 1}}},
        "grid.json");
    const auto runs = sweep::expand(spec);
    const std::vector<std::string> expected{
        "variant=full-lr=0.001-seed0", "variant=full-lr=0.001-seed1", "variant=full-lr=0.002-seed0",
        "variant=full-lr=0.002-seed1", "variant=adda-lr=0.001-seed0", "variant=adda-lr=0.001-seed1",
        "variant=adda-lr=0.002-seed0", "variant=adda-lr=0.002-seed1"};
    QCOMPARE(names(runs), expected);
    QCOMPARE(runs[5].group, std::string("variant=adda-lr=0.001"));
    QCOMPARE(runs[5].seed, int64_t{1});
    QCOMPARE(runs[5].config["model"]["variant"].get<std::string>(), std::string("adda"));
    QCOMPARE(runs[5].config["stage2"]["lr"].get<double>(), 0.001);
    QCOMPARE(runs[5].config["seed"].get<int64_t>(), int64_t{1});
    QCOMPARE(runs[5].index, 5);
    // The configs are complete (defaults filled in) and the plan reads back the same.
    QVERIFY(runs[0].config["stage2"].contains("beta1"));
    const auto back = sweep::plan_from_json(sweep::plan_to_json(spec, runs), "sweep.json");
    QCOMPARE(names(back), expected);
    for (size_t i = 0; i < runs.size(); ++i) {
      QCOMPARE(back[i].config, runs[i].config);
      QCOMPARE(back[i].settings, runs[i].settings);
      QCOMPARE(back[i].group, runs[i].group);
    }
    // Two axes with the same last key part are named by their whole key.
    const auto both = sweep::expand(sweep::spec_from_json(
        {{"base", tiny_project("/data")}, {"axes", {{"stage1.lr", {0.001}}, {"stage2.lr", {0.002}}}}}, "lr.json"));
    QCOMPARE(names(both), std::vector<std::string>{"stage1.lr=0.001-stage2.lr=0.002"});
  }

  void casesCarryTheirProjectSettingsAndLabels() {
    test::ScratchDir dir("fan-sweep-cases");
    auto other = tiny_project("/data");
    other["name"] = "other";
    other["target"]["dataset"] = "mnist";
    other["source"]["dataset"] = "usps";
    std::ofstream(dir / "other.json") << other.dump();
    const json spec_json = {{"name", "table"},
                            {"base", tiny_project("/data")},
                            {"set", {{"stage2.iterations", 7}}},
                            {"seeds", {0, 1}},
                            {"cases", json::array({{{"name", "m2u-fan"}, {"labels", {{"pair", "M→U"}, {"method", "FAN"}}}},
                                                   {{"name", "u2m-adda"},
                                                    {"project", "other.json"},
                                                    {"set", {{"model.variant", "adda"}}},
                                                    {"labels", {{"pair", "U→M"}, {"method", "ADDA"}}}}})}};
    std::ofstream(dir / "table.json") << spec_json.dump();
    const auto runs = sweep::expand(sweep::load_spec(dir / "table.json"));
    QCOMPARE(names(runs), (std::vector<std::string>{"m2u-fan-seed0", "m2u-fan-seed1", "u2m-adda-seed0", "u2m-adda-seed1"}));
    QCOMPARE(runs[2].config["name"].get<std::string>(), std::string("other"));  // the case's own project
    QCOMPARE(runs[2].config["model"]["variant"].get<std::string>(), std::string("adda"));
    QCOMPARE(runs[2].config["stage2"]["iterations"].get<int64_t>(), int64_t{7});  // the sweep's "set" too
    QCOMPARE(runs[0].config["stage2"]["iterations"].get<int64_t>(), int64_t{7});
    QCOMPARE(runs[3].labels.size(), size_t{2});
    const auto back = sweep::plan_from_json(sweep::plan_to_json(sweep::load_spec(dir / "table.json"), runs), "sweep.json");
    QCOMPARE(back[3].labels, runs[3].labels);
    QCOMPARE(back[3].case_name, std::string("u2m-adda"));
  }

  void specErrorsNameTheAxisAndTheKey() {
    const auto base = tiny_project("/data");
    auto error = [&](const json& j) {
      return test::error_of([&] { sweep::expand(sweep::spec_from_json(j, "bad.json")); });
    };
    auto e = error({{"base", base}, {"axes", {{"stage2.lrr", {1}}}}});
    QVERIFY2(e.startsWith("bad.json: axis stage2.lrr: unknown config key"), qPrintable(e));
    e = error({{"base", base}, {"axes", {{"stage2.lr", {0.001, -1}}}}});
    QVERIFY2(e.startsWith("bad.json: axis stage2.lr: value -1:"), qPrintable(e));
    e = error({{"base", base}, {"axes", {{"model.variant", {"fulll"}}}}});
    QVERIFY2(e.contains("axis model.variant: value \"fulll\""), qPrintable(e));
    e = error({{"base", base}, {"axis", {{"stage2.lr", {1}}}}});
    QVERIFY2(e.contains("unknown field \"axis\""), qPrintable(e));
    e = error({{"base", base}, {"seeds", {0, 0}}});
    QVERIFY2(e.contains("seeds: 0 listed twice"), qPrintable(e));
    e = error({{"base", base}, {"seeds", {"one"}}});
    QVERIFY2(e.contains("seeds: expected integers"), qPrintable(e));
    e = error({{"base", base}, {"axes", {{"seed", {1, 2}}}}});
    QVERIFY2(e.contains("axis seed: give seeds as"), qPrintable(e));
    e = error({{"base", base}, {"cases", json::array({{{"name", "a"}, {"set", {{"stage9.lr", 1}}}}})}});
    QVERIFY2(e.contains("cases[0] (a): set: unknown config key \"stage9.lr\""), qPrintable(e));
    e = error({{"base", base}, {"cases", json::array({{{"name", "a"}}, {{"name", "a"}}})}});
    QVERIFY2(e.contains("cases[1] (a): name listed twice"), qPrintable(e));
    e = error({{"base", base}, {"rank_by", "adapted"}});
    QVERIFY2(e.contains("rank_by: \"adapted\" is a target test accuracy"), qPrintable(e));
    e = error({{"project", "no/such/project.json"}});
    QVERIFY2(e.contains("project \"no/such/project.json\" not found"), qPrintable(e));
    // A cross-field rule (validate_config) names the run and its settings.
    e = error({{"base", base}, {"axes", {{"model.domain_specific_dim", {100}}}}});
    QVERIFY2(e.contains("bad.json: run domain_specific_dim=100 (model.domain_specific_dim=100): "
                        "model.domain_specific_dim: must be below"), qPrintable(e));
  }

  void statisticsAreExact() {
    const auto s = sweep::stats({0.90, 0.92, 0.94});
    QCOMPARE(s.n, 3);
    QVERIFY(std::abs(s.mean - 0.92) < 1e-12);
    QVERIFY(std::abs(s.std - 0.02) < 1e-12);  // sample std: sqrt((0.02² + 0 + 0.02²) / 2)
    QCOMPARE(s.min, 0.90);
    QCOMPARE(s.max, 0.94);
    QCOMPARE(sweep::format_stats(s), std::string("0.920 ± 0.020 (3)"));
    QCOMPARE(sweep::format_stats(sweep::stats({0.5})), std::string("0.500 ± 0.000 (1)"));
    QCOMPARE(sweep::format_stats(sweep::stats({})), std::string("–"));
  }

  void diffListsExactlyTheChangedFields() {
    auto a = io::validate_config(tiny_project("/data"));
    auto b = a;
    b["stage2"]["lr"] = 0.005;
    b["model"]["variant"] = "adda";
    b["seed"] = 9;
    const auto d = sweep::diff(a, b);
    QCOMPARE(d.size(), size_t{3});
    QCOMPARE(d[0].key, std::string("model.variant"));
    QCOMPARE(d[0].a.get<std::string>(), std::string("full"));
    QCOMPARE(d[0].b.get<std::string>(), std::string("adda"));
    QCOMPARE(d[1].key, std::string("seed"));
    QCOMPARE(d[2].key, std::string("stage2.lr"));
    QVERIFY(sweep::diff(a, a).empty());
  }

  void groupsAndSummaryOfRunDirectories() {
    test::ScratchDir dir("fan-sweep-summary");
    const auto spec = sweep::spec_from_json(
        {{"name", "fixture"},
         {"base", tiny_project("/data")},
         {"axes", {{"model.variant", {"full", "adda"}}}},
         {"seeds", {0, 1, 2}},
         {"table", {{"rows", "model.variant"}, {"columns", "seed"},
                    {"extra_rows", json::array({{{"title", "Source only"}, {"result", "source_only"}, {"from", "full"}}})}}}},
        "fixture.json");
    const auto runs = sweep::expand(spec);
    sweep::write_plan(dir.path(), spec, runs);
    // full: 0.90, 0.92, 0.94; adda: 0.80, 0.86 and one run not finished.
    const std::vector<double> adapted{0.90, 0.92, 0.94, 0.80, 0.86};
    for (size_t i = 0; i < adapted.size(); ++i) fake_run(dir / runs[i].name, runs[i].config, adapted[i], 0.7 + 0.01 * i);
    io::RunDirectory(dir / runs[5].name).create(runs[5].config);  // started, nothing else

    const auto summary = sweep::summarize(dir.path());
    QCOMPARE(summary.planned, 6);
    QCOMPARE(summary.finished, 5);
    const auto md = QString::fromStdString(summary.markdown);
    QVERIFY2(md.contains("| variant=full | 3/3 | 0.710 ± 0.010 (3) | 0.920 ± 0.020 (3) |"), qPrintable(md));
    QVERIFY2(md.contains("| variant=adda | 2/3 | 0.735 ± 0.007 (2) | 0.830 ± 0.042 (2) |"), qPrintable(md));
    QVERIFY2(md.contains("| Source only | 0.700 ± 0.000 (1) | 0.710 ± 0.000 (1) | 0.720 ± 0.000 (1) |"), qPrintable(md));
    QVERIFY2(md.contains("| adda | 0.800 ± 0.000 (1) | 0.860 ± 0.000 (1) | – (0 of 1 finished) |"), qPrintable(md));
    const auto csv = QString::fromStdString(summary.csv);
    QVERIFY2(csv.contains("variant=full,3,3,adapted,3,0.92,0.02,0.9,0.94\n"), qPrintable(csv));
    QVERIFY2(csv.contains("variant=full,3,3,pick:snd,3,0.93,"), qPrintable(csv));

    // The same directories grouped by their configs, without a plan (the runs table's grouping).
    std::vector<io::RunSummary> summaries;
    for (const auto& r : runs) summaries.push_back(io::RunDirectory(dir / r.name).summary());
    const auto groups = sweep::group_runs(summaries);
    QCOMPARE(groups.size(), size_t{2});
    QCOMPARE(groups[0].label, std::string("model.variant=full"));
    QCOMPARE(groups[1].label, std::string("model.variant=adda"));
    QCOMPARE(groups[0].members, (std::vector<size_t>{0, 1, 2}));
    QCOMPARE(groups[1].finished, 2);
    const auto s = sweep::group_stats(groups[1], summaries, "adapted");
    QCOMPARE(s.n, 2);
    QVERIFY(std::abs(s.mean - 0.83) < 1e-12);
    QVERIFY(std::abs(s.std - std::sqrt(2 * 0.03 * 0.03)) < 1e-12);

    // A plan on disk refuses a spec that now expands differently.
    auto changed = spec;
    changed.axes[0].values = {"full", "joint"};
    const auto e = test::error_of([&] { sweep::write_plan(dir.path(), changed, sweep::expand(changed)); });
    QVERIFY2(e.contains("was \"variant=adda-seed0\", the spec now gives \"variant=joint-seed0\""), qPrintable(e));
  }

  // Each pair's label-free pick uses the validator that ranked best on the *other* pairs' curves
  // keep_best: of each seed's stage-2 draws (configs equal but for stage2.draw and stage1.from) the
  // summary keeps the one the validator scores best at the end of stage 2 (entropy: the lowest), only
  // once every draw of that seed has finished, and runs.csv says which run was kept.
  void keepBestKeepsEachSeedsDrawTheValidatorScoresBest() {
    test::ScratchDir dir("fan-sweep-keep-best");
    auto spec_json = json{{"name", "draws"},
                          {"base", tiny_project("/data")},
                          {"seeds", {0, 1}},
                          {"axes", {{"stage2.lr", {0.001, 0.002}}}},
                          {"cases", json::array({{{"name", "draw_0"}, {"labels", {{"method", "FAN"}, {"draw", "0"}}}},
                                                 {{"name", "draw_1"},
                                                  {"set", {{"stage1.from", "{sweep}/draw_0-lr=0.001-seed{seed}"}, {"stage2.draw", 1}}},
                                                  {"labels", {{"method", "FAN"}, {"draw", "1"}}}},
                                                 {{"name", "draw_2"},
                                                  {"set", {{"stage2.draw", 2}}},
                                                  {"labels", {{"method", "FAN"}, {"draw", "2"}}}}})},
                          {"keep_best", "bnm"}};
    auto write = [&](const std::string& keeper, const std::filesystem::path& sweep_dir) {
      spec_json["keep_best"] = keeper;
      const auto spec = sweep::spec_from_json(spec_json, "draws.json");
      const auto runs = sweep::expand(spec);
      sweep::write_plan(sweep_dir, spec, runs);
      return runs;
    };
    // Each run's bnm at its last evaluation (step 12; an earlier, higher value at step 6 must not count),
    // its entropy the other way round, and its test top-1.
    auto bnm_of = [](const sweep::PlannedRun& r) {
      const int64_t draw = r.config["stage2"]["draw"].get<int64_t>();
      const bool fast = r.config["stage2"]["lr"].get<double>() > 0.0015;
      // lr 0.001: seed 0 keeps draw 2, seed 1 draw 0; lr 0.002: seed 0 keeps draw 1.
      static const double table[2][2][3] = {{{0.10, 0.20, 0.30}, {0.35, 0.25, 0.15}}, {{0.20, 0.40, 0.30}, {0.1, 0.1, 0.1}}};
      return table[fast][r.seed][draw];
    };
    auto fill = [&](const std::filesystem::path& sweep_dir, const std::vector<sweep::PlannedRun>& runs) {
      for (const auto& r : runs) {
        const bool fast = r.config["stage2"]["lr"].get<double>() > 0.0015;
        if (fast && r.seed == 1 && r.config["stage2"]["draw"].get<int64_t>() == 2) continue;  // not finished
        io::RunDirectory rd(sweep_dir / r.name);
        rd.create(r.config);
        {
          io::MetricsWriter metrics(rd.metrics_path());
          for (const int64_t step : {6, 12}) {
            events::ValidatorEvent v;
            v.step = step;
            v.network = "target";
            v.values["bnm"] = step == 6 ? 0.9 : bnm_of(r);
            v.values["entropy"] = step == 6 ? 0.0 : 1 - bnm_of(r);
            metrics.on_validators(v);
          }
        }
        io::Results res;
        res.name = "tiny";
        res.seed = r.seed;
        res.adapted = io::Accuracy{0.5 + bnm_of(r), 0.99, {}, {}};
        rd.write_results(res);
      }
    };
    for (const std::string keeper : {"bnm", "entropy"}) {
      test::ScratchDir sweep_dir("fan-sweep-keep-best-" + keeper);
      const auto runs = write(keeper, sweep_dir.path());
      QCOMPARE(runs.size(), size_t{12});
      fill(sweep_dir.path(), runs);
      const auto summary = sweep::summarize(sweep_dir.path());
      const auto md = QString::fromStdString(summary.markdown);
      QVERIFY2(md.contains("### Best of the stage-2 draws, kept by " + QString::fromStdString(keeper)), qPrintable(md));
      // lr 0.001: kept 0.80 (seed 0, draw 2) and 0.85 (seed 1, draw 0); lr 0.002: only seed 0 is complete (0.90).
      QVERIFY2(md.contains("| FAN · stage2.lr=0.001 | 2/2 | 3 | 0.825 ± 0.035 (2) [0.800–0.850] |"), qPrintable(md));
      QVERIFY2(md.contains("| FAN · stage2.lr=0.002 | 1/2 | 3 | 0.900 ± 0.000 (1) [0.900–0.900] |"), qPrintable(md));
      QVERIFY2(md.contains("| FAN · stage2.lr=0.002 | 1 | 2 | not finished | – | – |  |"), qPrintable(md));
      QVERIFY2(md.contains("| FAN · stage2.lr=0.002 | 1 | 0 | (waiting for the other draws) | 0.600 | – |  |"), qPrintable(md));
      const auto csv = QString::fromStdString(summary.runs_csv);
      QVERIFY2(csv.startsWith("run,case,") && csv.section('\n', 0, 0).endsWith(",kept_by_" + QString::fromStdString(keeper)),
               qPrintable(csv));
      auto kept = [&](const std::string& run) {
        for (const auto& line : csv.split('\n'))
          if (line.startsWith(QString::fromStdString(run) + ",")) return line.section(',', -1);
        return QString("absent");
      };
      QCOMPARE(kept("draw_2-lr=0.001-seed0"), QString("yes"));
      QCOMPARE(kept("draw_0-lr=0.001-seed0"), QString("no"));
      QCOMPARE(kept("draw_0-lr=0.001-seed1"), QString("yes"));
      QCOMPARE(kept("draw_1-lr=0.002-seed0"), QString("yes"));
      QCOMPARE(kept("draw_0-lr=0.002-seed1"), QString(""));  // its seed's draws not all finished
    }

    // A keeper that is no validator, or target test accuracy, is refused naming the file.
    for (const char* bad : {"oracle", "adapted", "bnmm"}) {
      spec_json["keep_best"] = bad;
      const auto e = test::error_of([&] { sweep::spec_from_json(spec_json, "draws.json"); });
      QVERIFY2(e.startsWith("draws.json: keep_best: expected a label-free validator"), qPrintable(e));
      QVERIFY2(std::string(bad) == "bnmm" || e.contains("no target test label chooses anything"), qPrintable(e));
    }
    // A run without the keeper's value is named.
    const auto runs = write("snd", dir.path());
    fill(dir.path(), runs);
    const auto e = test::error_of([&] { sweep::summarize(dir.path()); });
    QVERIFY2(e.contains("draw_0-lr=0.001-seed0: keep_best snd: no snd value at the end of stage 2"), qPrintable(e));
  }

  // (leave one pair out), and runs.csv has one row per run.
  void heldOutPairChoosesEachPairsValidator() {
    test::ScratchDir dir("fan-sweep-held-out");
    auto with = [](const char* source, const char* target) {
      return json{{"source.dataset", source}, {"target.dataset", target}};
    };
    const auto spec = sweep::spec_from_json(
        {{"name", "held_out"},
         {"base", tiny_project("/data")},
         {"seeds", {0, 1}},
         {"cases", json::array({{{"name", "mu"}, {"set", with("mnist", "usps")}, {"labels", {{"pair", "M→U"}, {"method", "FAN"}}}},
                                {{"name", "um"}, {"set", with("usps", "mnist")}, {"labels", {{"pair", "U→M"}, {"method", "FAN"}}}},
                                {{"name", "mm"}, {"set", with("mnist", "mnistm")}, {"labels", {{"pair", "M→MM"}, {"method", "FAN"}}}}})},
         {"table", {{"rows", "method"}, {"columns", "pair"}}}},
        "held_out.json");
    const auto runs = sweep::expand(spec);
    sweep::write_plan(dir.path(), spec, runs);
    // Along each curve test top-1 rises 0.5 → 0.8. M→U: entropy tracks it (ρ +1), im against it (−1);
    // U→M: both track it; M→MM: im tracks it, entropy not at all (ρ 0). So M→U gets im (chosen on
    // U→M and M→MM: entropy 0.5, im 1), U→M entropy (0.5 against 0), M→MM entropy (1 against 0).
    const std::vector<double> acc{0.5, 0.6, 0.7, 0.8};
    auto write_runs = [&](const std::filesystem::path& sweep_dir, const std::vector<sweep::PlannedRun>& planned) {
    for (const auto& r : planned) {
      const auto case_name = r.case_name;
      io::RunDirectory rd(sweep_dir / r.name);
      rd.create(r.config);
      {
        io::MetricsWriter metrics(rd.path() / "metrics.jsonl");
        const std::vector<double> entropy_mm{0.3, 0.1, 0.4, 0.2};
        for (int k = 0; k < 4; ++k) {
          events::EvaluationEvent e;
          e.stage = 2;
          e.step = k + 1;
          e.split = "target_test";
          e.network = "target";
          e.top1 = acc[k];
          metrics.on_evaluation(e);
          events::ValidatorEvent v;
          v.step = k + 1;
          v.network = "target";
          v.values["entropy"] = case_name == "mm" ? entropy_mm[k] : 1 - acc[k];
          v.values["im"] = case_name == "mu" ? 1 - acc[k] : acc[k];
          metrics.on_validators(v);
        }
      }
      io::Results res;
      res.name = "tiny";
      res.seed = r.seed;
      res.threads = 1;
      res.device = "cpu";
      res.fan_commit = "abc123";
      if (r.seed == 1 && case_name == "mu") res.cpu = {{"model", "AMD EPYC"}, {"aten", "AVX2"}, {"blas", "OpenBLAS Zen"}, {"onednn", "avx2"}};
      res.source_only = io::Accuracy{0.6, 0.9, {}, {}};
      res.adapted = io::Accuracy{0.8, 0.99, {}, {}};
      res.picks["entropy"] = io::PickResult{4, 0.2, 0.81 + 0.01 * r.seed, 0.99};
      res.picks["im"] = io::PickResult{1, 0.5, 0.71 + 0.01 * r.seed, 0.99};
      res.picks["oracle"] = io::PickResult{4, 0.8, 0.82, 0.99};
      rd.write_results(res);
    }
    };
    write_runs(dir.path(), runs);
    const auto summary = sweep::summarize(dir.path());
    const auto md = QString::fromStdString(summary.markdown);
    QVERIFY2(md.contains("label-free pick (validator chosen on the other pairs)"), qPrintable(md));
    // FAN: M→U picks with im (0.71, 0.72), U→M and M→MM with entropy (0.81, 0.82).
    QVERIFY2(md.contains("| FAN | 0.715 ± 0.007 (2) | 0.815 ± 0.007 (2) | 0.815 ± 0.007 (2) |"), qPrintable(md));
    QVERIFY2(md.contains("- mnist→usps: **im**, mean ρ 1.000 over 2 task(s) of the other pairs"), qPrintable(md));
    QVERIFY2(md.contains("- usps→mnist: **entropy**, mean ρ 0.500"), qPrintable(md));
    QVERIFY2(md.contains("- mnist→mnistm: **entropy**, mean ρ 1.000"), qPrintable(md));
    QVERIFY2(!md.contains("mnist→usps: **im**, mean ρ 1.000 over 2 task(s) of the other pairs (mnist→usps"), qPrintable(md));

    const auto csv = QString::fromStdString(summary.runs_csv);
    const auto lines = csv.trimmed().split('\n');
    QCOMPARE(lines.size(), 1 + 6);
    QCOMPARE(lines[0], QString("run,case,method,pair,seed,status,threads,device,cpu,commit,source_only,source_only_adabn,last,"
                               "pick:entropy,pick:im,other_pairs_validator,pick:other_pairs,oracle,validation_adapted,seconds"));
    QVERIFY2(csv.contains("mu-seed1,mu,FAN,M→U,1,finished,1,cpu,AVX2 · OpenBLAS Zen · oneDNN avx2,abc123,0.600000,,0.800000,"
                          "0.820000,0.720000,im,0.720000,0.820000,,0.000000\n"),
             qPrintable(csv));
    QVERIFY2(md.contains("CPU code paths of the finished runs") && md.contains("not recorded (runs made before the paths were) (5); "
                                                                             "AVX2 · OpenBLAS Zen · oneDNN avx2 (1)"),
             qPrintable(md));
    // A run made before the code paths were recorded has an empty cell.
    QVERIFY2(csv.contains("mu-seed0,mu,FAN,M→U,0,finished,1,cpu,,abc123,"), qPrintable(csv));
    // A sweep of one pair (Table 2) chooses its validator on another sweep's other pairs
    // (validator_pool); that sweep's runs of the same pair do not count, and are not rows here.
    test::ScratchDir one("fan-sweep-pool");
    auto pooled = json{{"name", "pooled"},
                       {"base", tiny_project("/data")},
                       {"seeds", {0, 1}},
                       {"cases", json::array({{{"name", "mu"}, {"set", with("mnist", "usps")}, {"labels", {{"pair", "M→U"}, {"method", "FAN"}}}}})},
                       {"table", {{"rows", "method"}, {"columns", "pair"}}}};
    const auto alone_spec = sweep::spec_from_json(pooled, "pooled.json");
    const auto alone_runs = sweep::expand(alone_spec);
    sweep::write_plan(one.path(), alone_spec, alone_runs);
    write_runs(one.path(), alone_runs);
    QVERIFY(!QString::fromStdString(sweep::summarize(one.path()).markdown).contains("label-free pick"));
    pooled["validator_pool"] = json::array({dir.path().string()});
    const auto pooled_spec = sweep::spec_from_json(pooled, "pooled.json");
    sweep::write_plan(one.path(), pooled_spec, sweep::expand(pooled_spec));  // the same runs: the plan takes the pool
    const auto with_pool = QString::fromStdString(sweep::summarize(one.path()).markdown);
    QVERIFY2(with_pool.contains("| FAN | 0.715 ± 0.007 (2) |"), qPrintable(with_pool));
    QVERIFY2(with_pool.contains("- mnist→usps: **im**, mean ρ 1.000 over 2 task(s) of the other pairs (mnist→mnistm"), qPrintable(with_pool));
    QVERIFY2(with_pool.contains("(`validator_pool`)"), qPrintable(with_pool));
    QVERIFY2(!with_pool.contains("usps→mnist: **"), qPrintable(with_pool));
    // A pool directory that is not there is named, not skipped.
    pooled["validator_pool"] = json::array({(one / "missing").string()});
    const auto missing_spec = sweep::spec_from_json(pooled, "pooled.json");
    sweep::write_plan(one.path(), missing_spec, sweep::expand(missing_spec));
    const auto e = test::error_of([&] { sweep::summarize(one.path()); });
    QVERIFY2(e.contains("validator_pool: ") && e.contains("missing: not a directory"), qPrintable(e));
    const auto bad = test::error_of([&] { pooled["validator_pool"] = "dir"; sweep::spec_from_json(pooled, "pooled.json"); });
    QVERIFY2(bad.contains("pooled.json: validator_pool: expected a list of sweep directories"), qPrintable(bad));
  }

  // Real `fan` processes: a finished run is skipped, a stopped one resumed, a failing one marked
  // failed while the next runs.
  void runnerSkipsResumesAndSurvivesAFailingRun() {
    const auto fan = fan_binary();
    if (fan.empty()) QSKIP("FAN_BIN is not set (ctest sets it to the built fan)");
    test::ScratchDir data("fan-sweep-data");
    test::write_synthetic_domains(data.path(), 320, 100);
    test::ScratchDir dir("fan-sweep-run");
    auto broken = tiny_project(data.path());
    broken["data"]["root"] = (data.path() / "missing").string();
    const auto spec = sweep::spec_from_json(
        {{"name", "runner"},
         {"base", tiny_project(data.path())},
         {"cases", json::array({{{"name", "ok"}},
                                {{"name", "broken"}, {"set", {{"data.root", (data.path() / "missing").string()}}}},
                                {{"name", "long"}, {"set", {{"stage2.iterations", 400}}}}})}},
        "runner.json");
    const auto runs = sweep::expand(spec);
    QCOMPARE(names(runs), (std::vector<std::string>{"ok", "broken", "long"}));
    sweep::write_plan(dir.path(), spec, runs);
    std::vector<std::string> lines;
    sweep::RunnerOptions options;
    options.fan = fan;
    options.log = [&](const std::string& l) { lines.push_back(l); };

    // Stop the sweep once the long run has written a checkpoint in stage 2.
    std::atomic<bool> stop{false};
    std::thread watcher([&] {
      for (int i = 0; i < 6000 && !stop; ++i) {
        const auto s = io::RunDirectory(dir / "long").summary();
        if (s.status == io::RunSummary::Status::kResumable && s.stage == io::Stage::kAdaptation) stop = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    const auto first = sweep::run_all(dir.path(), runs, options, &stop);
    watcher.join();
    QCOMPARE(first[0].outcome, sweep::Outcome::kFinished);
    QCOMPARE(first[1].outcome, sweep::Outcome::kFailed);
    QVERIFY2(QString::fromStdString(first[1].detail).contains("missing"), first[1].detail.c_str());
    QCOMPARE(first[2].outcome, sweep::Outcome::kStopped);
    QCOMPARE(io::RunDirectory(dir / "long").summary().status, io::RunSummary::Status::kResumable);
    const auto ok_results = read_text(dir / "ok" / "results.json");

    lines.clear();
    const auto second = sweep::run_all(dir.path(), {runs[0], runs[2]}, options);
    QCOMPARE(second[0].outcome, sweep::Outcome::kSkipped);
    QCOMPARE(second[1].outcome, sweep::Outcome::kFinished);
    QCOMPARE(read_text(dir / "ok" / "results.json"), ok_results);  // not run again
    bool resumed = false;
    for (const auto& l : lines) resumed = resumed || l.find("long: resumed") != std::string::npos;
    QVERIFY(resumed);
    const auto long_results = io::RunDirectory(dir / "long").read_results();
    QCOMPARE(long_results.stage2_steps, int64_t{400});
    QCOMPARE(sweep::summarize(dir.path()).finished, 2);
  }

  // A run whose checkpoint is corrupt is never wiped: it fails, naming the problem, and stays.
  void unreadableRunIsLeftAndFails() {
    test::ScratchDir dir("fan-sweep-unreadable");
    const auto spec = sweep::spec_from_json({{"name", "u"}, {"base", tiny_project("/data")}}, "u.json");
    const auto runs = sweep::expand(spec);
    sweep::write_plan(dir.path(), spec, runs);
    io::RunDirectory(dir / runs[0].name).create(runs[0].config);
    test::write_file(dir / runs[0].name / "checkpoint.pt", "not a checkpoint");
    sweep::RunnerOptions options;
    options.fan = "/nonexistent/fan";  // never started
    const auto out = sweep::run_all(dir.path(), runs, options);
    QCOMPARE(out[0].outcome, sweep::Outcome::kFailed);
    QVERIFY2(QString::fromStdString(out[0].detail).contains("checkpoint.pt"), out[0].detail.c_str());
    QVERIFY(std::filesystem::exists(dir / runs[0].name / "checkpoint.pt"));
  }

  // The same project run twice on one code path gives the same numbers, and results.json says which
  // path that was; capping ATen's kernels (ATEN_CPU_CAPABILITY, as another processor would) is recorded
  // and, where this processor has vector kernels, changes the numbers: why a row of a committed table
  // reproduces only on the path its cpu column names.
  void runsRecordTheCpuCodePathsThatDecideTheirNumbers() {
    const auto fan = fan_binary();
    if (fan.empty()) QSKIP("FAN_BIN is not set (ctest sets it to the built fan)");
    test::ScratchDir data("fan-numerics-data");
    test::write_synthetic_domains(data.path(), 320, 100);
    test::ScratchDir dir("fan-numerics");
    auto project = tiny_project(data.path());
    project["threads"] = 1;
    const auto project_path = dir / "tiny.json";
    std::ofstream(project_path) << project.dump();
    auto run = [&](const std::string& name, const std::string& env) {
      const auto out = dir / name;
      const auto cmd = env + " '" + fan.string() + "' run '" + project_path.string() + "' --out '" + out.string() +
                       "' --quiet > '" + (dir / (name + ".log")).string() + "' 2>&1";
      const int rc = std::system(cmd.c_str());
      if (rc != 0) return std::make_pair(io::Results{}, std::string("failed: ") + read_text(dir / (name + ".log")));
      return std::make_pair(io::RunDirectory(out).read_results(), read_text(out / "metrics.jsonl"));
    };
    // The losses of every logged step: the numbers the arithmetic produced (wall times left out).
    auto losses = [](const std::string& metrics) {
      std::vector<double> out;
      std::istringstream in(metrics);
      for (std::string line; std::getline(in, line);) {
        const auto j = json::parse(line);
        if (j.value("type", "") == "step")
          for (const auto& [k, v] : j.at("losses").items()) out.push_back(v.get<double>());
      }
      return out;
    };
    const auto [a, a_metrics] = run("a", "");
    const auto [b, b_metrics] = run("b", "");
    const auto [capped, capped_metrics] = run("capped", "ATEN_CPU_CAPABILITY=default");
    QVERIFY2(a.finished() && b.finished() && capped.finished(), (a_metrics + b_metrics + capped_metrics).c_str());
    QVERIFY2(a.cpu.is_object(), a.cpu.dump().c_str());
    const auto native = a.cpu.value("aten", "");
    QVERIFY2(native == "AVX512" || native == "AVX2" || native == "NO AVX", native.c_str());
    QVERIFY2(a.cpu.value("blas", "").rfind("OpenBLAS ", 0) == 0 || a.cpu.value("blas", "") == "not OpenBLAS",
             a.cpu.dump().c_str());
    QCOMPARE(b.cpu, a.cpu);
    QVERIFY(!losses(a_metrics).empty());
    QCOMPARE(losses(b_metrics), losses(a_metrics));
    QCOMPARE(b.adapted->top1, a.adapted->top1);
    QCOMPARE(capped.cpu.value("aten", ""), std::string("NO AVX"));
    QCOMPARE(capped.cpu.value("blas", ""), a.cpu.value("blas", ""));
    if (native != "NO AVX") QVERIFY(losses(capped_metrics) != losses(a_metrics));
    // OpenBLAS's Prescott fallback (a processor newer than its release) is not what a vector processor
    // runs on: fan starts itself again with kernels the processor has; a user's own choice is kept.
    if (a.cpu.value("blas", "").rfind("OpenBLAS ", 0) == 0 && native != "NO AVX") {
      QVERIFY2(a.cpu.value("blas", "") != "OpenBLAS Prescott", a.cpu.dump().c_str());
      const auto [users, users_metrics] = run("users", "OPENBLAS_CORETYPE=Prescott");
      QVERIFY2(users.finished(), users_metrics.c_str());
      QCOMPARE(users.cpu.value("blas", ""), std::string("OpenBLAS Prescott"));
    }
  }

  // The decision behind it, for every case: only a fall-back to Prescott is replaced, by the widest kernel
  // set the processor (and the OS) supports, and never against the user's OPENBLAS_CORETYPE.
  void blasFallbackIsReplacedByKernelsTheProcessorHas() {
    using util::BlasChoice;
    QCOMPARE(util::blas_core_to_use(BlasChoice{"Prescott", false, true, true}), std::string("SkylakeX"));
    QCOMPARE(util::blas_core_to_use(BlasChoice{"Prescott", false, false, true}), std::string("Haswell"));
    QCOMPARE(util::blas_core_to_use(BlasChoice{"Prescott", false, false, false}), std::string());
    QCOMPARE(util::blas_core_to_use(BlasChoice{"Prescott", true, true, true}), std::string());
    QCOMPARE(util::blas_core_to_use(BlasChoice{"SkylakeX", false, true, true}), std::string());
    QCOMPARE(util::blas_core_to_use(BlasChoice{"Zen", false, false, true}), std::string());
    QCOMPARE(util::blas_core_to_use(BlasChoice{"", false, true, true}), std::string());  // not OpenBLAS
  }

  // stage1.from in a sweep: "{sweep}/draw_0-seed{seed}" names the same seed's run of an earlier case, so
  // a case can adapt every seed's stage-1 network again (stage2.draw); the runs of one case still form one
  // group, whatever directory each started from.
  void casesAdaptAnEarlierCasesStageOneAgain() {
    const auto fan = fan_binary();
    if (fan.empty()) QSKIP("FAN_BIN is not set (ctest sets it to the built fan)");
    test::ScratchDir data("fan-draws-data");
    test::write_synthetic_domains(data.path(), 320, 100);
    test::ScratchDir dir("fan-draws");
    const auto spec = sweep::spec_from_json(
        {{"name", "draws"},
         {"base", tiny_project(data.path())},
         {"seeds", json::array({0, 1})},
         {"cases", json::array({{{"name", "draw_0"}},
                                {{"name", "draw_1"},
                                 {"set", {{"stage1.from", "{sweep}/draw_0-seed{seed}"}, {"stage2.draw", 1}}}}})}},
        "draws.json");
    const auto runs = sweep::expand(spec);
    QCOMPARE(names(runs), (std::vector<std::string>{"draw_0-seed0", "draw_0-seed1", "draw_1-seed0", "draw_1-seed1"}));
    sweep::write_plan(dir.path(), spec, runs);
    sweep::RunnerOptions options;
    options.fan = fan;
    options.log = [](const std::string&) {};
    for (const auto& r : sweep::run_all(dir.path(), runs, options))
      QVERIFY2(r.outcome == sweep::Outcome::kFinished, r.detail.c_str());
    for (int seed : {0, 1}) {
      const auto first = io::RunDirectory(dir / ("draw_0-seed" + std::to_string(seed)));
      const auto again = io::RunDirectory(dir / ("draw_1-seed" + std::to_string(seed)));
      QCOMPARE(again.read_config()["stage1"]["from"].get<std::string>(), first.path().string());
      QCOMPARE(again.read_results().source_only->top1, first.read_results().source_only->top1);
      QCOMPARE(again.read_results().stage1_steps, first.read_results().stage1_steps);
    }
    const auto summary = sweep::summarize(dir.path());
    QCOMPARE(summary.finished, 4);
    std::vector<io::RunSummary> summaries;
    for (const auto& r : runs) summaries.push_back(io::RunDirectory(dir / r.name).summary());
    const auto groups = sweep::group_runs(summaries);
    QCOMPARE(groups.size(), size_t(2));
    for (const auto& g : groups) QCOMPARE(g.finished, 2);
  }

  void slurmScriptRunsExactlyItsArrayTask() {
    const auto fan = fan_binary();
    if (fan.empty()) QSKIP("FAN_BIN is not set (ctest sets it to the built fan)");
    test::ScratchDir data("fan-sweep-slurm-data");
    test::write_synthetic_domains(data.path(), 320, 100);
    test::ScratchDir dir("fan-sweep-slurm");
    const auto spec = sweep::spec_from_json(
        {{"name", "array"}, {"base", tiny_project(data.path())}, {"axes", {{"model.variant", {"full", "adda"}}}},
         {"seeds", {0, 1}}},
        "array.json");
    const auto runs = sweep::expand(spec);
    sweep::write_plan(dir.path(), spec, runs);
    sweep::SlurmOptions options;
    options.cpus_per_task = 1;
    options.partition = "gpu";
    const auto script = sweep::slurm_script(dir.path(), spec.name, runs.size(), fan, options);
    const auto path = dir / "sweep.slurm";
    std::ofstream(path) << script;
    QCOMPARE(std::system(("bash -n '" + path.string() + "'").c_str()), 0);
    std::smatch m;
    QVERIFY(std::regex_search(script, m, std::regex("#SBATCH --array=0-(\\d+)\n")));
    QCOMPARE(std::stoul(m[1].str()) + 1, runs.size());
    QVERIFY(script.find("#SBATCH --partition=gpu\n") != std::string::npos);
    // Without an array task id the script refuses to run.
    QVERIFY(std::system(("bash '" + path.string() + "' > /dev/null 2>&1").c_str()) != 0);
    const auto rc = std::system(("SLURM_ARRAY_TASK_ID=2 bash '" + path.string() + "' > '" +
                                 (dir / "task.log").string() + "' 2>&1").c_str());
    QVERIFY2(rc == 0, read_text(dir / "task.log").c_str());
    for (const auto& r : runs) {
      const bool has = std::filesystem::exists(dir / r.name / "results.json");
      QVERIFY2(has == (r.index == 2), r.name.c_str());
    }
    QCOMPARE(runs[2].name, std::string("variant=adda-seed0"));
  }
};

QTEST_GUILESS_MAIN(TestSweep)
#include "tst_sweep.moc"
