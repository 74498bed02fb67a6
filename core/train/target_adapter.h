// Stage 2: adversarial adaptation of the target network against a frozen source network.
#pragma once
#include "core/models/discriminator.h"
#include "core/models/fan_net.h"
#include "core/train/gradient_sync.h"

#include <torch/optim.h>

#include <map>
#include <string>

namespace fan::train {

struct TargetAdapterOptions {
  double mu = 2.0;  // weight of L_advD (discriminator)
  double nu = 1.0;  // weight of L_advM (target network)
  double beta = 1.0;
  bool target_mutual_information = false;  // β·Lm on the target side too
  bool lm_per_unit = true;
  // Beyond the paper: weight of the information-maximisation term on the target's predictions (0: off).
  double information_maximization = 0;
  double lr = 2e-4;                // target network
  double discriminator_lr = 2e-4;  // discriminator
  double beta1 = 0.5;
  double beta2 = 0.999;
  bool train_classifier = true;     // false: the target's logit map M stays the source's (no gradient, not stepped)
  int64_t logit_batch_size = 1000;  // batch for precomputing the source logits
  bool mixed_precision = false;     // bfloat16 autocast on CUDA
};

class TargetAdapter {
 public:
  // `target` must already hold the trained source weights (see copy_state).
  // Encoder stages the target shares with the source stay frozen: they are
  // source parameters, so they get no gradient and are not in the target's optimizer.
  TargetAdapter(models::FanNet source, models::FanNet target, models::Discriminator discriminator,
                const TargetAdapterOptions& options);

  // The frozen source network's logits on every source training image,
  // computed once: they cannot change during stage 2.
  void precompute_source_logits(const torch::Tensor& source_images);
  const torch::Tensor& source_logits() const { return source_logits_; }

  // One step: D on the joint batch [source logits; target logits] with μ·L_advD,
  // then the target network with ν·L_advM + Lr through the updated D.
  // Returns "L_advD", "L_advM", "Lr", "Lm" and "Lim" (when enabled), "total", "D_acc".
  std::map<std::string, double> step(const torch::Tensor& source_indices, const torch::Tensor& target_images);
  // The same step with the source logits given (augmented or streamed source
  // images, whose logits cannot be computed once: see source_logits_of).
  std::map<std::string, double> step_with_logits(const torch::Tensor& source_logits,
                                                 const torch::Tensor& target_images);
  // The frozen source network's logits on a batch (eval mode, no gradient).
  torch::Tensor source_logits_of(const torch::Tensor& source_images);

  // Data-parallel runs: called after each backward pass (the discriminator's, then the target
  // network's) with the parameters that step updates.
  void set_gradient_sync(GradientSync sync) { sync_ = std::move(sync); }

  models::FanNet& source() { return source_; }
  models::FanNet& target() { return target_; }
  models::Discriminator& discriminator() { return discriminator_; }
  torch::optim::Adam& target_optimizer() { return target_optimizer_; }
  torch::optim::Adam& discriminator_optimizer() { return discriminator_optimizer_; }

 private:
  models::FanNet source_;
  models::FanNet target_;
  models::Discriminator discriminator_;
  TargetAdapterOptions options_;
  torch::optim::Adam target_optimizer_;
  torch::optim::Adam discriminator_optimizer_;
  torch::Tensor source_logits_;
  GradientSync sync_;
};

}  // namespace fan::train
