// FanNet: composition of encoder, split, logit map and decoder.
#include "core/models/fan_net.h"

#include "core/util/error.h"

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
  encoder = register_module("encoder", LeNetEncoder(options.in_channels, options.image_size,
                                                    options.latent_dim));
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
    decoder = register_module(
        "decoder", DigitDecoder(decoder_input, options.in_channels, options.image_size));
  }
  kaiming_init(*this);
}

std::pair<torch::Tensor, torch::Tensor> FanNetImpl::split(const torch::Tensor& h) const {
  if (options.variant == Variant::kJoint || options.variant == Variant::kAdda) return {h, h};
  return {h.narrow(1, 0, options.domain_specific_dim),
          h.narrow(1, options.domain_specific_dim, options.latent_dim - options.domain_specific_dim)};
}

FanOutput FanNetImpl::forward(const torch::Tensor& x) {
  FanOutput out;
  const auto h = encoder(x);
  std::tie(out.domain_specific, out.task_specific) = split(h);
  out.logits = logit_map(out.task_specific);
  switch (options.variant) {
    case Variant::kFull:
    case Variant::kConcatenation:
      out.reconstruction = decoder(torch::cat({out.domain_specific, out.logits}, 1));
      break;
    case Variant::kSeparation: out.reconstruction = decoder(out.domain_specific); break;
    case Variant::kJoint: out.reconstruction = decoder(h); break;
    case Variant::kAdda: out.domain_specific = torch::Tensor(); break;
  }
  return out;
}

torch::Tensor FanNetImpl::classify(const torch::Tensor& x) {
  return logit_map(split(encoder(x)).second);
}

torch::Tensor FanNetImpl::decode(const torch::Tensor& domain_specific, const torch::Tensor& logits) {
  if (!has_decoder()) throw Error("model.variant: adda has no decoder to reconstruct with");
  switch (options.variant) {
    case Variant::kSeparation: return decoder(domain_specific);
    case Variant::kJoint: return decoder(domain_specific);
    default: return decoder(torch::cat({domain_specific, logits}, 1));
  }
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
