// Point matrices as CSV files, one comma-separated point per line: t-SNE and PCA input and output.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fan::analysis {

// Points as a float matrix read from CSV: numbers separated by commas, one
// point per line, no header; blank lines are skipped. Ragged rows and
// non-numbers are fan::Error naming the file and line.
struct PointMatrix {
  std::vector<float> values;  // rows × cols
  int64_t rows = 0;
  int64_t cols = 0;
};
PointMatrix read_points_csv(const std::string& path);
PointMatrix parse_points_csv(const std::string& text, const std::string& name);
// Writes rows × cols numbers as CSV, atomically.
void write_points_csv(const std::string& path, const float* values, int64_t rows, int64_t cols);

}  // namespace fan::analysis
