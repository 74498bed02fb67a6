// A matrix as a heat map with a hover read-out.
#include "widgets/heat_map.h"

#include "widgets/figure_render.h"

#include <qcustomplot.h>
#include <QLabel>
#include <QMouseEvent>
#include <QVBoxLayout>

#include <cmath>

namespace fan::widgets {

HeatMap::HeatMap(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)), hover_(new QLabel) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(1);
  layout->addWidget(plot_, 1);
  // A fixed line for the read-out: its text never resizes the map or the panel around it.
  hover_->setObjectName("heat_map_readout");
  hover_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  hover_->setFixedHeight(hover_->fontMetrics().height() + 2);
  hover_->setTextFormat(Qt::PlainText);
  hover_->setStyleSheet("color: #555;");
  layout->addWidget(hover_);
  plot_->setMinimumHeight(220);
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
    const auto [row, column] = cellAt(event->position());
    readout_ = cellText(row, column);
    hover_->setText(hover_->fontMetrics().elidedText(readout_, Qt::ElideRight, hover_->width()));
    plot_->setToolTip(readout_);
  });
}

void HeatMap::setMatrix(const analysis::MatrixFigure& figure) {
  figure_ = figure;
  FigureRenderer::drawMatrix(*plot_, figure_);
  // A panel is narrower than a `fan figures` page: a smaller title that fits.
  if (auto* title = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0)))
    title->setFont(QFont("sans", 9, QFont::Bold));
  hover_->setText(tr("colour: share of the true class; hover a cell for its count"));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HeatMap::clear() {
  figure_ = analysis::MatrixFigure();
  plot_->clearPlottables();
  plot_->clearItems();
  readout_.clear();
  hover_->clear();
  plot_->setToolTip(QString());
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

std::pair<int, int> HeatMap::cellAt(const QPointF& pixel) const {
  const int n = static_cast<int>(figure_.counts.size());
  const int column = static_cast<int>(std::lround(plot_->xAxis->pixelToCoord(pixel.x())));
  // drawMatrix puts true class 0 at the top.
  const int row = n - 1 - static_cast<int>(std::lround(plot_->yAxis->pixelToCoord(pixel.y())));
  if (row < 0 || row >= n || column < 0 || column >= n) return {-1, -1};
  return {row, column};
}

QString HeatMap::cellText(int row, int column) const {
  const int n = static_cast<int>(figure_.counts.size());
  if (row < 0 || row >= n || column < 0 || column >= static_cast<int>(figure_.counts[row].size())) return {};
  auto label = [&](int i) {
    return i < static_cast<int>(figure_.labels.size()) ? QString::fromStdString(figure_.labels[i])
                                                       : QString::number(i);
  };
  int64_t total = 0;
  for (auto v : figure_.counts[row]) total += v;
  const auto count = figure_.counts[row][column];
  return (count == 1 ? tr("true %1, predicted %2: %3 image (%4 % of true %1)")
                     : tr("true %1, predicted %2: %3 images (%4 % of true %1)"))
      .arg(label(row), label(column))
      .arg(count)
      .arg(total > 0 ? 100.0 * count / total : 0.0, 0, 'f', 1);
}

}  // namespace fan::widgets
