// `fan sweep`: expand a sweep file into runs, run them N at a time (or as a Slurm job array), and collect
// their results into mean ± std tables.
#include "commands.h"

#include "core/sweep/runner.h"
#include "core/sweep/sweep.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <set>

namespace fan::cli {
namespace {

std::atomic<bool> g_sweep_stop{false};
void on_sweep_interrupt(int) { g_sweep_stop.store(true); }

struct SweepArgs {
  std::string target, out;
  int jobs = 1;
  int64_t threads = -1;
  bool collect = false, slurm = false, list = false, quiet = false;
  int task = -1;
  std::vector<std::string> cases;  // run only these cases' runs (the plan keeps them all)
  sweep::SlurmOptions slurm_options;
};

// The `fan` executable that runs the sweep's runs: this one.
std::filesystem::path self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("sweep: cannot find the fan executable (/proc/self/exe: " + ec.message() + ")");
  return p;
}

void collect(const std::filesystem::path& dir) {
  const auto summary = sweep::summarize(dir);
  util::atomic_write(dir / "summary.md", summary.markdown);
  util::atomic_write(dir / "summary.csv", summary.csv);
  util::atomic_write(dir / "runs.csv", summary.runs_csv);
  std::cout << summary.markdown << std::flush;
  std::cerr << "sweep: " << summary.finished << "/" << summary.planned << " runs finished; wrote "
            << (dir / "summary.md").string() << ", summary.csv and runs.csv (one row per run)" << std::endl;
}

void run_sweep(const SweepArgs& a) {
  const std::filesystem::path target = a.target;
  std::filesystem::path dir;
  std::vector<sweep::PlannedRun> runs;
  std::string name;
  if (std::filesystem::is_directory(target)) {
    dir = target;
    runs = sweep::read_plan(dir);
    name = dir.filename().string();
    if (!a.out.empty() && std::filesystem::path(a.out) != dir)
      throw Error("--out: a sweep directory was given (" + dir.string() + "); --out only goes with a sweep file");
  } else {
    if (!std::filesystem::exists(target)) throw Error(target.string() + ": no such sweep file or directory");
    const auto spec = sweep::load_spec(target);
    name = spec.name;
    dir = !a.out.empty() ? std::filesystem::path(a.out)
                         : !spec.out.empty() ? spec.out : std::filesystem::path("sweeps") / spec.name;
    runs = sweep::expand(spec);
    if (a.collect && std::filesystem::exists(sweep::plan_path(dir))) {
      // Collect what is there; the plan on disk is what ran. Where the spec still expands to the same
      // runs, its sweep-wide fields (table, rank_by, validator_pool, keep_best) are brought up to date.
      try {
        sweep::write_plan(dir, spec, runs);
      } catch (const Error& e) {
        std::cerr << "note: " << e.what() << "; collecting the plan as it ran\n";
      }
    } else if (!a.list) {
      sweep::write_plan(dir, spec, runs);
    }
  }
  if (a.list) {
    for (const auto& r : runs) {
      std::cout << r.index << "\t" << r.name;
      for (const auto& [k, v] : r.settings) std::cout << "\t" << k << "=" << v.dump();
      std::cout << "\tseed=" << r.seed << "\n";
    }
    std::cout << std::flush;
    return;
  }
  if (a.collect) return collect(dir);

  const auto fan = self_executable();
  if (a.slurm) {
    const auto path = dir / "sweep.slurm";
    util::atomic_write(path, sweep::slurm_script(dir, name, runs.size(), fan, a.slurm_options));
    std::filesystem::permissions(path, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec,
                                 std::filesystem::perm_options::add);
    std::cout << "wrote " << path.string() << " (" << runs.size() << " array tasks); submit with: sbatch "
              << path.string() << "\nthen collect with: fan sweep --collect " << dir.string() << std::endl;
    return;
  }

  sweep::RunnerOptions options;
  options.jobs = a.jobs;
  options.threads = a.threads;
  options.fan = fan;
  options.log = [&](const std::string& line) {
    if (!a.quiet) std::cerr << line << std::endl;
  };
  std::signal(SIGINT, on_sweep_interrupt);
  std::signal(SIGTERM, on_sweep_interrupt);
  if (a.task >= 0) {
    if (a.task >= static_cast<int>(runs.size()))
      throw Error("--task: " + std::to_string(a.task) + " is beyond the sweep's " + std::to_string(runs.size()) +
                  " runs (0–" + std::to_string(runs.size() - 1) + ")");
    const auto out = sweep::run_one(dir, runs[a.task], options, &g_sweep_stop);
    std::cout << runs[a.task].name << ": " << sweep::to_string(out.outcome)
              << (out.detail.empty() ? "" : " — " + out.detail) << std::endl;
    if (out.outcome == sweep::Outcome::kFailed) throw CLI::RuntimeError(1);
    if (out.outcome == sweep::Outcome::kStopped) throw CLI::RuntimeError(3);
    return;
  }
  const size_t planned = runs.size();
  if (!a.cases.empty()) {
    std::set<std::string> known;
    for (const auto& r : runs) known.insert(r.case_name);
    for (const auto& c : a.cases)
      if (!known.count(c)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw Error("--cases: the sweep has no case \"" + c + "\"; its cases: " + list);
      }
    std::vector<sweep::PlannedRun> chosen;
    for (const auto& r : runs)
      if (std::find(a.cases.begin(), a.cases.end(), r.case_name) != a.cases.end()) chosen.push_back(r);
    runs = std::move(chosen);
  }
  std::cerr << "sweep " << name << ": " << planned << " runs planned in " << sweep::plan_path(dir).string()
            << (runs.size() < planned ? ", running the " + std::to_string(runs.size()) + " of the chosen cases" : "")
            << ", " << a.jobs << " at a time" << std::endl;
  const auto outcomes = sweep::run_all(dir, runs, options, &g_sweep_stop);
  int failed = 0, stopped = 0;
  for (const auto& o : outcomes) {
    failed += o.outcome == sweep::Outcome::kFailed;
    stopped += o.outcome == sweep::Outcome::kStopped;
  }
  collect(dir);
  if (failed > 0) {
    std::cerr << "sweep: " << failed << " run(s) failed:" << std::endl;
    for (size_t i = 0; i < outcomes.size(); ++i)
      if (outcomes[i].outcome == sweep::Outcome::kFailed)
        std::cerr << "  " << runs[i].name << ": " << outcomes[i].detail << std::endl;
    throw CLI::RuntimeError(1);
  }
  if (stopped > 0) {
    std::cerr << "sweep: stopped; run the same command again to continue (finished runs are kept)" << std::endl;
    throw CLI::RuntimeError(3);
  }
}

}  // namespace

void add_sweep_commands(CLI::App& app) {
  static SweepArgs a;
  auto* cmd = app.add_subcommand("sweep", "Run a sweep file's grid of runs, or collect a sweep's results");
  cmd->add_option("sweep", a.target, "Sweep file (bench/sweeps/*.json), or a sweep directory (its sweep.json)")
      ->required();
  cmd->add_option("--out", a.out, "Sweep directory (default: the file's \"out\", else sweeps/<name>)");
  cmd->add_option("--jobs", a.jobs, "Runs at once")->check(CLI::Range(1, 256));
  cmd->add_option("--threads", a.threads, "Threads per run (0: all cores; default: as each project says)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--collect", a.collect, "Only summarise the finished runs: mean ± std per group (summary.md, .csv)");
  cmd->add_flag("--list", a.list, "Only print the expanded runs");
  cmd->add_option("--task", a.task, "Run only planned run K (0-based; what a Slurm array task does)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--cases", a.cases, "Run only these cases (names, comma-separated); the plan keeps every run")
      ->delimiter(',');
  cmd->add_flag("--quiet", a.quiet, "No progress lines");
  cmd->add_flag("--slurm", a.slurm, "Write a Slurm job-array script (sweep.slurm) instead of running");
  cmd->add_option("--partition", a.slurm_options.partition, "Slurm: partition");
  cmd->add_option("--time", a.slurm_options.time, "Slurm: time limit per run (HH:MM:SS)");
  cmd->add_option("--cpus-per-task", a.slurm_options.cpus_per_task, "Slurm: CPUs per run")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--gpus", a.slurm_options.gpus, "Slurm: GPUs per run")->check(CLI::Range(0, 64));
  cmd->add_option("--mem", a.slurm_options.mem, "Slurm: memory per run (e.g. 16G)");
  cmd->add_option("--max-parallel", a.slurm_options.max_parallel, "Slurm: at most N array tasks at once")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([] {
    if (a.collect + a.slurm + a.list + (a.task >= 0) > 1)
      throw Error("sweep: --collect, --slurm, --list and --task go one at a time");
    run_sweep(a);
  });
}

}  // namespace fan::cli
