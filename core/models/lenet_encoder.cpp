// LeNet with batch norm: the digits encoder.
#include "core/models/lenet_encoder.h"
#include "core/models/norm.h"

#include "core/util/error.h"

namespace fan::models {
namespace {
// Filters of the two convolutions and width of the hidden FC layer (LeNet).
constexpr int64_t kConv1Filters = 20;
constexpr int64_t kConv2Filters = 50;
constexpr int64_t kHiddenUnits = 500;
constexpr int64_t kKernel = 5;
}  // namespace

LeNetEncoderImpl::LeNetEncoderImpl(int64_t in_channels, int64_t image_size, int64_t latent_dim) {
  // Valid convolutions and 2×2 pools: 28 → 24 → 12 → 8 → 4.
  const int64_t after = ((image_size - kKernel + 1) / 2 - kKernel + 1) / 2;
  if (after < 1) {
    throw Error("data.image_size: LeNet needs images of at least 16×16, got " +
                std::to_string(image_size));
  }
  flat_features = kConv2Filters * after * after;
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                      in_channels, kConv1Filters, /*kernel_size=*/kKernel)));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(kConv1Filters));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                      kConv1Filters, kConv2Filters, /*kernel_size=*/kKernel)));
  bn2 = register_module("bn2", torch::nn::BatchNorm2d(kConv2Filters));
  fc1 = register_module("fc1", torch::nn::Linear(flat_features, kHiddenUnits));
  bn3 = register_module("bn3", torch::nn::BatchNorm1d(kHiddenUnits));
  fc2 = register_module("fc2", torch::nn::Linear(kHiddenUnits, latent_dim));
}

torch::Tensor LeNetEncoderImpl::forward(torch::Tensor x) {
  x = torch::max_pool2d(batch_norm(*bn1, torch::relu(conv1(x))), /*kernel_size=*/2);
  x = torch::max_pool2d(batch_norm(*bn2, torch::relu(conv2(x))), /*kernel_size=*/2);
  x = batch_norm(*bn3, torch::relu(fc1(x.flatten(1))));
  return fc2(x);
}

}  // namespace fan::models
