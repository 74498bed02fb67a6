// FanNet: encoder → split (hd, ht) → logit map → decoder, for every ablation variant.
#pragma once
#include "core/models/encoder.h"

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
  int64_t latent_dim = 100;          // |h|; a ResNet's is its width (512 or 2048)
  int64_t domain_specific_dim = 50;  // |hd|; |ht| = latent_dim − domain_specific_dim
  // LeNet + digit decoder (digits), or a ResNet + DCGAN decoder (large images).
  EncoderKind encoder = EncoderKind::kLeNet;
  int64_t decoder_size = 64;  // the DCGAN decoder's output side (ResNet encoders only)
  // ResNet encoders: normalise RGB input with torchvision's ImageNet mean/std inside the encoder
  // (the images and the reconstructions stay in [0, 1]).
  bool imagenet_normalization = false;
  // data.normalize "image": each image's channels standardised to mean 0 and standard deviation 1
  // over its pixels before the encoder (per-image standardisation; the reconstruction target stays
  // the image in [0, 1]). Removes a domain's brightness, contrast and colour cast from what the
  // encoder sees.
  bool image_standardization = false;
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
  // forward without the decoder (reconstruction undefined): hd, ht and logits, for evaluation-time
  // uses (validators, the live embedding, features for the figures).
  FanOutput features(const torch::Tensor& x);
  // Logits only, skipping the decoder (evaluation, stage-2 source logits).
  torch::Tensor classify(const torch::Tensor& x);
  // The decoder on explicit parts (Fig. 6b swaps hd and logits across images).
  torch::Tensor decode(const torch::Tensor& domain_specific, const torch::Tensor& logits);
  bool has_decoder() const { return decoder != nullptr; }
  bool uses_mutual_information() const { return options.variant == Variant::kFull; }
  // What Lr compares the reconstruction with: x itself, or x downscaled (area
  // averaging) to the decoder's output size when that is smaller (DCGAN, 64×64).
  torch::Tensor reconstruction_target(const torch::Tensor& x) const;
  // Partial weight sharing (deep encoders): this network uses `source`'s first
  // `count` ResNet stages — the same parameter tensors — and keeps them in eval
  // mode when it trains. A no-op for LeNet (shallow networks stay untied).
  void share_encoder_stages(FanNetImpl& source, int64_t count);
  int64_t shared_encoder_stages() const;
  // This network's parameters minus the ones it shares with another network.
  std::vector<torch::Tensor> own_parameters();

  FanNetOptions options;
  std::shared_ptr<EncoderImpl> encoder;
  torch::nn::Linear logit_map{nullptr};
  std::shared_ptr<DecoderImpl> decoder;

 private:
  std::pair<torch::Tensor, torch::Tensor> split(const torch::Tensor& h) const;
  torch::Tensor encode(const torch::Tensor& x);
};
TORCH_MODULE(FanNet);

// He/Kaiming initialisation of every conv and linear layer (FAN-SPEC default).
void kaiming_init(torch::nn::Module& module);

// Copies parameters and buffers (batch-norm statistics) of `from` into `to`.
void copy_state(torch::nn::Module& from, torch::nn::Module& to);

}  // namespace fan::models
