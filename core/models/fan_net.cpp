// FanNet: composition of encoder, split, logit map and decoder.
#include "core/models/fan_net.h"

#include "core/models/dcgan_decoder.h"
#include "core/models/digit_decoder.h"
#include "core/models/lenet_encoder.h"
#include "core/models/resnet.h"
#include "core/util/error.h"

#include <cmath>
#include <set>

namespace fan::models {

Variant parse_variant(const std::string& name) {
  if (name == "full") return Variant::kFull;
  if (name == "concatenation") return Variant::kConcatenation;
  if (name == "separation") return Variant::kSeparation;
  if (name == "joint") return Variant::kJoint;
  if (name == "adda") return Variant::kAdda;
  throw Error("model.variant: expected one of full, concatenation, separation, joint, adda; got \"" +
              name + "\"");
}

std::string to_string(Variant variant) {
  switch (variant) {
    case Variant::kFull: return "full";
    case Variant::kConcatenation: return "concatenation";
    case Variant::kSeparation: return "separation";
    case Variant::kJoint: return "joint";
    case Variant::kAdda: return "adda";
  }
  return "full";
}

FanNetImpl::FanNetImpl(const FanNetOptions& opts) : options(opts) {
  const bool resnet = is_resnet(options.encoder);
  if (resnet && options.latent_dim != encoder_width(options.encoder, 0)) {
    throw Error("model.latent_dim: " + to_string(options.encoder) + " gives " +
                std::to_string(encoder_width(options.encoder, 0)) + " features, got " +
                std::to_string(options.latent_dim) + " (0 means: the encoder's width)");
  }
  if (resnet && options.decoder_size > options.image_size) {
    throw Error("model.decoder_size: the DCGAN decoder reconstructs the input downscaled, so at most "
                "data.image_size (" + std::to_string(options.image_size) + "), got " +
                std::to_string(options.decoder_size));
  }
  const int64_t task_dim = options.latent_dim - options.domain_specific_dim;
  const bool splits = options.variant != Variant::kJoint && options.variant != Variant::kAdda;
  if (splits && (options.domain_specific_dim < 1 || task_dim < 1)) {
    throw Error("model.domain_specific_dim: must lie in [1, model.latent_dim - 1], got " +
                std::to_string(options.domain_specific_dim));
  }
  if (options.variant == Variant::kFull && task_dim != options.domain_specific_dim) {
    // Lm is the dot product ht·hd, defined only for halves of equal size.
    throw Error("model.domain_specific_dim: the full variant's Lm needs |hd| = |ht|, i.e. "
                "domain_specific_dim = latent_dim / 2 = " + std::to_string(options.latent_dim / 2) +
                ", got " + std::to_string(options.domain_specific_dim));
  }
  if (resnet) {
    encoder = register_module("encoder", std::make_shared<ResNetEncoderImpl>(options.encoder, options.in_channels,
                                                                             options.imagenet_normalization));
  } else {
    encoder = register_module(
        "encoder", std::make_shared<LeNetEncoderImpl>(options.in_channels, options.image_size, options.latent_dim));
  }
  logit_map = register_module(
      "logit_map", torch::nn::Linear(splits ? task_dim : options.latent_dim, options.num_classes));
  int64_t decoder_input = 0;
  switch (options.variant) {
    case Variant::kFull:
    case Variant::kConcatenation: decoder_input = options.domain_specific_dim + options.num_classes; break;
    case Variant::kSeparation: decoder_input = options.domain_specific_dim; break;
    case Variant::kJoint: decoder_input = options.latent_dim; break;
    case Variant::kAdda: break;
  }
  if (decoder_input > 0) {
    if (resnet) {
      decoder = register_module(
          "decoder", std::make_shared<DcganDecoderImpl>(decoder_input, options.in_channels, options.decoder_size));
    } else {
      decoder = register_module(
          "decoder", std::make_shared<DigitDecoderImpl>(decoder_input, options.in_channels, options.image_size));
    }
  }
  kaiming_init(*this);
}

std::pair<torch::Tensor, torch::Tensor> FanNetImpl::split(const torch::Tensor& h) const {
  if (options.variant == Variant::kJoint || options.variant == Variant::kAdda) return {h, h};
  return {h.narrow(1, 0, options.domain_specific_dim),
          h.narrow(1, options.domain_specific_dim, options.latent_dim - options.domain_specific_dim)};
}

torch::Tensor FanNetImpl::encode(const torch::Tensor& x) {
  if (!options.image_standardization) return encoder->forward(x);
  // Per channel over the image's pixels; the floor 1/sqrt(pixels) (as tf.image.per_image_standardization)
  // keeps a flat image finite (it becomes 0).
  const auto mean = x.mean({2, 3}, /*keepdim=*/true);
  const double min_spread = 1.0 / std::sqrt(static_cast<double>(x.size(2) * x.size(3)));
  const auto spread = x.std({2, 3}, /*unbiased=*/false, /*keepdim=*/true).clamp_min(min_spread);
  return encoder->forward((x - mean) / spread);
}

FanOutput FanNetImpl::features(const torch::Tensor& x) {
  FanOutput out;
  const auto h = encode(x);
  std::tie(out.domain_specific, out.task_specific) = split(h);
  out.logits = logit_map(out.task_specific);
  if (options.variant == Variant::kAdda) out.domain_specific = torch::Tensor();
  return out;
}

FanOutput FanNetImpl::forward(const torch::Tensor& x) {
  FanOutput out = features(x);
  switch (options.variant) {
    case Variant::kFull:
    case Variant::kConcatenation:
      out.reconstruction = decoder->forward(torch::cat({out.domain_specific, out.logits}, 1));
      break;
    case Variant::kSeparation: out.reconstruction = decoder->forward(out.domain_specific); break;
    case Variant::kJoint: out.reconstruction = decoder->forward(out.domain_specific); break;  // hd is h
    case Variant::kAdda: break;
  }
  return out;
}

torch::Tensor FanNetImpl::classify(const torch::Tensor& x) {
  return logit_map(split(encode(x)).second);
}

torch::Tensor FanNetImpl::decode(const torch::Tensor& domain_specific, const torch::Tensor& logits) {
  if (!has_decoder()) throw Error("model.variant: adda has no decoder to reconstruct with");
  switch (options.variant) {
    case Variant::kSeparation: return decoder->forward(domain_specific);
    case Variant::kJoint: return decoder->forward(domain_specific);
    default: return decoder->forward(torch::cat({domain_specific, logits}, 1));
  }
}

torch::Tensor FanNetImpl::reconstruction_target(const torch::Tensor& x) const {
  if (!decoder || decoder->output_size >= x.size(-1)) return x;
  return torch::adaptive_avg_pool2d(x, {decoder->output_size, decoder->output_size});
}

void FanNetImpl::share_encoder_stages(FanNetImpl& source, int64_t count) {
  auto* mine = dynamic_cast<ResNetEncoderImpl*>(encoder.get());
  auto* theirs = dynamic_cast<ResNetEncoderImpl*>(source.encoder.get());
  if (mine == nullptr || theirs == nullptr) return;
  mine->share_stages(*theirs, count);
}

int64_t FanNetImpl::shared_encoder_stages() const {
  const auto* mine = dynamic_cast<const ResNetEncoderImpl*>(encoder.get());
  return mine == nullptr ? 0 : mine->shared_stages();
}

std::vector<torch::Tensor> FanNetImpl::own_parameters() {
  std::set<const void*> shared;
  if (auto* mine = dynamic_cast<ResNetEncoderImpl*>(encoder.get())) {
    for (int64_t i = 0; i < mine->shared_stages(); ++i)
      for (const auto& p : mine->stages[static_cast<size_t>(i)]->parameters()) shared.insert(p.unsafeGetTensorImpl());
  }
  std::vector<torch::Tensor> own;
  for (const auto& p : parameters())
    if (shared.count(p.unsafeGetTensorImpl()) == 0) own.push_back(p);
  return own;
}

EncoderKind parse_encoder(const std::string& name) {
  if (name == "lenet") return EncoderKind::kLeNet;
  if (name == "resnet18") return EncoderKind::kResNet18;
  if (name == "resnet34") return EncoderKind::kResNet34;
  if (name == "resnet50") return EncoderKind::kResNet50;
  throw Error("model.encoder: expected one of lenet, resnet18, resnet34, resnet50; got \"" + name + "\"");
}

std::string to_string(EncoderKind kind) {
  switch (kind) {
    case EncoderKind::kLeNet: return "lenet";
    case EncoderKind::kResNet18: return "resnet18";
    case EncoderKind::kResNet34: return "resnet34";
    case EncoderKind::kResNet50: return "resnet50";
  }
  return "lenet";
}

bool is_resnet(EncoderKind kind) { return kind != EncoderKind::kLeNet; }

int64_t encoder_width(EncoderKind kind, int64_t lenet_latent) {
  switch (kind) {
    case EncoderKind::kLeNet: return lenet_latent;
    case EncoderKind::kResNet18:
    case EncoderKind::kResNet34: return 512;
    case EncoderKind::kResNet50: return 2048;
  }
  return lenet_latent;
}

void kaiming_init(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* conv = child->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0.0, torch::kFanIn, torch::kReLU);
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* linear = child->as<torch::nn::LinearImpl>()) {
      torch::nn::init::kaiming_normal_(linear->weight, /*a=*/0.0, torch::kFanIn, torch::kReLU);
      linear->bias.zero_();
    }
  }
}

void copy_state(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src_params = from.named_parameters(/*recurse=*/true);
  for (auto& item : to.named_parameters(/*recurse=*/true)) item.value().copy_(src_params[item.key()]);
  auto src_buffers = from.named_buffers(/*recurse=*/true);
  for (auto& item : to.named_buffers(/*recurse=*/true)) item.value().copy_(src_buffers[item.key()]);
}

}  // namespace fan::models
