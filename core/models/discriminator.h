// The domain discriminator on logits: says source (1) or target (0).
#pragma once
#include <torch/nn.h>

namespace fan::models {

// FC hidden → ReLU → [BN]; FC hidden → ReLU → [BN]; FC 1 (a logit, not a probability).
// Batch norm is optional: FAN-SPEC measured a BN-free D adapting better on digits.
struct DiscriminatorImpl : torch::nn::Module {
  DiscriminatorImpl(int64_t input_dim, int64_t hidden, bool batch_norm);
  torch::Tensor forward(torch::Tensor logits);

  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(Discriminator);

}  // namespace fan::models
