// Tiny synthetic digit domains written in the real file formats (MNIST IDX, USPS text).
#pragma once
#include "core/data/idx.h"
#include "core/util/fs.h"

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

namespace fan::test {

// Class c is a bright square at cell (c % 4, c / 4) of a 4×3 grid, plus noise.
// `style` changes the look (thickness and background) without moving it: the
// domain shift of the target.
inline torch::Tensor synthetic_digits(const torch::Tensor& labels, int64_t size, double background,
                                      double square_fraction, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t n = labels.size(0);
  auto images = torch::full({n, size, size}, background);
  images += torch::rand({n, size, size}, gen) * 0.15;
  const int64_t cell = size / 4;
  const int64_t side = std::max<int64_t>(2, static_cast<int64_t>(cell * square_fraction));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = labels[i].item<int64_t>();
    const int64_t row = (c / 4) * cell + (cell - side) / 2 + size / 8;
    const int64_t col = (c % 4) * cell + (cell - side) / 2;
    images[i].narrow(0, row, side).narrow(1, col, side).fill_(0.95);
  }
  return images.clamp(0, 1);
}

// Writes root/mnist (28×28 IDX, gzip) and root/usps (16×16 ESL text, gzip) with
// `train` / `test` images per domain.
inline void write_synthetic_domains(const std::filesystem::path& root, int64_t train, int64_t test) {
  for (const auto& [split, n, seed] : {std::tuple{"train", train, 1}, std::tuple{"t10k", test, 2}}) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto labels = torch::randint(10, {n}, gen, torch::kLong);
    const auto images = synthetic_digits(labels, 28, 0.0, 0.7, seed + 10);
    data::write_idx(root / "mnist" / (std::string(split) + "-images-idx3-ubyte.gz"),
                    (images * 255).round().to(torch::kUInt8));
    data::write_idx(root / "mnist" / (std::string(split) + "-labels-idx1-ubyte.gz"), labels.to(torch::kUInt8));
  }
  for (const auto& [split, n, seed] : {std::tuple{"train", train, 3}, std::tuple{"test", test, 4}}) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    const auto labels = torch::randint(10, {n}, gen, torch::kLong);
    const auto images = synthetic_digits(labels, 16, 0.25, 0.9, seed + 10) * 2 - 1;  // ESL: [−1, 1]
    std::ostringstream text;
    text.precision(4);
    for (int64_t i = 0; i < n; ++i) {
      text << labels[i].item<int64_t>();
      const auto row = images[i].flatten();
      for (int64_t k = 0; k < row.size(0); ++k) text << ' ' << row[k].item<float>();
      text << '\n';
    }
    util::atomic_write_gzip(root / "usps" / ("zip." + std::string(split) + ".gz"), text.str());
  }
}

}  // namespace fan::test
