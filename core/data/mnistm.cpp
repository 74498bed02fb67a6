// MNIST-M: MNIST digits blended with BSDS500 photo crops (Ganin & Lempitsky 2015).
#include "core/data/mnistm.h"

#include "core/data/domain.h"
#include "core/data/idx.h"
#include "core/data/image_io.h"
#include "core/data/preprocess.h"
#include "core/util/error.h"

#include <algorithm>
#include <cstdlib>
#include <random>

namespace fan::data {

torch::Tensor blend_mnistm(const torch::Tensor& digits, const std::vector<torch::Tensor>& photos,
                           uint64_t seed) {
  if (digits.dim() != 3 || digits.scalar_type() != torch::kUInt8) {
    throw Error("MNIST-M: digits must be N×H×W uint8");
  }
  if (photos.empty()) throw Error("MNIST-M: no photos to blend with");
  const int64_t count = digits.size(0), height = digits.size(1), width = digits.size(2);
  std::vector<torch::Tensor> contiguous;
  for (const torch::Tensor& photo : photos) {
    if (photo.dim() != 3 || photo.size(2) != 3 || photo.scalar_type() != torch::kUInt8 ||
        photo.size(0) < height || photo.size(1) < width) {
      throw Error("MNIST-M: every photo must be H'×W'×3 uint8 and at least the digits' size");
    }
    contiguous.push_back(photo.contiguous());
  }
  const torch::Tensor source = digits.contiguous();
  torch::Tensor blended = torch::empty({count, height, width, 3}, torch::kUInt8);
  const uint8_t* digit = source.data_ptr<uint8_t>();
  uint8_t* out = blended.data_ptr<uint8_t>();
  std::mt19937_64 rng(mix_seed(seed));
  for (int64_t n = 0; n < count; ++n) {
    const torch::Tensor& photo = contiguous[static_cast<size_t>(rng() % contiguous.size())];
    const int64_t photo_width = photo.size(1);
    const auto top = static_cast<int64_t>(rng() % static_cast<uint64_t>(photo.size(0) - height + 1));
    const auto left = static_cast<int64_t>(rng() % static_cast<uint64_t>(photo_width - width + 1));
    const uint8_t* pixels = photo.data_ptr<uint8_t>();
    for (int64_t y = 0; y < height; ++y) {
      const uint8_t* row = pixels + ((top + y) * photo_width + left) * 3;
      for (int64_t x = 0; x < width; ++x) {
        const int d = digit[(n * height + y) * width + x];
        for (int c = 0; c < 3; ++c) *out++ = static_cast<uint8_t>(std::abs(row[x * 3 + c] - d));
      }
    }
  }
  return blended;
}

std::vector<std::filesystem::path> bsds_photo_files(const std::filesystem::path& data_root) {
  const std::filesystem::path folder = data_root / "bsds500" / "train";
  std::vector<std::filesystem::path> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".jpg") files.push_back(entry.path());
  }
  if (files.empty()) {
    throw Error("MNIST-M needs the BSDS500 training photos: no *.jpg in " + folder.string() +
                " (run `fan data fetch bsds500`)");
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::filesystem::path mnistm_cache_dir(const std::filesystem::path& data_root) {
  return data_root / "mnistm";
}

std::vector<std::filesystem::path> mnistm_cache_files(const std::filesystem::path& data_root) {
  const std::filesystem::path dir = mnistm_cache_dir(data_root);
  return {dir / "train-images-idx4-ubyte.gz", dir / "train-labels-idx1-ubyte.gz",
          dir / "t10k-images-idx4-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz"};
}

DatasetSplits load_mnistm(const std::filesystem::path& data_root) {
  const std::vector<std::filesystem::path> cache = mnistm_cache_files(data_root);
  const bool cached = std::all_of(cache.begin(), cache.end(), [](const std::filesystem::path& p) {
    return std::filesystem::is_regular_file(p);
  });
  if (!cached) {
    const std::vector<std::filesystem::path> sources = {
        mnist_file(data_root, "train-images-idx3-ubyte"), mnist_file(data_root, "train-labels-idx1-ubyte"),
        mnist_file(data_root, "t10k-images-idx3-ubyte"), mnist_file(data_root, "t10k-labels-idx1-ubyte")};
    std::vector<torch::Tensor> photos;
    for (const std::filesystem::path& file : bsds_photo_files(data_root)) {
      photos.push_back(read_image_rgb8(file));
    }
    for (size_t split = 0; split < 2; ++split) {
      const torch::Tensor digits = read_idx(sources[split * 2]);
      const torch::Tensor labels = read_idx(sources[split * 2 + 1]);
      if (digits.dim() != 3 || labels.dim() != 1 || labels.size(0) != digits.size(0)) {
        throw Error(sources[split * 2].string() + ": not an MNIST image/label pair");
      }
      // Labels first: a crash in between leaves the image file missing, so the
      // cache counts as absent and is made again.
      write_idx(cache[split * 2 + 1], labels);
      write_idx(cache[split * 2], blend_mnistm(digits, photos, kMnistmSeed + split));
    }
  }
  DatasetSplits splits;
  try {
    splits.train = read_idx_dataset(cache[0], cache[1], "mnistm/train");
    splits.test = read_idx_dataset(cache[2], cache[3], "mnistm/test");
  } catch (const Error& error) {
    throw Error(std::string(error.what()) + " (delete " + mnistm_cache_dir(data_root).string() +
                " to have MNIST-M made again)");
  }
  splits.info = cached ? "MNIST-M from the cache" : "MNIST-M made from MNIST and BSDS500 and cached";
  return splits;
}

}  // namespace fan::data
