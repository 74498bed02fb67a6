// A grouped bar chart with outlines and a hover read-out.
#include "widgets/bar_chart.h"

#include <qcustomplot.h>
#include <QLabel>
#include <QMouseEvent>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace fan::widgets {
namespace {
// Share of a category's width that its group of bars takes (the rest separates the groups).
constexpr double kGroupWidth = 0.8;
// Room above the tallest bar, so outlines and the legend do not touch the frame.
constexpr double kHeadroom = 1.25;
}  // namespace

BarChart::BarChart(QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)), hover_(new QLabel), group_(new QCPBarsGroup(plot_)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(1);
  layout->addWidget(plot_, 1);
  // A fixed line for the read-out: its text never resizes the chart or the panel around it.
  hover_->setObjectName("bar_readout");
  hover_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  hover_->setFixedHeight(hover_->fontMetrics().height() + 2);
  hover_->setTextFormat(Qt::PlainText);
  hover_->setStyleSheet("color: #555;");
  layout->addWidget(hover_);
  plot_->setMinimumHeight(160);
  group_->setSpacingType(QCPBarsGroup::stAbsolute);
  group_->setSpacing(1);
  plot_->legend->setVisible(false);
  plot_->legend->setFont(QFont("sans", 8));
  plot_->legend->setBorderPen(Qt::NoPen);
  // The legend has a row of its own under the bars: it never covers a bar, and its columns
  // follow the width (fitLegend), so no name is cut.
  plot_->axisRect()->insetLayout()->take(plot_->legend);
  plot_->plotLayout()->addElement(1, 0, plot_->legend);
  plot_->plotLayout()->setRowStretchFactor(1, 0.001);
  plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot_->xAxis->grid()->setVisible(false);
  plot_->xAxis->setTickLength(0, 3);
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
    const int category = static_cast<int>(std::lround(plot_->xAxis->pixelToCoord(event->position().x())));
    const QString text = readout(category);
    hover_->setText(hover_->fontMetrics().elidedText(text, Qt::ElideRight, hover_->width()));
    hover_->setToolTip(text);
  });
}

void BarChart::setTitle(const QString& title) {
  if (auto* existing = qobject_cast<QCPTextElement*>(plot_->plotLayout()->element(0, 0))) {
    existing->setText(title);
  } else {
    plot_->plotLayout()->insertRow(0);
    plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, title, QFont("sans", 9, QFont::Bold)));
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void BarChart::setAxisLabels(const QString& x, const QString& y) {
  plot_->xAxis->setLabel(x);
  plot_->yAxis->setLabel(y);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void BarChart::setPercent(bool on) {
  percent_ = on;
  rebuild();
}

void BarChart::setCategories(const QStringList& labels) {
  categories_ = labels;
  rebuild();
}

void BarChart::setBars(const QString& name, const QVector<double>& values, const QColor& color) {
  if (!bar_order_.contains(name)) bar_order_ << name;
  values_[name] = values;
  colors_[name] = color;
  rebuild();
}

void BarChart::setOutline(const QString& name, const QVector<double>& values, const QColor& color) {
  if (!outline_order_.contains(name)) outline_order_ << name;
  values_[name] = values;
  colors_[name] = color;
  rebuild();
}

void BarChart::remove(const QString& name) {
  bar_order_.removeAll(name);
  outline_order_.removeAll(name);
  values_.remove(name);
  colors_.remove(name);
  rebuild();
}

void BarChart::clear() {
  bar_order_.clear();
  outline_order_.clear();
  values_.clear();
  colors_.clear();
  hover_->clear();
  hover_->setToolTip(QString());
  rebuild();
}

QString BarChart::format(double v) const {
  return percent_ ? QString("%1 %").arg(100 * v, 0, 'f', 1) : QString::number(v, 'g', 4);
}

QString BarChart::readout(int category) const {
  if (category < 0 || category >= categories_.size()) return {};
  QStringList parts;
  for (const auto& name : bar_order_ + outline_order_) {
    const auto& v = values_[name];
    if (category < v.size()) parts << QString("%1 %2").arg(name, format(v[category]));
  }
  return QString("%1: %2").arg(categories_[category], parts.join(", "));
}

void BarChart::rebuild() {
  plot_->clearPlottables();
  const double scale = percent_ ? 100.0 : 1.0;
  const int n = static_cast<int>(categories_.size());
  QVector<double> keys(n);
  for (int i = 0; i < n; ++i) keys[i] = i;
  double top = 0;
  const int bars = std::max<int>(1, static_cast<int>(bar_order_.size()));
  for (const auto& name : bar_order_) {
    auto* bar = new QCPBars(plot_->xAxis, plot_->yAxis);
    bar->setName(name);
    bar->setWidth(kGroupWidth / bars);
    bar->setPen(QPen(colors_[name].darker(130)));
    bar->setBrush(colors_[name]);
    bar->setBarsGroup(group_);
    QVector<double> v(n, 0.0);
    for (int i = 0; i < n && i < values_[name].size(); ++i) v[i] = values_[name][i] * scale;
    for (double x : v) top = std::max(top, x);
    bar->setData(keys, v, /*alreadySorted=*/true);
  }
  for (const auto& name : outline_order_) {
    // A step line spanning each whole category (the group's width and the gap), so it reads as an
    // outline of the distribution over the bars, with a marker on each category's value.
    QVector<double> x, y, marks;
    for (int i = 0; i < n && i < values_[name].size(); ++i) marks << values_[name][i] * scale;
    if (marks.isEmpty()) continue;
    for (int i = 0; i < marks.size(); ++i) {
      if (i == 0) {
        x << -0.5;
        y << marks[0];
      }
      x << i;
      y << marks[i];
      top = std::max(top, marks[i]);
    }
    x << marks.size() - 0.5;
    y << marks.back();
    auto* outline = plot_->addGraph(plot_->xAxis, plot_->yAxis);
    outline->setName(name);
    outline->setLineStyle(QCPGraph::lsStepCenter);
    outline->setPen(QPen(colors_[name], 2.2));
    outline->setData(x, y, /*alreadySorted=*/true);
    auto* markers = plot_->addGraph(plot_->xAxis, plot_->yAxis);
    markers->setName(name + " markers");
    markers->setLineStyle(QCPGraph::lsNone);
    markers->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, colors_[name], Qt::white, 7));
    markers->setData(keys.mid(0, marks.size()), marks, /*alreadySorted=*/true);
    markers->removeFromLegend();
  }
  QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
  for (int i = 0; i < n; ++i) ticks->addTick(i, categories_[i]);
  plot_->xAxis->setTicker(ticks);
  plot_->xAxis->setRange(-0.6, std::max(0, n - 1) + 0.6);
  plot_->yAxis->setRange(0, top > 0 ? top * kHeadroom : scale);
  plot_->legend->setVisible(!bar_order_.isEmpty() || !outline_order_.isEmpty());
  fitLegend();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void BarChart::fitLegend() {
  int widest = 1;
  for (int i = 0; i < plot_->legend->elementCount(); ++i)  // the grid's cells; empty ones are null
    if (auto* item = plot_->legend->elementAt(i))
      widest = std::max(widest, item->minimumOuterSizeHint().width());
  const int room = std::max(1, plot_->width() - 16);
  const int columns = std::clamp(room / (widest + plot_->legend->columnSpacing()), 1, 3);
  if (plot_->legend->wrap() != columns) {
    plot_->legend->setWrap(columns);
    plot_->legend->setFillOrder(QCPLegend::foColumnsFirst, /*rearrange=*/true);
  }
}

void BarChart::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  fitLegend();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace fan::widgets
