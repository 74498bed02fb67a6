// ResNet encoders.
#include "core/models/resnet.h"
#include "core/models/norm.h"

#include "core/util/error.h"

namespace fan::models {
namespace {

using torch::nn::BatchNorm2d;
using torch::nn::Conv2d;
using torch::nn::Conv2dOptions;

Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return Conv2d(Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

// Projection shortcut when the shape changes, identity otherwise.
torch::nn::Sequential shortcut(int64_t in, int64_t out, int64_t stride) {
  torch::nn::Sequential s;
  if (stride != 1 || in != out) {
    s->push_back(conv(in, out, 1, stride));
    s->push_back(BatchNorm2d(out));
  }
  return s;
}

// 3×3 → BN → ReLU → 3×3 → BN, + shortcut, ReLU (ResNet-18/34).
struct BasicBlockImpl : torch::nn::Module {
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t in, int64_t planes, int64_t stride)
      : conv1(register_module("conv1", conv(in, planes, 3, stride))),
        bn1(register_module("bn1", BatchNorm2d(planes))),
        conv2(register_module("conv2", conv(planes, planes, 3, 1))),
        bn2(register_module("bn2", BatchNorm2d(planes))),
        down(register_module("downsample", shortcut(in, planes, stride))) {}
  torch::Tensor forward(torch::Tensor x) {
    auto y = torch::relu(batch_norm(*bn1, conv1(x)));
    y = batch_norm(*bn2, conv2(y));
    return torch::relu(y + (down->is_empty() ? x : forward_sequential(down, x)));
  }
  Conv2d conv1;
  BatchNorm2d bn1;
  Conv2d conv2;
  BatchNorm2d bn2;
  torch::nn::Sequential down;
};
TORCH_MODULE(BasicBlock);

// 1×1 → 3×3 (stride) → 1×1 (×4), BN after each, + shortcut, ReLU (ResNet-50).
struct BottleneckImpl : torch::nn::Module {
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in, int64_t planes, int64_t stride)
      : conv1(register_module("conv1", conv(in, planes, 1, 1))),
        bn1(register_module("bn1", BatchNorm2d(planes))),
        conv2(register_module("conv2", conv(planes, planes, 3, stride))),
        bn2(register_module("bn2", BatchNorm2d(planes))),
        conv3(register_module("conv3", conv(planes, planes * kExpansion, 1, 1))),
        bn3(register_module("bn3", BatchNorm2d(planes * kExpansion))),
        down(register_module("downsample", shortcut(in, planes * kExpansion, stride))) {}
  torch::Tensor forward(torch::Tensor x) {
    auto y = torch::relu(batch_norm(*bn1, conv1(x)));
    y = torch::relu(batch_norm(*bn2, conv2(y)));
    y = batch_norm(*bn3, conv3(y));
    return torch::relu(y + (down->is_empty() ? x : forward_sequential(down, x)));
  }
  Conv2d conv1;
  BatchNorm2d bn1;
  Conv2d conv2;
  BatchNorm2d bn2;
  Conv2d conv3;
  BatchNorm2d bn3;
  torch::nn::Sequential down;
};
TORCH_MODULE(Bottleneck);

// Stage i's module name: "stem", then "layer1"…"layer4" (torchvision's names).
std::string stage_name(size_t i) { return i == 0 ? "stem" : "layer" + std::to_string(i); }

template <typename Block>
torch::nn::Sequential layer(int64_t& in, int64_t planes, int64_t blocks, int64_t stride) {
  torch::nn::Sequential s;
  for (int64_t b = 0; b < blocks; ++b) {
    s->push_back(Block(in, planes, b == 0 ? stride : 1));
    in = planes * Block::Impl::kExpansion;
  }
  return s;
}

}  // namespace

ResNetEncoderImpl::ResNetEncoderImpl(EncoderKind kind_, int64_t in_channels, bool imagenet_normalization)
    : kind(kind_) {
  if (!is_resnet(kind)) throw Error("model.encoder: not a ResNet: " + to_string(kind));
  if (imagenet_normalization) {
    if (in_channels != 3) throw Error("data.normalize: ImageNet normalisation needs RGB input (data.channels = 3)");
    // torchvision's transforms.Normalize for its ImageNet weights.
    input_mean = register_buffer("input_mean", torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1}));
    input_std = register_buffer("input_std", torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1}));
  }
  torch::nn::Sequential stem;
  stem->push_back(conv(in_channels, 64, 7, 2));
  stem->push_back(BatchNorm2d(64));
  stem->push_back(torch::nn::ReLU());
  stem->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  stages.push_back(stem);
  const std::vector<int64_t> blocks =
      kind == EncoderKind::kResNet18 ? std::vector<int64_t>{2, 2, 2, 2} : std::vector<int64_t>{3, 4, 6, 3};
  int64_t in = 64;
  for (int64_t i = 0; i < 4; ++i) {
    const int64_t planes = int64_t{64} << i;
    const int64_t stride = i == 0 ? 1 : 2;
    stages.push_back(kind == EncoderKind::kResNet50 ? layer<Bottleneck>(in, planes, blocks[i], stride)
                                                    : layer<BasicBlock>(in, planes, blocks[i], stride));
  }
  width = in;
  for (size_t i = 0; i < stages.size(); ++i)
    stages[i] = register_module(stage_name(i), stages[i]);
}

torch::Tensor ResNetEncoderImpl::forward(torch::Tensor x) {
  if (input_mean.defined()) x = (x - input_mean.to(x.options())) / input_std.to(x.options());
  for (auto& stage : stages) x = forward_sequential(stage, x);
  return torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
}

void ResNetEncoderImpl::share_stages(ResNetEncoderImpl& other, int64_t count) {
  if (count < 0 || count > kResNetStages)
    throw Error("model.shared_stages: expected 0 to " + std::to_string(kResNetStages) + ", got " +
                std::to_string(count));
  if (other.width != width || other.stages.size() != stages.size())
    throw Error("model.shared_stages: the two encoders are different ResNets");
  for (int64_t i = 0; i < count; ++i) {
    stages[static_cast<size_t>(i)] = replace_module(stage_name(static_cast<size_t>(i)), other.stages[static_cast<size_t>(i)]);
  }
  shared_ = count;
  train(is_training());
}

void ResNetEncoderImpl::train(bool on) {
  torch::nn::Module::train(on);
  for (int64_t i = 0; i < shared_; ++i) stages[static_cast<size_t>(i)]->eval();
}

}  // namespace fan::models
