// `fan tsne`, `fan pca`, `fan features` and `fan figures`: the analysis subcommands.
#include "commands.h"

#include "core/analysis/ensemble.h"
#include "core/analysis/features.h"
#include "core/analysis/figures.h"
#include "core/analysis/rank_study.h"
#include "core/analysis/points_csv.h"
#include "core/analysis/tsne.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#ifdef FAN_WITH_PLOTS
#include "widgets/figure_render.h"

#include <QApplication>
#endif

#include <chrono>
#include <iostream>
#include <memory>

namespace fan::cli {
namespace {

// Progress lines of `fan tsne` on stderr: one every this many iterations.
constexpr int kProgressLineEvery = 50;

struct TsneArgs {
  std::string in, out, method = "auto";
  double perplexity = 30, theta = 0.5;
  int iterations = 1000, threads = 0;
  uint64_t seed = 0;
  bool random_init = false, quiet = false;
};

void run_tsne(const TsneArgs& a) {
  const auto points = analysis::read_points_csv(a.in);
  analysis::TsneOptions o;
  o.perplexity = a.perplexity;
  o.iterations = a.iterations;
  o.seed = a.seed;
  o.method = analysis::parse_tsne_method(a.method, "--method");
  o.theta = a.theta;
  o.pca_init = !a.random_init;
  o.threads = a.threads;
  o.progress_every = kProgressLineEvery;
  if (points.rows < static_cast<int64_t>(3 * o.perplexity) + 1)
    throw Error(a.in + ": " + std::to_string(points.rows) + " points are too few for perplexity " +
                std::to_string(a.perplexity) + " (needs at least 3·perplexity + 1 = " +
                std::to_string(static_cast<int64_t>(3 * o.perplexity) + 1) + "); lower --perplexity");
  const auto start = std::chrono::steady_clock::now();
  const auto result =
      analysis::tsne(points.values.data(), points.rows, points.cols, o, [&](int iteration, double kl) {
        if (!a.quiet)
          std::cerr << "t-SNE iteration " << iteration << "/" << a.iterations << ", KL " << kl << std::endl;
        return true;
      });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  analysis::write_points_csv(a.out, result.embedding.data(), points.rows, 2);
  const nlohmann::json summary = {{"points", points.rows},
                                  {"dimensions", points.cols},
                                  {"method", analysis::to_string(result.method)},
                                  {"perplexity", o.perplexity},
                                  {"kl_divergence", result.kl_divergence},
                                  {"iterations", result.iterations_run},
                                  {"seconds", seconds},
                                  {"out", a.out}};
  std::cout << summary.dump() << std::endl;
}

// Writes CSVs of the features of the run's networks on both test sets.
void run_features(const std::string& run_dir, const std::string& out, int64_t n, uint64_t seed) {
  auto run = analysis::load_run(run_dir);
  std::filesystem::create_directories(out);
  struct Job {
    std::string prefix;
    models::FanNet* net;
    const data::Dataset* data;
  };
  std::vector<Job> jobs = {{"source_net_source_test", &run.source, &run.source_test},
                           {"source_net_target_test", &run.source, &run.target_test}};
  if (run.adapted()) jobs.push_back({"target_net_target_test", &run.target, &run.target_test});
  nlohmann::json written = nlohmann::json::array();
  for (const auto& job : jobs) {
    const auto rows = analysis::sample_indices(job.data->size(), n, seed);
    const auto index = torch::tensor(rows, torch::kLong);
    const auto features = analysis::extract_features(*job.net, job.data->images.index_select(0, index));
    const auto labels = job.data->labels.index_select(0, index).to(torch::kFloat32).unsqueeze(1).contiguous();
    const std::pair<const char*, torch::Tensor> parts[] = {{"logits", features.logits},
                                                           {"ht", features.task_specific},
                                                           {"hd", features.domain_specific},
                                                           {"labels", labels}};
    for (const auto& [name, tensor] : parts) {
      if (!tensor.defined()) continue;
      const auto t = tensor.to(torch::kFloat32).contiguous();
      const auto path = (std::filesystem::path(out) / (job.prefix + "_" + name + ".csv")).string();
      analysis::write_points_csv(path, t.data_ptr<float>(), t.size(0), t.size(1));
      written.push_back(path);
    }
  }
  std::cout << nlohmann::json{{"written", written}}.dump(2) << std::endl;
}

// `fan validators`: how well each validator ranks, over finished runs.
void add_validators_command(CLI::App& app) {
  struct ValidatorArgs {
    std::vector<std::string> paths;
    std::string out;
  };
  auto v = std::make_shared<ValidatorArgs>();
  auto* validators = app.add_subcommand(
      "validators", "How well each label-free validator ranks target accuracy over runs (per task: pair, protocol and method)");
  validators->add_option("paths", v->paths, "Run directories, or folders holding them")->required();
  validators->add_option("--out", v->out, "Also write validators.md and validators.csv into this folder");
  validators->callback([v] {
    std::vector<std::string> skipped;
    const auto study = analysis::rank_validators({v->paths.begin(), v->paths.end()}, &skipped);
    for (const auto& s : skipped) std::cerr << "left out " << s << std::endl;
    if (study.empty()) throw Error("no finished run with validator records in " + v->paths.front());
    const auto md = analysis::rank_study_markdown(study);
    std::cout << md;
    if (!v->out.empty()) {
      std::filesystem::create_directories(v->out);
      util::atomic_write(std::filesystem::path(v->out) / "validators.md", md);
      util::atomic_write(std::filesystem::path(v->out) / "validators.csv", analysis::rank_study_csv(study));
    }
  });
}

// `fan ensemble`: runs' adapted target networks as one classifier (softmax averaged).
void add_ensemble_command(CLI::App& app) {
  struct EnsembleArgs {
    std::vector<std::string> run_dirs;
    std::string network = "last", out;
  };
  auto e = std::make_shared<EnsembleArgs>();
  auto* ensemble = app.add_subcommand(
      "ensemble", "Evaluate runs' adapted target networks as one classifier (their softmax outputs averaged) on the "
                  "target test set and the held-out target.validation images");
  ensemble->add_option("run_dirs", e->run_dirs, "Run directories (at least two; draws of one seed)")->required();
  ensemble->add_option("--network", e->network, "Each member's network: last, or the one a validator picked");
  ensemble->add_option("--out", e->out, "Also write the result (JSON) to this file");
  ensemble->callback([e] {
    const auto result = analysis::evaluate_ensemble({e->run_dirs.begin(), e->run_dirs.end()}, e->network);
    const auto j = analysis::to_json(result);
    if (!e->out.empty()) util::atomic_write(e->out, j.dump(2) + "\n");
    for (const auto& m : result.members)
      std::cerr << m.run_dir.string() << ": test " << m.test_top1
                << (m.validation_top1 ? ", validation " + std::to_string(*m.validation_top1) : std::string()) << std::endl;
    std::cerr << "ensemble of " << result.members.size() << ": test " << result.test.top1
              << (result.validation ? ", validation " + std::to_string(result.validation->top1) : std::string())
              << std::endl;
    nlohmann::json brief = {{"network", result.network}, {"members", j["members"]}, {"test_top1", result.test.top1}};
    if (result.validation) brief["validation_top1"] = result.validation->top1;
    std::cout << brief.dump(2) << std::endl;
  });
}

}  // namespace

void add_analysis_commands(CLI::App& app) {
  add_validators_command(app);
  add_ensemble_command(app);
  auto args = std::make_shared<TsneArgs>();
  auto* tsne = app.add_subcommand("tsne", "t-SNE of the rows of a CSV file (numbers, no header) into 2-D");
  tsne->add_option("--in", args->in, "Input CSV: one point per line")->required();
  tsne->add_option("--out", args->out, "Output CSV: x,y per line, same order")->required();
  tsne->add_option("--perplexity", args->perplexity, "Perplexity (default 30)");
  tsne->add_option("--iterations", args->iterations,
                   "Iterations, 250 of early exaggeration included (default 1000)");
  tsne->add_option("--seed", args->seed, "Seed (random initialisation only)");
  tsne->add_option("--method", args->method, "auto (exact up to 1,500 points), exact or barnes-hut");
  tsne->add_option("--theta", args->theta, "Barnes-Hut opening angle (default 0.5)");
  tsne->add_option("--threads", args->threads, "Threads (0 = all cores)");
  tsne->add_flag("--random-init", args->random_init, "Random initialisation instead of PCA");
  tsne->add_flag("--quiet", args->quiet, "No progress lines");
  tsne->callback([args] { run_tsne(*args); });

  auto pca_in = std::make_shared<std::string>(), pca_out = std::make_shared<std::string>();
  auto* pca = app.add_subcommand("pca", "The first two principal components of the rows of a CSV file");
  pca->add_option("--in", *pca_in, "Input CSV: one point per line")->required();
  pca->add_option("--out", *pca_out, "Output CSV: two scores per line, same order")->required();
  pca->callback([pca_in, pca_out] {
    const auto points = analysis::read_points_csv(*pca_in);
    const auto y = analysis::pca_2d(points.values.data(), points.rows, points.cols);
    analysis::write_points_csv(*pca_out, y.data(), points.rows, 2);
  });

  struct FeatureArgs {
    std::string run_dir, out;
    int64_t n = 1000;
    uint64_t seed = 0;
  };
  auto f = std::make_shared<FeatureArgs>();
  auto* features = app.add_subcommand("features", "Write a run's logits, ht and hd on both test sets as CSV");
  features->add_option("run_dir", f->run_dir, "Run directory")->required();
  features->add_option("--out", f->out, "Output folder")->required();
  features->add_option("--n", f->n, "Random test images per domain (default 1000)");
  features->add_option("--seed", f->seed, "Seed of the sample");
  features->callback([f] { run_features(f->run_dir, f->out, f->n, f->seed); });

  struct FigureArgs {
    std::string run_dir, method = "auto";
    int64_t n = 1000;
    double perplexity = 35;
    uint64_t seed = 0;
    int threads = 0;
    bool no_results = false;
    std::string network = "last";
  };
  auto g = std::make_shared<FigureArgs>();
  auto* figures = app.add_subcommand("figures", "Write the paper's figures of a run into RUN_DIR/figures/");
  figures->add_option("run_dir", g->run_dir, "Run directory")->required();
  figures->add_option("--n", g->n, "Fig. 5: random test images per domain (default 1000)");
  figures->add_option("--perplexity", g->perplexity, "Fig. 5: t-SNE perplexity (default 35)");
  figures->add_option("--seed", g->seed, "Seed of the samples");
  figures->add_option("--method", g->method, "t-SNE method: auto, exact or barnes-hut");
  figures->add_option("--threads", g->threads, "t-SNE threads (0 = all cores)");
  figures->add_flag("--no-results", g->no_results, "Do not add the proxy A-distance to the run's results");
  figures->add_option("--network", g->network, "The target network drawn: last, or the one a validator picked");
  figures->callback([g] {
    analysis::FiguresOptions o;
    o.images_per_domain = g->n;
    o.perplexity = g->perplexity;
    o.seed = g->seed;
    o.method = analysis::parse_tsne_method(g->method, "--method");
    o.threads = g->threads;
    o.update_results = !g->no_results && g->network == "last";  // the results describe the last iterate
    o.network = g->network;
    o.log = [](const std::string& line) { std::cerr << line << std::endl; };
    std::unique_ptr<analysis::FigureRenderer> renderer;
#ifdef FAN_WITH_PLOTS
    // QCustomPlot draws on widgets: a QApplication, offscreen when there is no display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY") &&
        qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
      qputenv("QT_QPA_PLATFORM", "offscreen");
    static int qt_argc = 1;
    static char qt_name[] = "fan";
    static char* qt_argv[] = {qt_name, nullptr};
    std::unique_ptr<QApplication> qt;
    if (QApplication::instance() == nullptr) qt = std::make_unique<QApplication>(qt_argc, qt_argv);
    renderer = std::make_unique<widgets::FigureRenderer>();
#else
    std::cerr << "this fan was built without the GUI (FAN_BUILD_GUI=OFF): writing CSVs and image grids; "
                 "plots need the GUI build"
              << std::endl;
#endif
    const auto report = analysis::write_figures(g->run_dir, o, renderer.get());
    nlohmann::json summary;
    summary["written"] = nlohmann::json::array();
    for (const auto& p : report.written) summary["written"].push_back(p.string());
    summary["skipped"] = report.skipped;
    summary["proxy_a_distance"] = report.proxy_a_distance;
    std::cout << summary.dump(2) << std::endl;
  });
}

}  // namespace fan::cli
