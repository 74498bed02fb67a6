// The large-image decoder: DCGAN-style fractionally-strided convolutions.
#pragma once
#include "core/models/encoder.h"

namespace fan::models {

// z (N×D) viewed as D×1×1 → ConvT 256 (to S/16 × S/16) → ConvT 256 → ConvT 128
// → ConvT 64 (each 4×4, stride 2) → ConvT C: an S×S image. ReLU + BN after each
// but the last, no output activation (Lr is plain squared error). S must be a
// multiple of 16 (64 by default: the input downscaled to 64×64 is its target).
struct DcganDecoderImpl : DecoderImpl {
  DcganDecoderImpl(int64_t input_dim, int64_t out_channels, int64_t size);
  torch::Tensor forward(torch::Tensor z) override;

  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(DcganDecoder);

}  // namespace fan::models
