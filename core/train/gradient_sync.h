// The hook a data-parallel run puts between a trainer's backward pass and its optimizer step:
// it combines the ranks' gradients (dist::Group::allreduce_gradients). Empty: one process.
#pragma once
#include <torch/types.h>

#include <functional>
#include <vector>

namespace fan::train {

using GradientSync = std::function<void(const std::vector<torch::Tensor>& parameters)>;

}  // namespace fan::train
