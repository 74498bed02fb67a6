// SVHN cropped digits (train_32x32.mat / test_32x32.mat, MATLAB v5) through matio.
#pragma once
#include "core/data/dataset.h"

#include <filesystem>
#include <string>

namespace fan::data {

// Reads variables X (H×W×C×N uint8, MATLAB column-major: X(h, w, c, n)) and
// y (N×1, 1..10, where 10 stands for the digit 0). Images come back N×C×H×W
// float in [0, 1]; labels 0..9. Every problem is a fan::Error naming the file.
Dataset read_svhn_mat(const std::filesystem::path& path, const std::string& name);

}  // namespace fan::data
