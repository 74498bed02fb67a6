// The domain discriminator on logits: says source (1) or target (0).
#pragma once
#include <torch/nn.h>

#include <vector>

namespace fan::models {

// FC hidden[0] → ReLU → [BN]; FC hidden[1] → ReLU → [BN]; …; FC 1 (a logit,
// not a probability). Digits: 500, 500 (FAN-SPEC measured a BN-free D adapting
// better there); large images: 1024, 2048 with BN.
struct DiscriminatorImpl : torch::nn::Module {
  DiscriminatorImpl(int64_t input_dim, std::vector<int64_t> hidden, bool batch_norm);
  // Two hidden layers of the same width.
  DiscriminatorImpl(int64_t input_dim, int64_t hidden, bool batch_norm)
      : DiscriminatorImpl(input_dim, std::vector<int64_t>{hidden, hidden}, batch_norm) {}
  torch::Tensor forward(torch::Tensor logits);

  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(Discriminator);

}  // namespace fan::models
