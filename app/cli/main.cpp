// `fan`: the command-line front end — runs, resumes, evaluations, data.
#include "commands.h"
#include "data_commands.h"
#include "distributed.h"
#include "progress.h"

#include "core/analysis/features.h"
#include "core/io/config.h"
#include "core/train/evaluation.h"
#include "core/train/experiment.h"
#include "core/util/blas_kernels.h"
#include "core/util/error.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>

namespace {

fan::train::StopToken* g_stop = nullptr;
std::vector<std::string> g_args;  // argv, for `--nproc N` to start its ranks with

// argv without "--nproc N" / "--nproc=N": what each local rank runs.
std::vector<std::string> args_without_nproc() {
  std::vector<std::string> out;
  for (size_t i = 0; i < g_args.size(); ++i) {
    if (g_args[i] == "--nproc") {
      ++i;
      continue;
    }
    if (g_args[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(g_args[i]);
  }
  return out;
}

// `--nproc N` outside a distributed run: start N local ranks and wait for them.
bool launched_ranks(int nproc) {
  if (nproc <= 1 || fan::dist::environment_from_env().distributed()) return false;
  const int rc = fan::cli::launch_local_ranks(nproc, args_without_nproc());
  if (rc != 0) throw CLI::RuntimeError(rc);
  return true;
}

// Ctrl-C asks the loop to stop at the next step; it writes a checkpoint first.
void on_interrupt(int) {
  if (g_stop != nullptr) g_stop->request_stop();
}

int run_experiment(fan::train::Experiment& experiment, bool quiet) {
  const bool rank0 = experiment.leader();
  fan::cli::ConsoleSink console(quiet || !rank0);  // the other ranks of a distributed run stay quiet
  fan::train::StopToken stop;
  g_stop = &stop;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  if (rank0) std::cerr << "run directory: " << experiment.run_directory().path().string() << "\n";
  // The other ranks print nothing but their errors: rank 0 reports the run.
  const auto results = experiment.run(rank0 ? &console : nullptr, &stop);
  g_stop = nullptr;
  // The last line is the results record on one line (io::to_json), for scripts.
  if (rank0) std::cout << fan::io::to_json(results).dump() << std::endl;
  return results.finished() ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  fan::util::restart_with_suitable_blas_kernels(argv);  // OpenBLAS's kernels for processors it does not know
  g_args.assign(argv, argv + argc);
  CLI::App app{"FAN Workbench: unsupervised domain adaptation with Factorized Adversarial Networks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(FAN_VERSION));

  std::string project, out, run_dir;
  std::vector<std::string> overrides;
  int64_t seed = -1;
  bool quiet = false;
  int nproc = 1;
  auto* run = app.add_subcommand("run", "Run an experiment (stage 1, then adaptation) from a project file");
  run->add_option("--nproc", nproc, "Data-parallel: start N local processes (Gloo; or start fan under torchrun/srun)")
      ->check(CLI::Range(1, 256));
  run->add_option("project", project, "Project file (projects/*.json)")->required()->check(CLI::ExistingFile);
  run->add_option("--out", out, "Run directory (default: runs/<name>-<time>)");
  run->add_option("--seed", seed, "Seed (overrides the project's)");
  run->add_option("--set", overrides, "Override a config field: key.path=value (repeatable)");
  run->add_flag("--quiet", quiet, "No progress output");
  run->callback([&] {
    if (launched_ranks(nproc)) return;
    if (seed >= 0) overrides.push_back("seed=" + std::to_string(seed));
    auto config = fan::io::ExperimentConfig::load(project, overrides);
    const auto group = fan::cli::join_ranks(config);
    auto dir = out.empty() ? fan::io::RunDirectory::default_for(config.name) : std::filesystem::path(out);
    if (group) dir = group->share_string("run_dir", dir.string());  // rank 0's choice
    fan::train::Experiment experiment(config, dir);
    const int rc = run_experiment(experiment, quiet);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto* resume = app.add_subcommand("resume", "Continue a run from its last checkpoint");
  resume->add_option("run_dir", run_dir, "Run directory")->required();
  resume->add_flag("--quiet", quiet, "No progress output");
  resume->add_option("--nproc", nproc, "Data-parallel: start N local processes (the world size the run had)")
      ->check(CLI::Range(1, 256));
  resume->callback([&] {
    if (launched_ranks(nproc)) return;
    const auto group = fan::cli::join_ranks(fan::io::ExperimentConfig::from_json(
        fan::io::RunDirectory(run_dir).read_config(), fan::io::RunDirectory(run_dir).config_path().string()));
    auto experiment = fan::train::Experiment::resume(run_dir);
    const int rc = run_experiment(*experiment, quiet);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  std::string network = "last";
  auto* eval = app.add_subcommand("eval", "Evaluate a run's checkpoint on the target test set");
  eval->add_option("run_dir", run_dir, "Run directory")->required();
  eval->add_option("--network", network, "The target network: last, or the one a validator picked (e.g. snd)");
  eval->callback([&] {
    // Read-only: the run's networks and test sets, evaluated on the target test set.
    auto run = fan::analysis::load_run(run_dir, network);
    fan::train::apply_threads(run.config.threads);
    nlohmann::json out = {{"run", run_dir}, {"stage", fan::io::to_string(run.stage)}, {"network", run.network}};
    out["source_only"] = fan::train::evaluate(run.source, run.target_test, run.config.eval_batch_size).to_json();
    if (run.adapted())
      out["adapted"] = fan::train::evaluate(run.target, run.target_test, run.config.eval_batch_size).to_json();
    std::cout << out.dump(2) << std::endl;
  });

  auto* config = app.add_subcommand("config", "Check a project file and print it with every default filled in");
  config->add_option("project", project, "Project file")->required()->check(CLI::ExistingFile);
  config->add_option("--set", overrides, "Override a config field: key.path=value (repeatable)");
  config->callback([&] {
    std::cout << fan::io::ExperimentConfig::load(project, overrides).resolved.dump(2) << std::endl;
  });

  fan::cli::add_data_commands(app);
  fan::cli::add_bench_commands(app);
  fan::cli::add_analysis_commands(app);
  fan::cli::add_sweep_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const fan::Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  } catch (const c10::Error& e) {
    std::cerr << "error (LibTorch): " << e.what_without_backtrace() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 2;
  }
  return 0;
}
