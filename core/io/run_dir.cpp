// A run's directory and its metrics stream.
#include "core/io/run_dir.h"

#include "core/io/checkpoint.h"
#include "core/io/config.h"

#include "core/util/error.h"
#include "core/util/fs.h"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <sstream>

namespace fan::io {

void RunDirectory::create(const nlohmann::json& config) const {
  if (std::filesystem::exists(checkpoint_path()) || std::filesystem::exists(results_path()))
    throw Error(path_.string() + ": already holds a run; continue it with `fan resume " + path_.string() +
                "` or choose another --out");
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec) throw Error(path_.string() + ": cannot create the run directory (" + ec.message() + ")");
  try {
    util::atomic_write(config_path(), config.dump(2) + "\n");
  } catch (const std::exception& e) {
    throw Error(path_.string() + ": the run directory is not writable (" + e.what() + ")");
  }
}

nlohmann::json RunDirectory::read_config() const {
  if (!std::filesystem::exists(config_path()))
    throw Error(config_path().string() + ": missing (" + path_.string() + " is not a run directory)");
  return read_json_file(config_path());
}

void RunDirectory::write_results(const Results& results) const {
  util::atomic_write(results_path(), to_json(results).dump(2) + "\n");
}

Results RunDirectory::read_results() const {
  std::ifstream in(results_path());
  if (!in) throw Error(results_path().string() + ": no results (the run has not finished)");
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(results_path().string() + ": not valid JSON");
  return results_from_json(j, results_path().string());
}

std::vector<MetricRecord> RunDirectory::read_metrics() const {
  std::vector<MetricRecord> records;
  std::ifstream in(metrics_path());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(std::move(line));
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string origin = metrics_path().string() + ":" + std::to_string(i + 1);
    const auto j = nlohmann::json::parse(lines[i], nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      if (i + 1 == lines.size()) break;  // torn by a kill mid-write; resume cuts it off
      throw Error(origin + ": not valid JSON");
    }
    records.push_back(metric_record_from_json(j, origin));
  }
  return records;
}

RunState RunDirectory::read_state() const {
  return run_state_from_json(read_checkpoint_state(checkpoint_path()), checkpoint_path().string());
}

RunSummary RunDirectory::summary() const {
  RunSummary s;
  s.path = path_;
  s.config_path = config_path();
  s.metrics_path = metrics_path();
  s.checkpoint_path = checkpoint_path();
  s.results_path = results_path();
  if (!std::filesystem::exists(config_path())) return s;  // kNotARun
  try {
    s.config = read_config();
    s.name = s.config.value("name", "");
    if (s.config.contains("model") && s.config["model"].is_object())
      s.variant = s.config["model"].value("variant", "");
    if (s.config.contains("seed") && s.config["seed"].is_number_integer()) s.seed = s.config["seed"].get<int64_t>();
    if (has_results()) {
      s.results = read_results();
      s.status = RunSummary::Status::kFinished;
    } else if (has_checkpoint()) {
      const auto state = read_state();
      s.stage = state.stage;
      s.step = state.stage == Stage::kSource ? state.stage1.step : state.stage2.step;
      s.status = RunSummary::Status::kResumable;
    } else {
      s.status = RunSummary::Status::kStarted;
    }
  } catch (const std::exception& e) {
    s.status = RunSummary::Status::kUnreadable;
    s.problem = e.what();
  }
  return s;
}

std::filesystem::path RunDirectory::default_for(const std::string& name, const std::filesystem::path& base) {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream os;
  os << name << "-" << std::put_time(&tm, "%Y%m%d-%H%M%S");
  // Two runs started within the same second get distinct directories.
  auto path = base / os.str();
  for (int n = 2; std::filesystem::exists(path); ++n) path = base / (os.str() + "-" + std::to_string(n));
  return path;
}

MetricsWriter::MetricsWriter(const std::filesystem::path& path, int64_t keep_lines) : path_(path) {
  if (keep_lines >= 0 && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string kept, line;
    while (lines_ < keep_lines && std::getline(in, line)) {
      kept += line + "\n";
      ++lines_;
    }
    in.close();
    util::atomic_write(path, kept);
  } else if (keep_lines < 0 && std::filesystem::exists(path)) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) ++lines_;
  } else if (keep_lines >= 0) {
    lines_ = 0;
  }
  out_.open(path, std::ios::app);
  if (!out_) throw Error(path.string() + ": cannot open for writing");
}

void MetricsWriter::write(const MetricRecord& record) {
  out_ << to_json(record).dump() << "\n";
  out_.flush();
  if (!out_) throw Error(path_.string() + ": cannot write the metrics (disk full or no permission?)");
  ++lines_;
}

void MetricsWriter::on_stage(const events::StageEvent& e) { write(e); }
void MetricsWriter::on_step(const events::StepEvent& e) { write(e); }
void MetricsWriter::on_evaluation(const events::EvaluationEvent& e) { write(e); }
void MetricsWriter::on_validators(const events::ValidatorEvent& e) { write(e); }

}  // namespace fan::io
