// The typed records of a run — its state, results, metric records and summary — and their JSON, in one place.
// No Torch: a front end that only reads runs (the runs table, `fan sweep --collect`) needs none.
#pragma once
#include "core/events/events.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace fan::io {

// The version of the records' JSON. Files without a "format" field were
// written before the records existed (format 1) and still load.
constexpr int kRecordFormat = 2;

// Where a run is: in stage 1, in stage 2, or finished.
enum class Stage { kSource = 1, kAdaptation = 2, kFinished = 3 };
std::string to_string(Stage stage);

// Accuracy of one network on one labelled set. per_class and confusion are
// empty where only top-1/top-5 are kept (AdaBN, source test).
struct Accuracy {
  double top1 = 0;
  double top5 = 0;
  std::vector<double> per_class;                // accuracy per true class
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
};

// A shuffled batch stream's place: resume continues with the next batch.
struct StreamPosition {
  int64_t epoch = 0;
  int64_t cursor = 0;
};

// How far a stage got: steps done, wall time across resumes, and its streams' positions.
struct StagePosition {
  int64_t step = 0;
  double seconds = 0;
  std::map<std::string, StreamPosition> streams;  // "source", "target"
};

// Streamed image folders: how long the network waited on the loader (this process's part of the stage).
struct LoaderWait {
  double waited_seconds = 0;
  double stage_seconds = 0;
};

// A network picked at one stage-2 evaluation point: by a validator (its best value so far) or,
// for information only, by the target test accuracy ("oracle": uses test labels).
struct Pick {
  int64_t step = 0;
  double value = 0;  // the validator's value (the curve's test top-1 for "oracle")
};

// A pick at the end of the run, its network evaluated on the whole target test set.
struct PickResult {
  int64_t step = 0;
  double value = 0;
  double top1 = 0, top5 = 0;
};

// What a checkpoint holds besides tensors: everything a resumed run needs to
// continue exactly, and the numbers measured so far.
struct RunState {
  Stage stage = Stage::kSource;
  StagePosition stage1, stage2;
  int64_t metrics_lines = 0;  // resume cuts metrics.jsonl back to this many lines
  std::optional<Accuracy> source_only;        // stage-1 network, target test
  std::optional<Accuracy> source_only_adabn;  // the same with target batch-norm statistics
  std::optional<Accuracy> source_test;        // stage-1 network, source test
  std::optional<Accuracy> adapted;            // target network after stage 2, target test
  std::optional<double> validation_source_only, validation_adapted;  // target.validation top-1
  std::vector<double> target_prior_estimate;  // stage2.source_prior = target_estimate
  std::map<int, LoaderWait> loader_wait;      // by stage
  // Wall seconds by what the run did, across resumes: "setup", "train_steps",
  // "evaluations", "previews", "checkpoints", "source_only_evaluation".
  std::map<std::string, double> seconds;
  // The best evaluation point so far per validator (and "oracle"); its target network is in
  // the run directory's picks (RunDirectory::pick_path).
  std::map<std::string, Pick> picks;

  const StagePosition& position(int stage_number) const { return stage_number == 1 ? stage1 : stage2; }
  StagePosition& position(int stage_number) { return stage_number == 1 ? stage1 : stage2; }
};

// What a run ends with: results.json.
struct Results {
  int format = kRecordFormat;
  std::string status = "finished";  // "finished" | "stopped"
  std::string name, variant, encoder, framing;
  int64_t seed = 0;
  nlohmann::json source, target;  // the resolved domain sections of the config
  std::optional<Accuracy> source_only, source_only_adabn, source_test, adapted;
  std::vector<double> target_prior_estimate;
  std::map<int, LoaderWait> loader_wait;
  // target.validation > 0: top-1 on the held-out labelled target training images.
  std::optional<double> validation_source_only, validation_adapted;
  int64_t validation_images = 0;
  // eval.images: the curves' evaluations used this many images per test set (0: all);
  // the numbers above always use the whole test sets.
  int64_t eval_images = 0;
  double stage1_seconds = 0, stage2_seconds = 0;
  int64_t stage1_steps = 0, stage2_steps = 0;
  std::map<std::string, double> seconds;  // RunState::seconds: where the wall time went
  std::string device;
  int64_t threads = 0;
  std::string fan_version, torch_version;
  std::string fan_commit;  // the source commit the program was built from ("" in runs made before it was recorded)
  // The CPU code paths the arithmetic took (util::CpuNumerics::to_json; null in runs made before it was
  // recorded): a rerun gives the same numbers where these match.
  nlohmann::json cpu;
  nlohmann::json proxy_a_distance;  // added by `fan figures` (null until then)
  // Checkpoint selection: per validator (and "oracle", for information: it uses test labels)
  // the step it picked and that network on the whole target test set; "last" is `adapted`.
  std::map<std::string, PickResult> picks;
  std::string selected = "last";  // stage2.select

  bool finished() const { return status == "finished"; }
  double total_seconds() const { return stage1_seconds + stage2_seconds; }
};

// One line of metrics.jsonl: a stage start, a logged step, an evaluation or the validators.
// The same value types as the live events, so a run read back from its
// directory and a run watched live feed the same producers.
using MetricRecord =
    std::variant<events::StageEvent, events::StepEvent, events::EvaluationEvent, events::ValidatorEvent>;
int stage_of(const MetricRecord& record);

// A run directory at a glance, for tables and comparisons.
struct RunSummary {
  enum class Status { kNotARun, kStarted, kResumable, kFinished, kUnreadable };
  std::filesystem::path path;
  Status status = Status::kNotARun;
  std::string problem;           // kUnreadable: which file and what is wrong
  nlohmann::json config;         // the resolved config (null when not a run)
  std::string name, variant;     // from the config
  int64_t seed = 0;
  std::optional<Stage> stage;    // kResumable: where the checkpoint stands
  int64_t step = 0;              // kResumable: steps done in that stage
  std::optional<Results> results;
  std::filesystem::path config_path, metrics_path, checkpoint_path, results_path;
};
std::string to_string(RunSummary::Status status);

// JSON of each record. from_json takes `origin` (a file name, or
// "file:line") and throws fan::Error naming it and the field when a field is
// missing or has the wrong type.
nlohmann::json to_json(const Accuracy& a);
nlohmann::json to_json(const RunState& state);
nlohmann::json to_json(const Results& results);
nlohmann::json to_json(const MetricRecord& record);
Accuracy accuracy_from_json(const nlohmann::json& j, const std::string& origin);
RunState run_state_from_json(const nlohmann::json& j, const std::string& origin);
Results results_from_json(const nlohmann::json& j, const std::string& origin);
MetricRecord metric_record_from_json(const nlohmann::json& j, const std::string& origin);

}  // namespace fan::io
