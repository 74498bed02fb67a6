// Fuzzes the IDX (MNIST) reader: read_idx on any bytes (raw or gzip), and
// read_idx_dataset on an images/labels pair split at kLabelsSeparator.
#include "core/data/idx.h"
#include "core/util/error.h"
#include "fuzz/fuzz_input.h"

#include <cstring>
#include <string_view>

namespace {
// An input holding this splits into an images file (before) and a labels file
// (after), so that the pair checks of read_idx_dataset are fuzzed too.
constexpr std::string_view kLabelsSeparator = "--FAN-LABELS--";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fan::fuzz::InputFile images("idx_images");
  static fan::fuzz::InputFile labels("idx_labels");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find(kLabelsSeparator);
  try {
    if (split == std::string_view::npos) {
      fan::fuzz::write_bytes(images.path, data, size);
      (void)fan::data::read_idx(images.path);
    } else {
      fan::fuzz::write_bytes(images.path, data, split);
      const size_t rest = split + kLabelsSeparator.size();
      fan::fuzz::write_bytes(labels.path, data + rest, size - rest);
      (void)fan::data::read_idx_dataset(images.path, labels.path, "fuzz");
    }
  } catch (const fan::Error&) {
    // A user-caused problem reported properly: what we want for garbage.
  }
  return 0;
}
