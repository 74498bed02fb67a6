// How well each validator ranks: over the stage-2 evaluation points of many runs of one task, its
// rank correlation with target accuracy and what its pick gains over the last iterate.
// Target labels are read here only to score the validators, never to choose anything.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace fan::analysis {

// Spearman's rank correlation (ties get their average rank); NaN with fewer than 2 points or a constant side.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

struct ValidatorScore {
  std::string validator;
  double spearman = 0;            // validator (oriented: higher = better) vs curve test top-1, all points pooled
  int64_t points = 0;             // evaluation points pooled
  double pick_minus_last = 0;     // mean over runs: picked network's test top-1 − the last iterate's
  double pick_minus_oracle = 0;   // mean over runs: picked − the best test top-1 over the evaluation points
  int64_t runs = 0;
};

struct TaskStudy {
  std::string task;  // "mnist→usps sampled, full": pair, protocol and method
  std::string pair;  // "mnist→usps": the source and target datasets (both protocols share the target's test set)
  std::vector<std::filesystem::path> runs;
  double mean_last = 0, mean_oracle = 0;  // mean test top-1 of the last iterate and of the oracle pick
  std::vector<ValidatorScore> scores;     // by validator name
};

// Finds finished runs in `paths` (run directories, or folders holding them, one level down),
// groups them by task (source → target, protocol and method) and scores every validator per task.
// A run without validator records is listed in `skipped` with why.
std::vector<TaskStudy> rank_validators(const std::vector<std::filesystem::path>& paths,
                                       std::vector<std::string>* skipped = nullptr);

// "mnist→usps" from a run's config (source and target datasets; a folder dataset with its folder).
std::string pair_of(const nlohmann::json& config);

// Leave one pair out: for each pair, the validator to pick its checkpoints with, chosen on the
// *other* pairs' tasks only (highest mean Spearman ρ over them), so that no pair's own target
// labels choose anything. Only validators that pick (not d_accuracy) and that every run of the pair
// can use are candidates, and of those only the ones scored on as many of the other pairs' tasks as
// the best covered (a mean over fewer tasks does not compare). validator empty when no other pair
// scores any.
struct HeldOutChoice {
  std::string pair;
  std::string validator;
  double mean_spearman = 0;             // over the tasks below
  std::vector<std::string> chosen_on;   // the other pairs' tasks
};
std::vector<HeldOutChoice> choose_leave_one_pair_out(const std::vector<TaskStudy>& tasks,
                                                     const std::map<std::string, std::vector<std::string>>& usable);

// A run's validator values at its last stage-2 evaluation of the target network (its metrics.jsonl),
// oriented so that higher means better (entropy, DEV and DEVN negated): what keeps one of several
// stage-2 draws without a label. step −1 and no values when the run has no validator records.
struct FinalScores {
  int64_t step = -1;
  std::map<std::string, double> values;
};
FinalScores final_validator_scores(const std::filesystem::path& run_dir);

std::string rank_study_markdown(const std::vector<TaskStudy>& tasks);
std::string rank_study_csv(const std::vector<TaskStudy>& tasks);

}  // namespace fan::analysis
