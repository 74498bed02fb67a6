// Accuracy of a network on a labelled set: top-1, top-5, per class, confusion matrix.
#pragma once
#include "core/data/dataset.h"
#include "core/data/image_set.h"
#include "core/models/fan_net.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace fan::train {

struct Evaluation {
  double top1 = 0;
  double top5 = 0;
  std::vector<double> per_class;                // accuracy per true class
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
  nlohmann::json to_json() const;
};

// Metrics from logits (N×K) and labels (N); top-5 becomes top-K when K < 5.
Evaluation evaluate_logits(const torch::Tensor& logits, const torch::Tensor& labels, int64_t num_classes);

// Evaluates `net` in eval mode (no gradients) on `data`, in batches.
Evaluation evaluate(models::FanNet& net, const data::Dataset& data, int64_t batch_size);

// The same on any image set (the test view of streamed folders, decoded on
// `workers` threads), batches moved to the network's device.
Evaluation evaluate(models::FanNet& net, const data::ImageSet& set, int64_t batch_size, int64_t workers);

// Logits of `net` in eval mode on `images`, in batches.
torch::Tensor predict_logits(models::FanNet& net, const torch::Tensor& images, int64_t batch_size);

// AdaBN: re-estimates every batch-norm layer's statistics of `net` on
// `images` (cumulative average over one pass in batches), weights untouched.
void reestimate_batch_norm(models::FanNet& net, const torch::Tensor& images, int64_t batch_size);
// The same over a set's test view; `limit` caps the images used (-1: all).
void reestimate_batch_norm(models::FanNet& net, const data::ImageSet& set, int64_t batch_size, int64_t workers,
                           int64_t limit = -1);

}  // namespace fan::train
