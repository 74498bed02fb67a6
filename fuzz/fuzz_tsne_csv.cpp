// Fuzzes the t-SNE input CSV parser (points, one comma-separated row per line).
#include "core/analysis/points_csv.h"
#include "core/util/error.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto points = fan::analysis::parse_points_csv(text, "fuzz.csv");
    // What callers rely on: a full rows × cols matrix.
    if (points.rows <= 0 || points.cols <= 0 ||
        points.values.size() != static_cast<size_t>(points.rows * points.cols))
      std::abort();
  } catch (const fan::Error&) {
  }
  return 0;
}
