// The digits decoder: concat(hd, logits) → reconstructed image.
#pragma once
#include "core/models/encoder.h"

namespace fan::models {

// FC 300 → ReLU → BN; view 3×10×10; conv 5×5×16 → ReLU → BN (twice, same
// padding); upsample to image_size; conv 3×3×16 → ReLU → BN; conv 3×3×C.
struct DigitDecoderImpl : DecoderImpl {
  DigitDecoderImpl(int64_t input_dim, int64_t out_channels, int64_t image_size);
  torch::Tensor forward(torch::Tensor z) override;

  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn_fc{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, out{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
};
TORCH_MODULE(DigitDecoder);

}  // namespace fan::models
