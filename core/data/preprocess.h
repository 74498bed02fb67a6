// Bringing a domain to the common format: channels, size, framing; protocols.
#pragma once
#include "core/data/dataset.h"
#include "core/data/domain.h"

#include <torch/types.h>

#include <cstdint>

namespace fan::data {

// ITU-R BT.601 luma weights (RGB → grey).
constexpr float kLumaRed = 0.299f;
constexpr float kLumaGreen = 0.587f;
constexpr float kLumaBlue = 0.114f;
// MNIST's digits were size-normalised into 20×20 and centred in 28×28.
constexpr int64_t kMnistBox = 20;
constexpr int64_t kMnistSide = 28;

// N×3×H×W → N×1×H×W with the luma weights; N×1×H×W is returned as is.
torch::Tensor to_grey(const torch::Tensor& images);
// N×1×H×W → N×3×H×W (replicated); N×3×H×W is returned as is.
torch::Tensor to_rgb(const torch::Tensor& images);
// Bilinear resize (align_corners = false, no antialiasing), clamped to [0, 1].
torch::Tensor resize_images(const torch::Tensor& images, int64_t height, int64_t width);
// MNIST framing: the image is resized (aspect kept) into a box of
// round(size · 20 / 28) pixels and centred on a size×size zero background.
torch::Tensor frame_like_mnist(const torch::Tensor& images, int64_t size);

// The central size×size window of N×C×H×W (or C×H×W) images.
torch::Tensor centre_crop(const torch::Tensor& images, int64_t size);

// Applies `preprocess` to every image. `tight_digits`: the digits fill their
// frame (USPS), so a smaller image takes the "mnist" framing when asked;
// other sets (MNIST, MNIST-M, SVHN, folders) are resized straight.
Dataset preprocess(const Dataset& raw, const Preprocess& preprocess, bool tight_digits);

// `count` distinct indices of [0, size), drawn from `seed` alone, ascending.
// count > size (or < 1) is a fan::Error.
torch::Tensor sample_indices(int64_t size, int64_t count, uint64_t seed);
// round(fraction · n_c) images of each class c (at least 1 of a non-empty
// class), drawn from `seed`, ascending. fraction must be in (0, 1].
torch::Tensor fraction_indices(const Dataset& dataset, double fraction, uint64_t seed);
// The rows of a `size`-row training set (labels in `train`) the protocol of
// `spec` selects; undefined for the full protocol (every row).
torch::Tensor protocol_indices(const Dataset& train, int64_t size, const DomainSpec& spec, uint64_t seed);
// The training set the protocol of `spec` selects.
Dataset apply_protocol(const Dataset& train, const DomainSpec& spec, uint64_t seed);

// A deterministic permutation of [0, n) from `seed` (Fisher–Yates over
// mt19937_64), the same on every platform and LibTorch version.
std::vector<int64_t> permutation(int64_t n, uint64_t seed);
// SplitMix64 finaliser: decorrelates nearby seeds (seed, seed + 1, ...).
uint64_t mix_seed(uint64_t seed);

}  // namespace fan::data
