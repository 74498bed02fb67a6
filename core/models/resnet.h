// ResNet-18/34/50 encoders (batch norm, average-pooled feature) with stages that
// a second network can share.
#pragma once
#include "core/models/encoder.h"

#include <vector>

namespace fan::models {

// The five stages the sharing counts: 0 = stem (conv 7×7/2, BN, ReLU, max-pool
// 3×3/2), 1–4 = layer1…layer4 (basic blocks [2,2,2,2] / [3,4,6,3] for 18 / 34,
// bottleneck blocks [3,4,6,3] for 50). forward() ends with global average
// pooling: h has 512 (18/34) or 2048 (50) units.
constexpr int64_t kResNetStages = 5;

struct ResNetEncoderImpl : EncoderImpl {
  // imagenet_normalization: (x − mean) / std with torchvision's ImageNet statistics before the stem
  // (buffers "input_mean", "input_std"; RGB input only).
  ResNetEncoderImpl(EncoderKind kind, int64_t in_channels, bool imagenet_normalization = false);
  torch::Tensor forward(torch::Tensor x) override;

  // Uses `other`'s first `count` stages in place of this encoder's own: the
  // same modules, so the same parameter tensors. They stay in eval mode when
  // this encoder trains (frozen, their batch-norm statistics are `other`'s);
  // the caller keeps them out of this network's optimizer.
  void share_stages(ResNetEncoderImpl& other, int64_t count);
  int64_t shared_stages() const { return shared_; }
  void train(bool on = true) override;

  std::vector<torch::nn::Sequential> stages;
  int64_t width = 0;
  EncoderKind kind;
  torch::Tensor input_mean, input_std;  // defined with imagenet_normalization

 private:
  int64_t shared_ = 0;
};
TORCH_MODULE(ResNetEncoder);

}  // namespace fan::models
