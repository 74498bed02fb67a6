// FanNet: encoder → split (hd, ht) → logit map → decoder, for every ablation variant.
#pragma once
#include "core/models/digit_decoder.h"
#include "core/models/lenet_encoder.h"

#include <torch/nn.h>

#include <string>

namespace fan::models {

// FAN-SPEC "Ablation variants"; kAdda is the no-decoder, no-split special case.
enum class Variant { kFull, kConcatenation, kSeparation, kJoint, kAdda };
Variant parse_variant(const std::string& name);
std::string to_string(Variant variant);

struct FanNetOptions {
  Variant variant = Variant::kFull;
  int64_t in_channels = 1;
  int64_t image_size = 28;
  int64_t num_classes = 10;
  int64_t latent_dim = 100;          // |h|
  int64_t domain_specific_dim = 50;  // |hd|; |ht| = latent_dim − domain_specific_dim
};

// What one forward pass gives. Tensors a variant has no use for are undefined:
// adda has no reconstruction; joint has no split (hd and ht are both h).
struct FanOutput {
  torch::Tensor domain_specific;  // hd
  torch::Tensor task_specific;    // ht
  torch::Tensor logits;           // hl = M(ht)
  torch::Tensor reconstruction;   // x̂
};

struct FanNetImpl : torch::nn::Module {
  explicit FanNetImpl(const FanNetOptions& options);

  FanOutput forward(const torch::Tensor& x);
  // Logits only, skipping the decoder (evaluation, stage-2 source logits).
  torch::Tensor classify(const torch::Tensor& x);
  // The decoder on explicit parts (Fig. 6b swaps hd and logits across images).
  torch::Tensor decode(const torch::Tensor& domain_specific, const torch::Tensor& logits);
  bool has_decoder() const { return !decoder.is_empty(); }
  bool uses_mutual_information() const { return options.variant == Variant::kFull; }

  FanNetOptions options;
  LeNetEncoder encoder{nullptr};
  torch::nn::Linear logit_map{nullptr};
  DigitDecoder decoder{nullptr};

 private:
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& h) const;
};
TORCH_MODULE(FanNet);

// He/Kaiming initialisation of every conv and linear layer (FAN-SPEC default).
void kaiming_init(torch::nn::Module& module);

// Copies parameters and buffers (batch-norm statistics) of `from` into `to`.
void copy_state(torch::nn::Module& from, torch::nn::Module& to);

}  // namespace fan::models
