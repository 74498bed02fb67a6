// The digits decoder: concat(hd, logits) → reconstructed image.
#pragma once
#include <torch/nn.h>

namespace fan::models {

// FC 300 → ReLU → BN; view 3×10×10; conv 5×5×16 → ReLU → BN (twice, same
// padding); upsample to image_size; conv 3×3×16 → ReLU → BN; conv 3×3×C.
struct DigitDecoderImpl : torch::nn::Module {
  DigitDecoderImpl(int64_t input_dim, int64_t out_channels, int64_t image_size);
  torch::Tensor forward(torch::Tensor z);

  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn_fc{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr}, out{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  int64_t image_size = 28;
};
TORCH_MODULE(DigitDecoder);

}  // namespace fan::models
