// Running a sweep's planned runs as `fan run` / `fan resume` processes, N at a time: a finished run is
// skipped, an interrupted one resumed, a failing one marked failed while the others go on. POSIX. No Torch.
#pragma once
#include "core/sweep/sweep.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fan::sweep {

struct RunnerOptions {
  int jobs = 1;                    // runs at once
  int64_t threads = -1;            // ≥ 0: each run's "threads" (0: all cores); < 0: as planned
  std::filesystem::path fan;       // the `fan` executable the runs start
  double progress_seconds = 60;    // how often a progress line is printed per running run
  std::function<void(const std::string&)> log;  // progress lines (one per call)
};

enum class Outcome { kSkipped, kFinished, kStopped, kFailed };
std::string to_string(Outcome outcome);

struct RunOutcome {
  Outcome outcome = Outcome::kFailed;
  int exit_code = 0;
  std::string detail;  // the adapted top-1, or the failure's last log line
  double seconds = 0;
};

// Writes SWEEP_DIR/sweep.json (atomically) and the runs' project files SWEEP_DIR/projects/NAME.json.
// An existing plan must list the same runs (names and configs) first; the spec may add runs after them
// (more seeds for some cases). Anything else is an error saying what changed.
void write_plan(const std::filesystem::path& sweep_dir, const SweepSpec& spec, const std::vector<PlannedRun>& runs);
// The plan in SWEEP_DIR/sweep.json.
std::vector<PlannedRun> read_plan(const std::filesystem::path& sweep_dir);

// Runs one planned run to its end (the Slurm array task): skipped when finished, resumed when it has
// a checkpoint, else started afresh in SWEEP_DIR/NAME (a directory left without a checkpoint is removed).
RunOutcome run_one(const std::filesystem::path& sweep_dir, const PlannedRun& run, const RunnerOptions& options,
                   const std::atomic<bool>* stop = nullptr);

// Runs every planned run, `jobs` at a time. `stop` set (Ctrl-C): no new run starts; running ones
// get SIGINT (they checkpoint and exit) and are waited for.
std::vector<RunOutcome> run_all(const std::filesystem::path& sweep_dir, const std::vector<PlannedRun>& runs,
                                const RunnerOptions& options, const std::atomic<bool>* stop = nullptr);

// A Slurm job-array script: array task k runs planned run k with `fan sweep --task k SWEEP_DIR`.
struct SlurmOptions {
  std::string partition, time = "24:00:00", mem;
  int cpus_per_task = 4;
  int gpus = 0;
  int max_parallel = 0;  // %N: at most N array tasks at once (0: no limit)
};
std::string slurm_script(const std::filesystem::path& sweep_dir, const std::string& name, size_t runs,
                         const std::filesystem::path& fan, const SlurmOptions& options);

}  // namespace fan::sweep
