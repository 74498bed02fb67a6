// IDX files (the MNIST format): unsigned-byte arrays of rank 1 to 4, plain or gzip.
#include "core/data/idx.h"

#include "core/util/error.h"
#include "core/util/fs.h"

#include <cstring>
#include <vector>

namespace fan::data {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;  // IDX element-type code for uint8

uint32_t read_be32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_be32(std::string& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& path) {
  const std::string where = path.string();
  // The content is read first, bounded by the cap, so a header that lies
  // about its size can never make us allocate what it claims.
  const std::string bytes = util::read_decompressed(path, kMaxIdxBytes + 64);
  if (bytes.size() < 4) {
    throw Error(where + ": truncated IDX file (" + std::to_string(bytes.size()) + " bytes, no header)");
  }
  const uint32_t magic = read_be32(bytes, 0);
  const auto type = static_cast<uint8_t>((magic >> 8) & 0xff);
  const auto rank = static_cast<size_t>(magic & 0xff);
  if ((magic >> 16) != 0 || rank < 1 || rank > 4) {
    throw Error(where + ": not an IDX file (magic " + hex32(magic) + ", expected 0x00000801..0x00000804)");
  }
  if (type != kUnsignedByte) {
    throw Error(where + ": IDX element type " + hex32(type) +
                " is not supported (expected unsigned bytes, magic 0x000008NN)");
  }
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) {
    throw Error(where + ": truncated IDX file (header needs " + std::to_string(header) +
                " bytes, file holds " + std::to_string(bytes.size()) + ")");
  }
  std::vector<int64_t> dims;
  uint64_t count = 1;
  // The product of the non-zero dims, capped too: an empty array of
  // 0×2^32×2^32×2^32 holds no bytes, but its strides overflow int64 in torch.
  uint64_t nonzero_count = 1;
  std::string shape;
  for (size_t i = 0; i < rank; ++i) {
    const uint32_t dim = read_be32(bytes, 4 + 4 * i);
    dims.push_back(dim);
    shape += (i ? "×" : "") + std::to_string(dim);
    // Each dim is below 2^32, so checking after every product keeps it below 2^64.
    count *= dim;
    if (dim != 0) nonzero_count *= dim;
    if (count > kMaxIdxBytes || nonzero_count > kMaxIdxBytes) {
      throw Error(where + ": IDX header claims " + shape + (i + 1 < rank ? "×…" : "") +
                  " elements, more than the " + util::human_bytes(kMaxIdxBytes) + " cap: corrupt header");
    }
  }
  const uint64_t payload = bytes.size() - header;
  if (payload < count) {
    throw Error(where + ": truncated IDX file: header claims " + shape + " = " + std::to_string(count) +
                " bytes of data, file holds " + std::to_string(payload));
  }
  if (payload > count) {
    throw Error(where + ": IDX file has " + std::to_string(payload - count) + " bytes after the " + shape +
                " array it declares: corrupt or wrong dims");
  }
  torch::Tensor data = torch::empty(dims, torch::kUInt8);
  if (count > 0) std::memcpy(data.data_ptr<uint8_t>(), bytes.data() + header, count);
  return data;
}

void write_idx(const std::filesystem::path& path, const torch::Tensor& data) {
  if (data.scalar_type() != torch::kUInt8 || data.dim() < 1 || data.dim() > 4) {
    throw Error("write_idx " + path.string() + ": expected a uint8 tensor of rank 1..4");
  }
  const torch::Tensor contiguous = data.contiguous();
  std::string bytes;
  bytes.reserve(4 + 4 * static_cast<size_t>(data.dim()) + static_cast<size_t>(data.numel()));
  append_be32(bytes, (uint32_t{kUnsignedByte} << 8) | static_cast<uint32_t>(data.dim()));
  for (int64_t dim : data.sizes()) append_be32(bytes, static_cast<uint32_t>(dim));
  bytes.append(reinterpret_cast<const char*>(contiguous.data_ptr<uint8_t>()),
               static_cast<size_t>(contiguous.numel()));
  if (path.extension() == ".gz") {
    util::atomic_write_gzip(path, bytes);
  } else {
    util::atomic_write(path, bytes);
  }
}

Dataset read_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                         const std::string& name, int64_t num_classes) {
  torch::Tensor images = read_idx(images_path);
  if (images.dim() == 3) {
    images = images.unsqueeze(1);
  } else if (images.dim() == 4) {
    images = images.permute({0, 3, 1, 2});
  } else {
    throw Error(images_path.string() + ": expected 3-D images (magic 0x00000803) or 4-D " +
                "images N×H×W×C (0x00000804), found a " + std::to_string(images.dim()) + "-D IDX array");
  }
  const torch::Tensor labels = read_idx(labels_path);
  if (labels.dim() != 1) {
    throw Error(labels_path.string() + ": expected 1-D labels (magic 0x00000801), found a " +
                std::to_string(labels.dim()) + "-D IDX array");
  }
  if (labels.size(0) != images.size(0)) {
    throw Error(labels_path.string() + " holds " + std::to_string(labels.size(0)) + " labels but " +
                images_path.string() + " holds " + std::to_string(images.size(0)) + " images");
  }
  if (labels.numel() > 0 && labels.max().item<int64_t>() >= num_classes) {
    throw Error(labels_path.string() + ": label " + std::to_string(labels.max().item<int64_t>()) +
                " outside [0, " + std::to_string(num_classes) + ")");
  }
  Dataset dataset;
  dataset.images = images.to(torch::kFloat32).div_(255.0f).contiguous();
  dataset.labels = labels.to(torch::kInt64);
  dataset.num_classes = num_classes;
  dataset.name = name;
  return dataset;
}

}  // namespace fan::data
