// Stage 1: train the source network with α·Lc + β·Lm + Lr.
#pragma once
#include "core/models/fan_net.h"
#include "core/train/gradient_sync.h"

#include <torch/optim.h>

#include <map>
#include <string>

namespace fan::train {

struct SourceTrainerOptions {
  double alpha = 2.0;  // weight of Lc
  double beta = 1.0;   // weight of Lm (only the full variant has Lm)
  bool lm_per_unit = true;  // Lm on the mean of ht∘hd rather than the sum (see losses.h)
  double lr = 2e-4;
  double beta1 = 0.5;
  double beta2 = 0.999;
  bool mixed_precision = false;  // bfloat16 autocast on CUDA
};

class SourceTrainer {
 public:
  SourceTrainer(models::FanNet net, const SourceTrainerOptions& options);

  // One optimisation step on a labelled source batch. Returns the loss terms
  // by name: "Lc", "Lm" (full only), "Lr" (variants with a decoder), "total".
  std::map<std::string, double> step(const torch::Tensor& images, const torch::Tensor& labels);

  // Data-parallel runs: called with the network's parameters after the backward pass.
  void set_gradient_sync(GradientSync sync) { sync_ = std::move(sync); }

  models::FanNet& net() { return net_; }
  torch::optim::Adam& optimizer() { return optimizer_; }
  const SourceTrainerOptions& options() const { return options_; }

 private:
  models::FanNet net_;
  SourceTrainerOptions options_;
  torch::optim::Adam optimizer_;
  GradientSync sync_;
};

}  // namespace fan::train
