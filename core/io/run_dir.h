// A run's directory: config.json, metrics.jsonl, checkpoint.pt, results.json — the only code that names them.
#pragma once
#include "core/events/events.h"
#include "core/io/records.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace fan::io {

class RunDirectory {
 public:
  explicit RunDirectory(std::filesystem::path path) : path_(std::move(path)) {}

  // Makes the directory for a new run and writes config.json. Refuses a
  // directory that already holds a run (resume it instead), and checks that
  // it is writable before any training starts.
  void create(const nlohmann::json& config) const;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path config_path() const { return path_ / "config.json"; }
  std::filesystem::path metrics_path() const { return path_ / "metrics.jsonl"; }
  std::filesystem::path checkpoint_path() const { return path_ / "checkpoint.pt"; }
  std::filesystem::path results_path() const { return path_ / "results.json"; }
  // The target network a validator picked (stage2.select, checkpoint selection).
  std::filesystem::path pick_path(const std::string& validator) const { return path_ / "picks" / (validator + ".pt"); }

  bool has_checkpoint() const { return std::filesystem::exists(checkpoint_path()); }
  bool has_results() const { return std::filesystem::exists(results_path()); }

  // The resolved config as written by create() (fan::Error naming the file when unreadable).
  nlohmann::json read_config() const;
  void write_results(const Results& results) const;
  Results read_results() const;
  // Every record of metrics.jsonl. A torn last line (a run killed mid-write)
  // is ignored; any other bad line is a fan::Error naming the file, the line and the field.
  std::vector<MetricRecord> read_metrics() const;
  // The state in the checkpoint (no tensors read).
  RunState read_state() const;
  // What the directory holds, never throwing: an unreadable file gives kUnreadable and the problem.
  RunSummary summary() const;

  // A default directory for a new run that does not exist yet:
  // runs/<name>-<yyyymmdd-hhmmss>, with -2, -3, … when that is taken.
  static std::filesystem::path default_for(const std::string& name, const std::filesystem::path& base = "runs");

 private:
  std::filesystem::path path_;
};

// Appends one JSON line per logged step and evaluation to metrics.jsonl. The
// line count goes into each checkpoint; resume truncates back to it, so the
// file continues exactly as an uninterrupted run's would.
class MetricsWriter : public events::EventSink {
 public:
  // Opens for append after keeping only the first `keep_lines` lines (all when < 0).
  MetricsWriter(const std::filesystem::path& path, int64_t keep_lines = -1);
  void on_step(const events::StepEvent& e) override;
  void on_evaluation(const events::EvaluationEvent& e) override;
  void on_stage(const events::StageEvent& e) override;
  void on_validators(const events::ValidatorEvent& e) override;
  int64_t lines() const { return lines_; }

 private:
  void write(const MetricRecord& record);
  std::filesystem::path path_;
  std::ofstream out_;
  int64_t lines_ = 0;
};

}  // namespace fan::io
