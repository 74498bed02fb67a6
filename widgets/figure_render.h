// Offscreen PNGs of the analysis figures with QCustomPlot (the same plotting code as the workbench).
#pragma once
#include "core/analysis/plot_data.h"

class QCustomPlot;
class QCPGraph;
class QString;

namespace fan::widgets {

// Draws analysis::*Figure values onto a QCustomPlot (usable in a live widget
// too) and saves PNGs atomically (QSaveFile). Needs a QApplication; with no
// display, run it with QT_QPA_PLATFORM=offscreen.
class FigureRenderer : public analysis::FigureRenderer {
 public:
  FigureRenderer(int width = 900, int height = 750) : width_(width), height_(height) {}
  void scatter(const analysis::ScatterFigure& figure, const std::filesystem::path& png) override;
  void curves(const analysis::CurveFigure& figure, const std::filesystem::path& png) override;
  void matrix(const analysis::MatrixFigure& figure, const std::filesystem::path& png) override;
  void table(const analysis::TableFigure& figure, const std::filesystem::path& png) override;
  // The scatter as pixels (the live embedding's GIF and strip frames).
  analysis::RgbImage scatter_image(const analysis::ScatterFigure& figure, int width, int height) override;

  // The drawing part alone, onto a plot the caller owns (e.g. a panel's).
  static void drawScatter(QCustomPlot& plot, const analysis::ScatterFigure& figure, double marker_size = 4.0);
  static void drawCurves(QCustomPlot& plot, const analysis::CurveFigure& figure);
  static void drawMatrix(QCustomPlot& plot, const analysis::MatrixFigure& figure);
  // A curve's pen and markers from its description (colour, dashed, markers):
  // one style for `fan figures` and the live plots. `overlay`: a compared run's curve, dotted and lighter.
  static void styleGraph(QCPGraph& graph, const analysis::CurveSeries& series, bool overlay = false);

 private:
  void save(QCustomPlot& plot, const std::filesystem::path& png) const;
  int width_, height_;
};

}  // namespace fan::widgets
