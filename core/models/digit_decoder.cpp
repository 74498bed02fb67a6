// The digits decoder.
#include "core/models/digit_decoder.h"
#include "core/models/norm.h"

namespace fan::models {
namespace {
// FC width, viewed as kSeedChannels × kSeedSize × kSeedSize (our reading of the paper).
constexpr int64_t kFcUnits = 300;
constexpr int64_t kSeedChannels = 3;
constexpr int64_t kSeedSize = 10;
constexpr int64_t kFilters = 16;
}  // namespace

DigitDecoderImpl::DigitDecoderImpl(int64_t input_dim, int64_t out_channels, int64_t size) {
  output_size = size;
  using torch::nn::Conv2dOptions;
  fc = register_module("fc", torch::nn::Linear(input_dim, kFcUnits));
  bn_fc = register_module("bn_fc", torch::nn::BatchNorm1d(kFcUnits));
  conv1 = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(kSeedChannels, kFilters, /*kernel_size=*/5).padding(2)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(kFilters));
  conv2 = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(kFilters, kFilters, /*kernel_size=*/5).padding(2)));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(kFilters));
  conv3 = register_module("conv3", torch::nn::Conv2d(Conv2dOptions(kFilters, kFilters, /*kernel_size=*/3).padding(1)));
  bn3 = register_module("bn3", torch::nn::BatchNorm2d(kFilters));
  out = register_module("out", torch::nn::Conv2d(Conv2dOptions(kFilters, out_channels, /*kernel_size=*/3).padding(1)));
}

torch::Tensor DigitDecoderImpl::forward(torch::Tensor z) {
  namespace F = torch::nn::functional;
  auto x = batch_norm(*bn_fc, torch::relu(fc(z))).view({-1, kSeedChannels, kSeedSize, kSeedSize});
  x = batch_norm(*bn1, torch::relu(conv1(x)));
  x = batch_norm(*bn2, torch::relu(conv2(x)));
  x = F::interpolate(x, F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{output_size, output_size})
                            .mode(torch::kBilinear)
                            .align_corners(false));
  x = batch_norm(*bn3, torch::relu(conv3(x)));
  return out(x);  // no output activation: the loss is plain squared error
}

}  // namespace fan::models
