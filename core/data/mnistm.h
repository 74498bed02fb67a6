// MNIST-M: MNIST digits blended with BSDS500 photo crops (Ganin & Lempitsky 2015).
#pragma once
#include "core/data/dataset.h"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace fan::data {

// The canonical seed of our MNIST-M; the test split uses kMnistmSeed + 1.
// Changing either changes the data set, so the cache would have to go.
constexpr uint64_t kMnistmSeed = 20150526;

// For each digit (N×H×W uint8) a random photo and a random H×W crop of it
// (photos H'×W'×3 uint8, at least H×W); the result is |crop − digit| per
// channel, N×H×W×3 uint8, drawn from `seed` alone. The digit, as grey in
// [0, 1], is broadcast over the three channels, so in bytes this is exact.
torch::Tensor blend_mnistm(const torch::Tensor& digits, const std::vector<torch::Tensor>& photos,
                           uint64_t seed);

// The BSDS500 training photos, data_root/bsds500/train/*.jpg, sorted by name;
// none is a fan::Error telling to run `fan data fetch bsds500`.
std::vector<std::filesystem::path> bsds_photo_files(const std::filesystem::path& data_root);

// The cache folder, data_root/mnistm, and its four IDX files.
std::filesystem::path mnistm_cache_dir(const std::filesystem::path& data_root);
std::vector<std::filesystem::path> mnistm_cache_files(const std::filesystem::path& data_root);

// MNIST-M from the cache, or made from MNIST + BSDS500 and cached (written
// atomically, gzip 4-D IDX N×28×28×3) so it is made only once.
DatasetSplits load_mnistm(const std::filesystem::path& data_root);

}  // namespace fan::data
