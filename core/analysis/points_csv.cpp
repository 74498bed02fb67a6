// Point matrices as CSV files, one comma-separated point per line: t-SNE and PCA input and output.
#include "core/analysis/points_csv.h"

#include "core/util/error.h"
#include "core/util/fs.h"

#include <charconv>
#include <cmath>
#include <string_view>
#include <system_error>

namespace fan::analysis {

PointMatrix parse_points_csv(const std::string& text, const std::string& name) {
  PointMatrix m;
  size_t pos = 0;
  int64_t line_number = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    ++line_number;
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      if (eol == text.size()) break;
      continue;
    }
    int64_t cols = 0;
    size_t field_start = 0;
    while (true) {
      size_t comma = line.find(',', field_start);
      std::string_view field = line.substr(
          field_start, comma == std::string_view::npos ? std::string_view::npos : comma - field_start);
      const size_t a = field.find_first_not_of(" \t");
      const size_t b = field.find_last_not_of(" \t");
      field = a == std::string_view::npos ? std::string_view() : field.substr(a, b - a + 1);
      const char* first = field.data();
      const char* last = field.data() + field.size();
      if (!field.empty() && *first == '+') ++first;
      float value = 0;
      const auto [ptr, ec] = std::from_chars(first, last, value);
      if (field.empty() || ec != std::errc() || ptr != last || !std::isfinite(value))
        throw Error(name + ":" + std::to_string(line_number) + ": field " + std::to_string(cols + 1) +
                    " is not a finite number (\"" + std::string(field) + "\")");
      m.values.push_back(value);
      ++cols;
      if (comma == std::string_view::npos) break;
      field_start = comma + 1;
    }
    if (m.rows == 0) {
      m.cols = cols;
    } else if (cols != m.cols) {
      throw Error(name + ":" + std::to_string(line_number) + ": " + std::to_string(cols) +
                  " columns, but the rows " + "before have " + std::to_string(m.cols) +
                  " (every row must have the same number of values)");
    }
    ++m.rows;
    if (eol == text.size()) break;
  }
  if (m.rows == 0) throw Error(name + ": no points (expected one comma-separated row of numbers per point)");
  return m;
}

PointMatrix read_points_csv(const std::string& path) { return parse_points_csv(util::read_file(path), path); }

void write_points_csv(const std::string& path, const float* values, int64_t rows, int64_t cols) {
  std::string out;
  out.reserve(static_cast<size_t>(rows * cols * 14));
  char buffer[32];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (c > 0) out.push_back(',');
      // to_chars: shortest round-trip form, independent of the C locale (Qt sets it).
      const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), values[r * cols + c]);
      out.append(buffer, ptr);
    }
    out.push_back('\n');
  }
  util::atomic_write(path, out);
}

}  // namespace fan::analysis
