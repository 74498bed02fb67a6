// A run's networks rebuilt from its directory, their features (hd, ht, logits), and the Fig. 6b swap.
#pragma once
#include "core/data/dataset.h"
#include "core/io/config.h"
#include "core/io/records.h"
#include "core/models/fan_net.h"

#include <filesystem>
#include <vector>

namespace fan::analysis {

// A run's networks and test sets, read-only: nothing in the run directory is
// written (unlike Experiment::resume, which reopens the metric stream), so this is
// safe on a run that is still training.
struct RunModels {
  std::filesystem::path run_dir;
  io::ExperimentConfig config;
  data::Dataset source_test, target_test;
  data::Dataset target_validation;  // the labelled target training images the run held out (target.validation); may be empty
  models::FanNet source{nullptr};  // the stage-1 network (frozen in stage 2)
  models::FanNet target{nullptr};  // the adapted network; null before stage 2
  io::Stage stage = io::Stage::kSource;  // where the checkpoint stands
  std::string network = "last";          // which target network: the last iterate, or a validator's pick
  bool adapted() const { return !target.is_empty(); }
};

// Reads the config and checkpoint of `run_dir` (io::RunDirectory), loads the test sets from
// the data root, rebuilds the networks (CPU, eval mode). fan::Error when the
// run has no checkpoint yet or its files do not match.
// `network`: "last" (the checkpoint's target network) or the name of a validator whose pick
// (stage2.select, checkpoint selection) replaces it; an unknown pick is a fan::Error listing the picks.
RunModels load_run(const std::filesystem::path& run_dir, const std::string& network = "last");

// What one network gives for a set of images (CPU float tensors, N×·).
struct Features {
  torch::Tensor domain_specific;  // hd
  torch::Tensor task_specific;    // ht
  torch::Tensor logits;           // hl
};

// Runs `net` in eval mode, without gradients, in batches.
Features extract_features(models::FanNet& net, const torch::Tensor& images, int64_t batch_size = 500);

// The rows `rows` of `t` (on t's device).
torch::Tensor select_rows(const torch::Tensor& t, const std::vector<int64_t>& rows);

// `count` distinct indices in [0, n), seeded, in increasing order (all when count ≥ n).
std::vector<int64_t> sample_indices(int64_t n, int64_t count, uint64_t seed);

// Fig. 6b: each target image's hd decoded with the logits of a random source
// image of the same class ("the DSS carries the domain's style").
struct SwapResult {
  std::vector<int64_t> source_partner;   // per target image: the source image whose logits were used
  torch::Tensor target_domain_specific;  // hd of each target image (target network)
  torch::Tensor source_logits;           // logits of each partner (source network)
  torch::Tensor reconstruction;          // target decoder(hd_target, logits_source)
};

// `decoder_net` decodes (the adapted target network); `target_net` gives hd of
// target images; `source_net` gives the logits of source images. Partners
// are drawn per class from `source_labels` with `seed`; a class the source
// lacks is a fan::Error.
SwapResult swap_reconstructions(models::FanNet& target_net, models::FanNet& source_net,
                                const torch::Tensor& target_images, const torch::Tensor& target_labels,
                                const torch::Tensor& source_images, const torch::Tensor& source_labels,
                                uint64_t seed);

// Images (N×C×H×W in [0, 1]) laid out as rows of `columns` tiles with a
// `gap`-pixel white border, each tile scaled up by `zoom` (nearest):
// C×H'×W' float in [0, 1], ready for data::write_image.
torch::Tensor image_grid(const std::vector<torch::Tensor>& rows, int64_t zoom = 2, int64_t gap = 2);

}  // namespace fan::analysis
