// Bringing a domain to the common format: channels, size, framing; protocols.
#include "core/data/preprocess.h"

#include "core/util/error.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace fan::data {
namespace {

// Images are processed in chunks so SVHN-sized sets (73k × 3×32×32) do not
// need several full-size float temporaries at once.
constexpr int64_t kChunk = 4096;

void check_images(const torch::Tensor& images, const char* what) {
  if (!images.defined() || images.dim() != 4) {
    throw Error(std::string(what) + ": expected images N×C×H×W");
  }
}

}  // namespace

uint64_t mix_seed(uint64_t seed) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  std::mt19937_64 rng(mix_seed(seed));
  // Plain modulo rather than std::uniform_int_distribution, whose output is
  // implementation-defined; the bias is below 2^-40 for any set we hold.
  for (size_t i = order.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

torch::Tensor to_grey(const torch::Tensor& images) {
  check_images(images, "to_grey");
  if (images.size(1) == 1) return images;
  if (images.size(1) != 3) {
    throw Error("cannot convert " + std::to_string(images.size(1)) + "-channel images to grey");
  }
  return (images.select(1, 0) * kLumaRed + images.select(1, 1) * kLumaGreen + images.select(1, 2) * kLumaBlue)
      .unsqueeze(1)
      .clamp_(0, 1);
}

torch::Tensor to_rgb(const torch::Tensor& images) {
  check_images(images, "to_rgb");
  if (images.size(1) == 3) return images;
  if (images.size(1) != 1) {
    throw Error("cannot convert " + std::to_string(images.size(1)) + "-channel images to RGB");
  }
  return images.expand({images.size(0), 3, images.size(2), images.size(3)}).contiguous();
}

torch::Tensor resize_images(const torch::Tensor& images, int64_t height, int64_t width) {
  check_images(images, "resize_images");
  if (images.size(2) == height && images.size(3) == width) return images;
  namespace F = torch::nn::functional;
  const auto options = F::InterpolateFuncOptions()
                           .size(std::vector<int64_t>{height, width})
                           .mode(torch::kBilinear)
                           .align_corners(false)
                           .antialias(false);
  return F::interpolate(images.to(torch::kFloat32), options).clamp_(0, 1);
}

torch::Tensor frame_like_mnist(const torch::Tensor& images, int64_t size) {
  check_images(images, "frame_like_mnist");
  const int64_t box = std::max<int64_t>(
      1, std::llround(static_cast<double>(size) * kMnistBox / static_cast<double>(kMnistSide)));
  const int64_t height = images.size(2), width = images.size(3);
  const double scale = static_cast<double>(box) / static_cast<double>(std::max(height, width));
  const int64_t new_height = std::max<int64_t>(1, std::llround(height * scale));
  const int64_t new_width = std::max<int64_t>(1, std::llround(width * scale));
  const torch::Tensor boxed = resize_images(images, new_height, new_width);
  torch::Tensor framed = torch::zeros({images.size(0), images.size(1), size, size}, torch::kFloat32);
  const int64_t top = (size - new_height) / 2, left = (size - new_width) / 2;
  framed.narrow(2, top, new_height).narrow(3, left, new_width).copy_(boxed);
  return framed;
}

torch::Tensor centre_crop(const torch::Tensor& images, int64_t size) {
  const int64_t h = images.size(-2), w = images.size(-1);
  if (size > h || size > w)
    throw Error("crop of " + std::to_string(size) + " pixels asked from " + std::to_string(h) + "×" +
                std::to_string(w) + " images");
  return images.narrow(-2, (h - size) / 2, size).narrow(-1, (w - size) / 2, size);
}

Dataset preprocess(const Dataset& raw, const Preprocess& preprocess, bool tight_digits) {
  check_images(raw.images, raw.name.c_str());
  if (preprocess.channels != 1 && preprocess.channels != 3) {
    throw Error("preprocess.channels must be 1 or 3, not " + std::to_string(preprocess.channels));
  }
  if (preprocess.size < 1) throw Error("preprocess.size must be positive");
  if (preprocess.framing != "mnist" && preprocess.framing != "stretch") {
    throw Error("preprocess.framing must be \"mnist\" or \"stretch\", not \"" + preprocess.framing + "\"");
  }
  const int64_t size = preprocess.size;
  const bool smaller = raw.images.size(2) < size && raw.images.size(3) < size;
  const bool framed = tight_digits && smaller && preprocess.framing == "mnist";

  std::vector<torch::Tensor> chunks;
  for (int64_t start = 0; start < raw.size(); start += kChunk) {
    torch::Tensor chunk = raw.images.narrow(0, start, std::min(kChunk, raw.size() - start));
    // Grey first: one channel is a third of the resize work, and both steps
    // are linear, so the order changes nothing but rounding.
    chunk = preprocess.channels == 1 ? to_grey(chunk) : chunk;
    if (framed) chunk = frame_like_mnist(chunk, size);
    else if (preprocess.resize > size) chunk = centre_crop(resize_images(chunk, preprocess.resize, preprocess.resize), size);
    else chunk = resize_images(chunk, size, size);
    chunk = preprocess.channels == 3 ? to_rgb(chunk) : chunk;
    chunks.push_back(chunk.to(torch::kFloat32).contiguous());
  }
  Dataset out = raw;
  out.images = chunks.empty() ? torch::empty({0, preprocess.channels, size, size}, torch::kFloat32)
                              : (chunks.size() == 1 ? chunks[0] : torch::cat(chunks, 0));
  return out;
}

torch::Tensor sample_indices(int64_t size, int64_t count, uint64_t seed) {
  if (count < 1) throw Error("sampled protocol: samples must be at least 1, not " + std::to_string(count));
  if (count > size) {
    throw Error("sampled protocol: " + std::to_string(count) +
                " samples asked, but the training set holds only " + std::to_string(size) + " images");
  }
  std::vector<int64_t> order = permutation(size, seed);
  order.resize(static_cast<size_t>(count));
  std::sort(order.begin(), order.end());
  return torch::tensor(order, torch::kInt64);
}

torch::Tensor fraction_indices(const Dataset& dataset, double fraction, uint64_t seed) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    throw Error("fraction protocol: fraction must be in (0, 1], not " + std::to_string(fraction));
  }
  const torch::Tensor labels = dataset.labels.to(torch::kInt64).contiguous();
  const int64_t* data = labels.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(dataset.num_classes));
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (data[i] < 0 || data[i] >= dataset.num_classes) {
      throw Error(dataset.name + ": label " + std::to_string(data[i]) + " outside the classes");
    }
    members[static_cast<size_t>(data[i])].push_back(i);
  }
  std::vector<int64_t> chosen;
  for (size_t c = 0; c < members.size(); ++c) {
    const auto n = static_cast<int64_t>(members[c].size());
    if (n == 0) continue;
    const int64_t keep = std::clamp<int64_t>(std::llround(fraction * static_cast<double>(n)), 1, n);
    // One stream per class: a class's draw does not depend on the others' sizes.
    const std::vector<int64_t> order = permutation(n, seed ^ mix_seed(0x5eed0000ULL + c));
    for (int64_t k = 0; k < keep; ++k)
      chosen.push_back(members[c][static_cast<size_t>(order[static_cast<size_t>(k)])]);
  }
  std::sort(chosen.begin(), chosen.end());
  return torch::tensor(chosen, torch::kInt64);
}

torch::Tensor protocol_indices(const Dataset& train, int64_t size, const DomainSpec& spec, uint64_t seed) {
  switch (spec.protocol) {
    case Protocol::kFull:
      return {};
    case Protocol::kSampled:
      return sample_indices(size, spec.samples, seed);
    case Protocol::kFraction:
      return fraction_indices(train, spec.fraction, seed);
  }
  return {};
}

Dataset apply_protocol(const Dataset& train, const DomainSpec& spec, uint64_t seed) {
  const auto chosen = protocol_indices(train, train.size(), spec, seed);
  return chosen.defined() ? train.subset(chosen) : train;
}

}  // namespace fan::data
