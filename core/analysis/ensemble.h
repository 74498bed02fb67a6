// Several runs' adapted target networks as one classifier: their softmax outputs averaged.
// Beyond the paper: on MNIST→MNIST-M each stage-2 draw of one stage-1 network fails by merging a
// class pair of its own (bench/results/selection_mnistm_draws.md), so the draws may outvote each
// other's merges. Nothing here uses a label to choose: the members are all the runs given.
#pragma once
#include "core/train/evaluation.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fan::analysis {

struct EnsembleMember {
  std::filesystem::path run_dir;
  double test_top1 = 0;                 // the member alone on the target test set
  std::optional<double> validation_top1;  // alone on the held-out target.validation images
};

struct EnsembleResult {
  std::vector<EnsembleMember> members;
  std::string network;                          // "last" or the validator pick each member used
  train::Evaluation test;                       // the ensemble on the target test set
  std::optional<train::Evaluation> validation;  // on target.validation, when the runs hold images out
  int64_t test_images = 0, validation_images = 0;
};

// Loads every run (analysis::load_run with `network`), checks that they are adapted and classify
// the same target images (the same test set and the same held-out validation images, so draws of one
// seed; runs of different seeds hold out different images and are refused, naming the run), and
// evaluates each member and the mean of their softmax probabilities. fan::Error with fewer than two runs.
EnsembleResult evaluate_ensemble(const std::vector<std::filesystem::path>& run_dirs,
                                 const std::string& network = "last", int64_t batch_size = 500);

nlohmann::json to_json(const EnsembleResult& result);

}  // namespace fan::analysis
