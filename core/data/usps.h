// USPS digits in the text format of The Elements of Statistical Learning.
#pragma once
#include "core/data/dataset.h"

#include <filesystem>
#include <string>

namespace fan::data {

// Reads `zip.train.gz` / `zip.test.gz` (gzip or plain text): one digit per
// line, the label then 16×16 = 256 grey values in [−1, 1], row by row, −1 the
// background. Images come back N×1×16×16, value (v + 1) / 2.
Dataset read_usps(const std::filesystem::path& path, const std::string& name);

}  // namespace fan::data
