// Dataset helpers: row subsets and per-class counts.
#include "core/data/dataset.h"

#include "core/util/error.h"

namespace fan::data {

Dataset Dataset::subset(const torch::Tensor& indices) const {
  Dataset out;
  out.images = images.index_select(0, indices);
  out.labels = labels.index_select(0, indices);
  out.num_classes = num_classes;
  out.name = name;
  return out;
}

std::vector<int64_t> Dataset::class_counts() const {
  std::vector<int64_t> counts(static_cast<size_t>(num_classes), 0);
  if (!labels.defined() || labels.numel() == 0) return counts;
  const torch::Tensor contiguous = labels.to(torch::kInt64).contiguous();
  const int64_t* data = contiguous.data_ptr<int64_t>();
  for (int64_t i = 0; i < contiguous.numel(); ++i) {
    if (data[i] < 0 || data[i] >= num_classes) {
      throw Error(name + ": label " + std::to_string(data[i]) + " outside [0, " +
                  std::to_string(num_classes) + ")");
    }
    ++counts[static_cast<size_t>(data[i])];
  }
  return counts;
}

}  // namespace fan::data
