// Plain descriptions of the figures' plots (no Qt, no tensors), and the renderer interface that draws them.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fan::analysis {

using Rgb = std::array<uint8_t, 3>;

// Plain descriptions of plots; a FigureRenderer turns them into PNGs.
struct ScatterSeries {
  std::string name;
  Rgb color{0, 0, 0};
  std::vector<float> xy;  // points × 2, row-major
};
struct ScatterFigure {
  std::string title;
  std::vector<ScatterSeries> series;
};

struct CurveSeries {
  std::string name;
  std::vector<double> x, y;
  bool right_axis = false;  // accuracies beside losses
  Rgb color{0, 0, 0};
  bool dashed = false;   // measured now and then (evaluations), not every logged step
  bool markers = false;  // a dot at every point
  bool in_legend = true;  // false: a mark on another series (a pick), not listed in the legend
};
struct CurveFigure {
  std::string title, x_label, y_label, y2_label;
  std::vector<CurveSeries> series;
  bool log_y = false;
};

struct MatrixFigure {
  std::string title, x_label, y_label;
  std::vector<std::string> labels;           // one per row/column
  std::vector<std::vector<int64_t>> counts;  // [row][column]
};

struct TableFigure {
  std::string title;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// 8-bit RGB pixels, row-major (the live embedding's GIF and strip frames).
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width × height × 3
  bool empty() const { return width <= 0 || height <= 0; }
};

// Renders plots to PNG files (written atomically). The workbench's
// QCustomPlot implementation is widgets/figure_render.h; without it
// write_figures writes the CSVs and image grids only.
class FigureRenderer {
 public:
  virtual ~FigureRenderer() = default;
  virtual void scatter(const ScatterFigure& figure, const std::filesystem::path& png) = 0;
  virtual void curves(const CurveFigure& figure, const std::filesystem::path& png) = 0;
  virtual void matrix(const MatrixFigure& figure, const std::filesystem::path& png) = 0;
  virtual void table(const TableFigure& figure, const std::filesystem::path& png) = 0;
  // The scatter as pixels (`width` × `height`), for the live embedding's GIF and strip; an empty
  // image (the default) lets the caller fall back to plain dots without text.
  virtual RgbImage scatter_image(const ScatterFigure& /*figure*/, int /*width*/, int /*height*/) { return {}; }
};

}  // namespace fan::analysis
