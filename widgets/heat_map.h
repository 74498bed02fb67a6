// A matrix as a heat map (QCPColorMap, the same drawing as `fan figures`) with a hover read-out of the cell.
#pragma once
#include "core/analysis/plot_data.h"

#include <QWidget>

class QCustomPlot;
class QLabel;

namespace fan::widgets {

// A confusion matrix: rows are true classes (top to bottom), columns predicted ones; each cell
// coloured by its share of the row, its count written in it. Hovering a cell names it.
class HeatMap : public QWidget {
  Q_OBJECT
 public:
  explicit HeatMap(QWidget* parent = nullptr);
  void setMatrix(const analysis::MatrixFigure& figure);
  void clear();
  const analysis::MatrixFigure& matrix() const { return figure_; }
  // "true 3, predicted 5: 12 images (7.2 % of true 3)"; empty outside the matrix.
  QString cellText(int row, int column) const;
  // The cell under a point of the plot (row, column), or (-1, -1).
  std::pair<int, int> cellAt(const QPointF& pixel) const;
  QString shownReadout() const { return readout_; }
  QCustomPlot* plot() const { return plot_; }

 private:
  QCustomPlot* plot_;
  QLabel* hover_;
  analysis::MatrixFigure figure_;
  QString readout_;
};

}  // namespace fan::widgets
