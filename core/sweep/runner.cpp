#include "core/sweep/runner.h"

#include "core/io/config_schema.h"
#include "core/io/run_dir.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace fan::sweep {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string last_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

std::string seconds_text(double s) {
  char buf[32];
  if (s >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

// A started child: its pid and what it is.
struct Child {
  pid_t pid = -1;
  size_t run = 0;
  Clock::time_point started, last_progress;
  bool interrupted = false;
};

// What run_one does before it starts a process, and the argv it starts.
struct Launch {
  bool skip = false;
  std::vector<std::string> argv;
};

Launch prepare(const std::filesystem::path& sweep_dir, const PlannedRun& run, const RunnerOptions& options) {
  const auto dir = sweep_dir / run.name;
  io::RunDirectory rd(dir);
  const auto summary = rd.summary();
  if (summary.status == io::RunSummary::Status::kFinished) return {true, {}};
  const auto fan = options.fan.string();
  if (summary.status == io::RunSummary::Status::kResumable) return {false, {fan, "resume", dir.string(), "--quiet"}};
  // An unreadable run (a corrupt checkpoint or results) is never deleted: it fails, saying what is wrong.
  if (summary.status == io::RunSummary::Status::kUnreadable)
    throw Error(dir.string() + ": " + summary.problem + " (left as it is; remove the directory to run it again)");
  // Nothing to continue from: start afresh (a run killed before its first checkpoint leaves a directory).
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot remove the unfinished run (" + ec.message() + ")");
  json config = run.config;
  if (options.threads >= 0) config["threads"] = options.threads;
  // stage1.from may name another run of this sweep: "{sweep}" is the sweep directory, "{seed}" this run's seed.
  if (const auto from = io::get_path(config, "stage1.from"); from.is_string()) {
    auto text = from.get<std::string>();
    for (const auto& [token, value] : {std::pair<std::string, std::string>{"{sweep}", sweep_dir.string()},
                                       std::pair<std::string, std::string>{"{seed}", std::to_string(run.seed)}})
      for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + value.size()))
        text.replace(at, token.size(), value);
    config["stage1"]["from"] = text;
  }
  const auto project = sweep_dir / "projects" / (run.name + ".json");
  std::filesystem::create_directories(project.parent_path());
  util::atomic_write(project, config.dump(2) + "\n");
  return {false, {fan, "run", project.string(), "--out", dir.string(), "--quiet"}};
}

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(argv[0] + ": cannot start (" + std::strerror(rc) + ")");
  return pid;
}

RunOutcome outcome_of(const std::filesystem::path& sweep_dir, const PlannedRun& run, int status, double seconds) {
  RunOutcome out;
  out.seconds = seconds;
  const auto log = sweep_dir / (run.name + ".log");
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) out.exit_code = 128 + WTERMSIG(status);
  if (out.exit_code == 0) {
    const auto summary = io::RunDirectory(sweep_dir / run.name).summary();
    if (summary.status == io::RunSummary::Status::kFinished && summary.results) {
      out.outcome = Outcome::kFinished;
      if (summary.results->adapted) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "adapted %.4f", summary.results->adapted->top1);
        out.detail = buf;
      }
      return out;
    }
    out.outcome = Outcome::kFailed;
    out.detail = "exited 0 without finished results (" + io::to_string(summary.status) + ")";
    return out;
  }
  if (out.exit_code == 3) {
    out.outcome = Outcome::kStopped;
    out.detail = "stopped; resumable";
    return out;
  }
  out.outcome = Outcome::kFailed;
  out.detail = "exit " + std::to_string(out.exit_code) + ": " + last_line(log) + " (log: " + log.string() + ")";
  return out;
}

// The last complete line of a file (read from its end), empty when none.
std::string last_complete_line(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<int64_t>(in.tellg());
  const int64_t take = std::min<int64_t>(size, 16384);
  std::string tail(static_cast<size_t>(take), '\0');
  in.seekg(size - take);
  in.read(tail.data(), take);
  const auto end = tail.rfind('\n');
  if (end == std::string::npos || end == 0) return {};
  const auto before = tail.rfind('\n', end - 1);
  const size_t begin = before == std::string::npos ? 0 : before + 1;
  return tail.substr(begin, end - begin);  // a line cut by the window does not parse: the caller falls back
}

std::string progress_of(const std::filesystem::path& dir, const json& config) {
  // The last logged step of metrics.jsonl, else where the checkpoint stands.
  const io::RunDirectory rd(dir);
  const auto line = last_complete_line(rd.metrics_path());
  if (!line.empty()) {
    const auto j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("stage") && j.contains("step") && j["stage"].is_number_integer() &&
        j["step"].is_number_integer()) {
      const int stage = j["stage"].get<int>();
      std::string of;
      if (stage == 2 && config.contains("stage2")) of = "/" + config["stage2"].value("iterations", json()).dump();
      return "stage " + std::to_string(stage) + " step " + std::to_string(j["step"].get<int64_t>()) + of;
    }
  }
  const auto s = rd.summary();
  if (s.status == io::RunSummary::Status::kResumable && s.stage)
    return "at " + io::to_string(*s.stage) + " step " + std::to_string(s.step) + " (last checkpoint)";
  return io::to_string(s.status);
}

}  // namespace

std::string to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSkipped: return "skipped (finished before)";
    case Outcome::kFinished: return "finished";
    case Outcome::kStopped: return "stopped";
    case Outcome::kFailed: return "failed";
  }
  return "?";
}

void write_plan(const std::filesystem::path& sweep_dir, const SweepSpec& spec, const std::vector<PlannedRun>& runs) {
  std::filesystem::create_directories(sweep_dir);
  const auto path = plan_path(sweep_dir);
  if (std::filesystem::exists(path)) {
    const auto before = plan_from_json(io::read_json_file(path), path.string());
    // The spec may add runs after the planned ones (more seeds for some cases), never drop or change one.
    if (before.size() > runs.size())
      throw Error(path.string() + ": this directory holds another sweep (" + std::to_string(before.size()) +
                  " runs planned, the spec now expands to " + std::to_string(runs.size()) +
                  "); use another --out or remove the directory");
    for (size_t i = 0; i < before.size(); ++i) {
      if (before[i].name != runs[i].name)
        throw Error(path.string() + ": run " + std::to_string(i) + " was \"" + before[i].name + "\", the spec now "
                    "gives \"" + runs[i].name + "\"; use another --out or remove the directory");
      // A key added to the schema since the plan was written, at its default, is no change.
      auto d = diff(before[i].config, runs[i].config);
      d.erase(std::remove_if(d.begin(), d.end(),
                             [](const Difference& x) {
                               const auto* f = io::find_field(x.key);
                               return f != nullptr && ((x.a.is_null() && x.b == f->default_value) ||
                                                       (x.b.is_null() && x.a == f->default_value));
                             }),
              d.end());
      if (!d.empty())
        throw Error(path.string() + ": run " + runs[i].name + ": its config changed at " + d.front().key + " (" +
                    d.front().a.dump() + " → " + d.front().b.dump() + "); use another --out or remove the directory");
    }
  }
  util::atomic_write(path, plan_to_json(spec, runs).dump(1) + "\n");
}

std::vector<PlannedRun> read_plan(const std::filesystem::path& sweep_dir) {
  const auto path = plan_path(sweep_dir);
  if (!std::filesystem::exists(path)) throw Error(sweep_dir.string() + ": not a sweep directory (no sweep.json)");
  return plan_from_json(io::read_json_file(path), path.string());
}

RunOutcome run_one(const std::filesystem::path& sweep_dir, const PlannedRun& run, const RunnerOptions& options,
                   const std::atomic<bool>* stop) {
  RunnerOptions single = options;
  single.jobs = 1;
  const auto outcomes = run_all(sweep_dir, {run}, single, stop);
  return outcomes.front();
}

std::vector<RunOutcome> run_all(const std::filesystem::path& sweep_dir, const std::vector<PlannedRun>& runs,
                                const RunnerOptions& options, const std::atomic<bool>* stop) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  const size_t total = runs.size();
  std::vector<RunOutcome> outcomes(total);
  std::vector<bool> done(total, false);
  std::map<pid_t, Child> children;
  size_t next = 0, finished = 0, failed = 0, skipped = 0, stopped = 0;
  const auto sweep_start = Clock::now();
  auto label = [&](size_t i) { return "[" + std::to_string(i + 1) + "/" + std::to_string(total) + "] " + runs[i].name; };
  auto overall = [&] {
    return "sweep: " + std::to_string(finished + skipped) + "/" + std::to_string(total) + " finished (" +
           std::to_string(skipped) + " before), " + std::to_string(children.size()) + " running, " +
           std::to_string(failed) + " failed" + (stopped ? ", " + std::to_string(stopped) + " stopped" : "") + ", " +
           seconds_text(std::chrono::duration<double>(Clock::now() - sweep_start).count());
  };
  const int jobs = std::max(1, options.jobs);
  bool stopping = false;
  while (true) {
    if (stop != nullptr && stop->load() && !stopping) {
      stopping = true;
      for (auto& [pid, c] : children) {
        kill(pid, SIGINT);
        c.interrupted = true;
      }
      if (!children.empty()) log("sweep: stopping — the running runs write a checkpoint and stop");
    }
    while (!stopping && next < total && static_cast<int>(children.size()) < jobs) {
      const size_t i = next++;
      Launch launch;
      Child c;
      c.run = i;
      try {
        launch = prepare(sweep_dir, runs[i], options);
        if (!launch.skip) c.pid = spawn(launch.argv, sweep_dir / (runs[i].name + ".log"));
      } catch (const Error& e) {
        outcomes[i] = {Outcome::kFailed, -1, e.what(), 0};
        done[i] = true;
        ++failed;
        log(label(i) + ": failed before starting: " + e.what());
        continue;
      }
      if (launch.skip) {
        outcomes[i] = {Outcome::kSkipped, 0, "finished before", 0};
        done[i] = true;
        ++skipped;
        log(label(i) + ": skipped (finished before)");
        continue;
      }
      c.started = c.last_progress = Clock::now();
      children[c.pid] = c;
      log(label(i) + ": " + (launch.argv[1] == "resume" ? "resumed" : "started") + " (log: " +
          (sweep_dir / (runs[i].name + ".log")).string() + ")");
    }
    if (children.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && children.count(pid)) {
      const auto c = children[pid];
      children.erase(pid);
      const double seconds = std::chrono::duration<double>(Clock::now() - c.started).count();
      auto out = outcome_of(sweep_dir, runs[c.run], status, seconds);
      outcomes[c.run] = out;
      done[c.run] = true;
      if (out.outcome == Outcome::kFinished) ++finished;
      else if (out.outcome == Outcome::kStopped) ++stopped;
      else ++failed;
      log(label(c.run) + ": " + to_string(out.outcome) + " in " + seconds_text(seconds) +
          (out.detail.empty() ? "" : " — " + out.detail));
      log(overall());
      continue;
    }
    if (pid < 0 && errno == ECHILD) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto now = Clock::now();
    for (auto& [p, c] : children)
      if (options.progress_seconds > 0 &&
          std::chrono::duration<double>(now - c.last_progress).count() >= options.progress_seconds) {
        c.last_progress = now;
        log(label(c.run) + ": running " + seconds_text(std::chrono::duration<double>(now - c.started).count()) +
            ", " + progress_of(sweep_dir / runs[c.run].name, runs[c.run].config));
      }
  }
  for (size_t i = 0; i < total; ++i)
    if (!done[i]) outcomes[i] = {Outcome::kStopped, 0, "not started", 0};
  return outcomes;
}

std::string slurm_script(const std::filesystem::path& sweep_dir, const std::string& name, size_t runs,
                         const std::filesystem::path& fan, const SlurmOptions& options) {
  if (runs == 0) throw Error("slurm: the sweep expands to no runs");
  const auto dir = std::filesystem::absolute(sweep_dir).lexically_normal().string();
  auto quote = [](const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  };
  std::ostringstream s;
  s << "#!/usr/bin/env bash\n"
    << "# Slurm job array for the sweep \"" << name << "\": array task k runs planned run k of\n"
    << "# " << dir << "/sweep.json (" << runs << " runs). Submit: sbatch " << dir << "/sweep.slurm\n"
    << "# Collect: fan sweep --collect " << dir << "\n"
    << "#SBATCH --job-name=" << name << "\n"
    << "#SBATCH --array=0-" << runs - 1 << (options.max_parallel > 0 ? "%" + std::to_string(options.max_parallel) : "")
    << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << options.cpus_per_task << "\n"
    << "#SBATCH --time=" << options.time << "\n"
    << "#SBATCH --output=" << dir << "/slurm-%A_%a.out\n";
  if (!options.partition.empty()) s << "#SBATCH --partition=" << options.partition << "\n";
  if (!options.mem.empty()) s << "#SBATCH --mem=" << options.mem << "\n";
  if (options.gpus > 0) s << "#SBATCH --gpus=" << options.gpus << "\n";
  s << "set -euo pipefail\n"
    << ": \"${SLURM_ARRAY_TASK_ID:?submit with sbatch, or set SLURM_ARRAY_TASK_ID to a run index}\"\n"
    << "FAN=\"${FAN_BIN:-" << fan.string() << "}\"\n"
    << "exec \"$FAN\" sweep --task \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-"
    << options.cpus_per_task << "}\" " << quote(dir) << "\n";
  return s.str();
}

}  // namespace fan::sweep
