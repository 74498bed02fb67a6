// In-memory labelled image sets: the unit every reader returns.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fan::data {

// Images N×C×H×W float32 in [0, 1] and labels N int64 in [0, num_classes).
struct Dataset {
  torch::Tensor images;
  torch::Tensor labels;
  int64_t num_classes = 10;
  std::string name;  // e.g. "mnist/train"

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  // The rows at `indices` (int64), same classes and name.
  Dataset subset(const torch::Tensor& indices) const;
  // Images per class, length num_classes.
  std::vector<int64_t> class_counts() const;
};

struct DatasetSplits {
  Dataset train;
  Dataset test;
  Dataset validation;  // held out of the training split (empty unless asked for)
  Dataset held_out;    // held out of what the protocol left unused (DomainSpec::unused_held_out)
  std::vector<std::string> class_names;  // empty: the digits "0".."9"
  std::string info;                      // how the splits were made, when not obvious
};

}  // namespace fan::data
