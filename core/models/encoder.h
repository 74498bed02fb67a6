// The encoder and decoder interfaces FanNet composes: LeNet / digit decoder for
// digits, ResNet / DCGAN decoder for large images (FAN-SPEC "Large-image configuration").
#pragma once
#include <torch/nn.h>

#include <string>

namespace fan::models {

enum class EncoderKind { kLeNet, kResNet18, kResNet34, kResNet50 };
// "lenet" | "resnet18" | "resnet34" | "resnet50"; anything else is a fan::Error naming model.encoder.
EncoderKind parse_encoder(const std::string& name);
std::string to_string(EncoderKind kind);
bool is_resnet(EncoderKind kind);
// |h| the encoder gives: ResNet-18/34 512, ResNet-50 2048 (the average-pooled
// feature); LeNet's last FC is as wide as asked (`lenet_latent`).
int64_t encoder_width(EncoderKind kind, int64_t lenet_latent);

// x (N×C×H×W) → h (N×|h|).
struct EncoderImpl : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

// z (N×D) → x̂ (N×C×S×S).
struct DecoderImpl : torch::nn::Module {
  virtual torch::Tensor forward(torch::Tensor z) = 0;
  int64_t output_size = 0;  // S
};

}  // namespace fan::models
