// IDX files (the MNIST format): unsigned-byte arrays of rank 1 to 4, plain or gzip.
#pragma once
#include "core/data/dataset.h"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace fan::data {

// The largest IDX payload we accept (bytes). MNIST's biggest file is 47 MB;
// anything near this cap is a corrupt header, not a dataset.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 32;

// Reads an IDX file of unsigned bytes (magic 0x0000080R, R = rank 1..4), gzip
// or raw. Returns a uint8 tensor shaped as the header's dims. The header is
// checked against the cap and the actual byte count before anything is
// allocated for it; every problem is a fan::Error naming the file.
torch::Tensor read_idx(const std::filesystem::path& path);

// Writes a uint8 tensor (rank 1..4) as IDX, atomically; gzip when the name ends
// in ".gz".
void write_idx(const std::filesystem::path& path, const torch::Tensor& data);

// An MNIST-style pair: images N×H×W (magic 0x803, one channel) or N×H×W×C
// (0x804, channels last, as our MNIST-M cache stores them) and labels N (0x801).
// Images come back N×C×H×W float in [0, 1].
Dataset read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                         const std::string& name, int64_t num_classes = 10);

}  // namespace fan::data
