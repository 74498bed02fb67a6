// A run's directory and its metrics stream.
#include "core/io/run_dir.h"

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

void RunDirectory::write_results(const nlohmann::json& results) const {
  util::atomic_write(results_path(), results.dump(2) + "\n");
}

nlohmann::json RunDirectory::read_results() const {
  std::ifstream in(results_path());
  if (!in) throw Error(results_path().string() + ": no results (the run has not finished)");
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(results_path().string() + ": not valid JSON");
  return j;
}

std::vector<nlohmann::json> RunDirectory::read_metrics() const {
  std::vector<nlohmann::json> records;
  std::ifstream in(metrics_path());
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) records.push_back(std::move(j));
  }
  return records;
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

void MetricsWriter::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
  if (!out_) throw Error(path_.string() + ": cannot write the metrics (disk full or no permission?)");
  ++lines_;
}

void MetricsWriter::on_stage(const train::StageEvent& e) {
  write({{"type", "stage"}, {"stage", e.stage}, {"name", e.name}, {"total_steps", e.total_steps}});
}

void MetricsWriter::on_step(const train::StepEvent& e) {
  write({{"type", "step"}, {"stage", e.stage}, {"step", e.step}, {"epoch", e.epoch},
         {"losses", e.losses}, {"lr", e.learning_rates}, {"images_per_second", e.images_per_second},
         {"elapsed_seconds", e.elapsed_seconds}});
}

void MetricsWriter::on_evaluation(const train::EvaluationEvent& e) {
  write({{"type", "evaluation"}, {"stage", e.stage}, {"step", e.step}, {"split", e.split},
         {"network", e.network}, {"top1", e.top1}, {"top5", e.top5}, {"per_class", e.per_class}});
}

}  // namespace fan::io
