// USPS digits in the text format of The Elements of Statistical Learning.
#include "core/data/usps.h"

#include "core/util/error.h"
#include "core/util/fs.h"

#include <cmath>
#include <cstdlib>
#include <vector>

namespace fan::data {
namespace {

constexpr int64_t kSide = 16;               // USPS digits are 16×16
constexpr int64_t kPixels = kSide * kSide;  // values after the label on each line
constexpr uint64_t kMaxTextBytes = uint64_t{1} << 30;

}  // namespace

Dataset read_usps(const std::filesystem::path& path, const std::string& name) {
  const std::string text = util::read_decompressed(path, kMaxTextBytes);
  std::vector<float> pixels;
  std::vector<int64_t> labels;
  std::vector<double> values;
  size_t line_start = 0;
  int64_t line_number = 0;
  while (line_start < text.size()) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    ++line_number;
    const std::string line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;

    values.clear();
    const char* cursor = line.c_str();
    while (true) {
      while (*cursor == ' ' || *cursor == '\t' || *cursor == '\r') ++cursor;
      if (*cursor == '\0') break;
      char* end = nullptr;
      const double value = std::strtod(cursor, &end);
      if (end == cursor) {
        throw Error(path.string() + ":" + std::to_string(line_number) + ": not a number: '" +
                    std::string(cursor).substr(0, 20) + "'");
      }
      values.push_back(value);
      cursor = end;
    }
    if (values.empty()) continue;  // blank line (e.g. at the end)
    if (static_cast<int64_t>(values.size()) != kPixels + 1) {
      throw Error(path.string() + ":" + std::to_string(line_number) + ": expected the label and " +
                  std::to_string(kPixels) + " grey values, found " +
                  std::to_string(static_cast<int64_t>(values.size()) - 1) + " values after the label");
    }
    const double label = values[0];
    if (label != std::floor(label) || label < 0 || label > 9) {
      throw Error(path.string() + ":" + std::to_string(line_number) + ": label " + std::to_string(label) +
                  " is not a digit 0..9");
    }
    labels.push_back(static_cast<int64_t>(label));
    for (int64_t i = 1; i <= kPixels; ++i) {
      const double v = (values[static_cast<size_t>(i)] + 1.0) / 2.0;
      pixels.push_back(static_cast<float>(std::clamp(v, 0.0, 1.0)));
    }
  }
  if (labels.empty()) throw Error(path.string() + ": no USPS digits in the file");

  const auto count = static_cast<int64_t>(labels.size());
  Dataset dataset;
  dataset.images = torch::from_blob(pixels.data(), {count, 1, kSide, kSide}, torch::kFloat32).clone();
  dataset.labels = torch::from_blob(labels.data(), {count}, torch::kInt64).clone();
  dataset.num_classes = 10;
  dataset.name = name;
  return dataset;
}

}  // namespace fan::data
