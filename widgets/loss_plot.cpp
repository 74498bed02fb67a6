// Live loss curves of one training stage.
#include "widgets/loss_plot.h"

#include <QVBoxLayout>
#include <qcustomplot.h>

namespace fan::widgets {
namespace {
// Bursts of points are coalesced into one replot within this many milliseconds.
constexpr int kRedrawMs = 40;
const QList<QColor> kColors = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                               QColor(214, 39, 40), QColor(148, 103, 189), QColor(140, 86, 75),
                               QColor(227, 119, 194)};
}  // namespace

LossPlot::LossPlot(const QString& title, QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, title, QFont("sans", 10, QFont::Bold)));
  plot_->xAxis->setLabel("step");
  plot_->yAxis->setLabel("loss");
  plot_->yAxis2->setLabel("accuracy");
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->setRange(0, 1);
  plot_->legend->setVisible(false);  // shown once the first series arrives
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  redraw_timer_.setSingleShot(true);
  redraw_timer_.setInterval(kRedrawMs);
  connect(&redraw_timer_, &QTimer::timeout, this, &LossPlot::redraw);
}

int LossPlot::graphFor(const QString& series) {
  auto it = graph_index_.find(series);
  if (it != graph_index_.end()) return *it;
  const bool accuracy = accuracy_series_.contains(series);
  auto* graph = plot_->addGraph(plot_->xAxis, accuracy ? plot_->yAxis2 : plot_->yAxis);
  graph->setName(series);
  plot_->legend->setVisible(true);
  QPen pen(kColors[graph_index_.size() % kColors.size()]);
  pen.setWidthF(accuracy ? 2.0 : 1.2);
  if (accuracy) pen.setStyle(Qt::DashLine);
  graph->setPen(pen);
  if (accuracy) graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 5));
  const int index = plot_->graphCount() - 1;
  graph_index_.insert(series, index);
  return index;
}

void LossPlot::addPoint(const QString& series, double step, double value) {
  pending_[series].append({step, value});
  if (!redraw_timer_.isActive()) redraw_timer_.start();
}

void LossPlot::addAccuracy(const QString& series, double step, double accuracy) {
  accuracy_series_.insert(series);
  addPoint(series, step, accuracy);
}

void LossPlot::clear() {
  plot_->clearGraphs();
  plot_->legend->setVisible(false);
  graph_index_.clear();
  accuracy_series_.clear();
  pending_.clear();
  plot_->replot();
}

int LossPlot::pointCount(const QString& series) const {
  auto it = graph_index_.find(series);
  const int pending = pending_.value(series).size();
  if (it == graph_index_.end()) return pending;
  return plot_->graph(*it)->dataCount() + pending;
}

void LossPlot::redraw() {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    auto* graph = plot_->graph(graphFor(it.key()));
    for (const auto& [x, y] : it.value()) graph->addData(x, y);
  }
  pending_.clear();
  bool first = true;
  for (int i = 0; i < plot_->graphCount(); ++i) {
    if (plot_->graph(i)->valueAxis() == plot_->yAxis) {
      plot_->graph(i)->rescaleAxes(/*onlyEnlarge=*/!first);
      first = false;
    }
  }
  for (int i = 0; i < plot_->graphCount(); ++i)
    if (plot_->graph(i)->valueAxis() == plot_->yAxis2) plot_->graph(i)->rescaleKeyAxis(/*onlyEnlarge=*/true);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace fan::widgets
