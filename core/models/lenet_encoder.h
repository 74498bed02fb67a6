// LeNet with batch norm: the digits encoder x → h (FAN-SPEC "Digits configuration").
#pragma once
#include "core/models/encoder.h"

namespace fan::models {

// conv 5×5×20 → ReLU → BN → pool 2; conv 5×5×50 → ReLU → BN → pool 2;
// FC 500 → ReLU → BN; FC latent_dim (= h, no activation).
struct LeNetEncoderImpl : EncoderImpl {
  LeNetEncoderImpl(int64_t in_channels, int64_t image_size, int64_t latent_dim);
  torch::Tensor forward(torch::Tensor x) override;

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn3{nullptr};
  int64_t flat_features = 0;
};
TORCH_MODULE(LeNetEncoder);

}  // namespace fan::models
