// Live loss curves of one training stage.
#include "widgets/loss_plot.h"
#include "widgets/plot_util.h"

#include "core/analysis/curves.h"
#include "widgets/figure_render.h"

#include <QCheckBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSaveFile>
#include <QSlider>
#include <QSvgGenerator>
#include <QTextStream>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace fan::widgets {
namespace {
// Bursts of points are coalesced into one replot within this many milliseconds.
constexpr int kRedrawMs = 40;
// The smoothing slider's resolution: weight = value / kSmoothingSteps.
constexpr int kSmoothingSteps = 100;
// Lines of the hover read-out under the plot (a fixed height: hovering never moves the layout).
constexpr int kReadoutLines = 2;

// `text` ("step 10: Lc 0.97, Lm 0.08, …") broken between its parts into at most `lines` lines of
// `width` pixels; what does not fit is elided at the end of the last line.
QString fit_lines(const QFontMetrics& metrics, const QString& text, int width, int lines) {
  const QStringList parts = text.split(", ");
  QStringList out;
  QString line;
  for (int i = 0; i < parts.size(); ++i) {
    const QString candidate = line.isEmpty() ? parts[i] : line + ", " + parts[i];
    if (line.isEmpty() || metrics.horizontalAdvance(candidate) <= width || static_cast<int>(out.size()) + 1 == lines) {
      line = candidate;
      continue;
    }
    out << line + ",";
    line = parts[i];
  }
  if (!line.isEmpty()) out << line;
  for (auto& l : out) l = metrics.elidedText(l, Qt::ElideRight, width);
  return out.join('\n');
}
}  // namespace

LossPlot::LossPlot(const QString& title, QWidget* parent)
    : QWidget(parent),
      plot_(new QCustomPlot(this)),
      smoothing_slider_(new QSlider(Qt::Horizontal)),
      log_box_(new QCheckBox(tr("log y"))),
      fit_box_(new QCheckBox(tr("auto-fit"))),
      hover_label_(new QLabel) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("smoothing")));
  smoothing_slider_->setRange(0, kSmoothingSteps - 1);
  smoothing_slider_->setMaximumWidth(140);
  smoothing_slider_->setToolTip(tr("Exponential moving average of the curves (0: raw)"));
  controls->addWidget(smoothing_slider_);
  controls->addWidget(log_box_);
  fit_box_->setChecked(true);
  fit_box_->setToolTip(tr("Rescale the axes to follow new data"));
  controls->addWidget(fit_box_);
  controls->addStretch(1);
  auto* export_button = new QPushButton(tr("Export…"));
  export_button->setToolTip(tr("PNG, SVG, PDF or CSV"));
  controls->addWidget(export_button);
  layout->addLayout(controls);
  layout->addWidget(plot_, 1);
  // The hover read-out has a line of its own whose size never depends on its text: however
  // many series there are, hovering cannot widen the plot (and push the docks off the screen).
  hover_label_->setObjectName("hover_readout");
  hover_label_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  hover_label_->setFixedHeight(kReadoutLines * hover_label_->fontMetrics().lineSpacing() + 2);
  hover_label_->setTextFormat(Qt::PlainText);
  hover_label_->setText(tr("hover over the plot for the values at a step"));
  hover_label_->setStyleSheet("color: #555;");
  layout->addWidget(hover_label_);

  plot_->plotLayout()->insertRow(0);
  plot_->plotLayout()->addElement(0, 0, new QCPTextElement(plot_, title, QFont("sans", 10, QFont::Bold)));
  plot_->xAxis->setLabel(tr("step"));
  plot_->yAxis->setLabel(tr("loss"));
  plot_->yAxis2->setLabel(tr("accuracy"));
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->setRange(0, 1);
  plot_->legend->setVisible(false);  // shown once the first series arrives
  plot_->legend->setFont(QFont("sans", 8));
  // The legend sits in a row under the axes, so it never covers the curves.
  plot_->axisRect()->insetLayout()->take(plot_->legend);
  plot_->plotLayout()->addElement(2, 0, plot_->legend);
  plot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot_->legend->setWrap(3);  // fitLegend() sets the columns that fit the width
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->plotLayout()->setRowStretchFactor(2, 0.001);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

  redraw_timer_.setSingleShot(true);
  redraw_timer_.setInterval(kRedrawMs);
  connect(&redraw_timer_, &QTimer::timeout, this, &LossPlot::redraw);
  connect(smoothing_slider_, &QSlider::valueChanged, this,
          [this](int v) { setSmoothing(static_cast<double>(v) / kSmoothingSteps); });
  connect(log_box_, &QCheckBox::toggled, this, &LossPlot::setLogScale);
  connect(fit_box_, &QCheckBox::toggled, this, [this](bool on) {
    setAutoFit(on);
    scheduleRedraw();
  });
  connect(export_button, &QPushButton::clicked, this, &LossPlot::exportDialog);
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
    const double step = plot_->xAxis->pixelToCoord(event->position().x());
    showReadout(readout(step));
    markStep(nearestStep(step));
  });
}

double LossPlot::nearestStep(double step) const {
  double best = NAN;
  forEachSeries([&](const QString&, const analysis::CurveSeries& s, bool) {
    for (double x : s.x)
      if (std::isnan(best) || std::abs(x - step) < std::abs(best - step)) best = x;
  });
  return best;
}

void LossPlot::markStep(double step) {
  // A thin line at the step the read-out is for (made again after clear() removed the items).
  if (hover_line_ == nullptr) {
    hover_line_ = new QCPItemStraightLine(plot_);
    hover_line_->setClipAxisRect(plot_->axisRect());
    hover_line_->setPen(QPen(QColor(120, 120, 120), 1, Qt::DotLine));
    hover_line_->setSelectable(false);
  }
  hover_line_->setVisible(!std::isnan(step));
  if (std::isnan(step)) return;
  hover_line_->point1->setCoords(step, 0);
  hover_line_->point2->setCoords(step, 1);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void LossPlot::showReadout(const QString& text) {
  hover_full_ = text;
  hover_label_->setToolTip(text);
  hover_label_->setText(fit_lines(hover_label_->fontMetrics(), text, hover_label_->width(), kReadoutLines));
}

void LossPlot::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  fitLegend();
  if (!hover_full_.isEmpty()) showReadout(hover_full_);
}

void LossPlot::fitLegend() {
  // As many columns as the widest entry allows: an entry is never cut (QCPLegend clips what
  // does not fit), the legend takes more rows instead.
  int widest = 1;
  for (int i = 0; i < plot_->legend->elementCount(); ++i)  // the grid's cells; empty ones are null
    if (auto* item = plot_->legend->elementAt(i)) widest = std::max(widest, item->minimumOuterSizeHint().width());
  const int room = std::max(1, plot_->width() - plot_->legend->margins().left() - plot_->legend->margins().right() - 8);
  const int columns = std::clamp(room / (widest + plot_->legend->columnSpacing()), 1, 4);
  if (plot_->legend->wrap() != columns) {
    plot_->legend->setWrap(columns);
    plot_->legend->setFillOrder(QCPLegend::foColumnsFirst, /*rearrange=*/true);
    plot_->replot(QCustomPlot::rpQueuedReplot);
  }
}

template <typename Fn>
void LossPlot::forEachSeries(Fn fn) const {
  for (auto it = figures_.cbegin(); it != figures_.cend(); ++it)
    for (const auto& s : it->series)
      fn(it.key().isEmpty() ? QString::fromStdString(s.name) : QString::fromStdString(s.name) + " (" + it.key() + ")",
         s, !it.key().isEmpty());
}

QCPGraph* LossPlot::graphFor(const QString& name, const analysis::CurveSeries& series, bool overlay) {
  auto it = graphs_.find(name);
  if (it != graphs_.end()) return *it;
  auto* graph = plot_->addGraph(plot_->xAxis, series.right_axis ? plot_->yAxis2 : plot_->yAxis);
  graph->setName(name);
  FigureRenderer::styleGraph(*graph, series, overlay);
  plot_->legend->setVisible(true);
  if (name == QLatin1String(analysis::kDiscriminatorAccuracy)) {
    // Where D cannot tell the domains apart: the level adaptation drives D's accuracy towards.
    auto* chance = new QCPItemStraightLine(plot_);
    chance->setClipAxisRect(plot_->axisRect());
    chance->point1->setAxes(plot_->xAxis, plot_->yAxis2);
    chance->point2->setAxes(plot_->xAxis, plot_->yAxis2);
    chance->point1->setCoords(0, 0.5);
    chance->point2->setCoords(1, 0.5);
    chance->setPen(QPen(graph->pen().color(), 1, Qt::DotLine));
    auto* label = new QCPItemText(plot_);
    label->setClipAxisRect(plot_->axisRect());
    label->position->setAxes(plot_->xAxis, plot_->yAxis2);
    label->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(0.99, 0.5);
    label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    label->setText(tr("D at chance (0.5)"));
    label->setFont(QFont("sans", 7));
    label->setColor(graph->pen().color());
  }
  graphs_.insert(name, graph);
  return graph;
}

const analysis::CurveFigure& LossPlot::curves() const {
  static const analysis::CurveFigure kNone;
  const auto it = figures_.find(QString());
  return it == figures_.end() ? kNone : *it;
}

void LossPlot::setCurves(const analysis::CurveFigure& figure, const QString& overlay) {
  figures_[overlay] = figure;
  scheduleRedraw();
}

void LossPlot::setAxisLabels(const QString& left, const QString& right) {
  plot_->yAxis->setLabel(left);
  plot_->yAxis2->setLabel(right);
  scheduleRedraw();
}

void LossPlot::scheduleRedraw() {
  if (!redraw_timer_.isActive()) redraw_timer_.start();
}

void LossPlot::clear() {
  plot_->clearGraphs();
  plot_->clearItems();
  hover_line_ = nullptr;  // deleted with the items
  hover_full_.clear();
  hover_label_->setToolTip(QString());
  hover_label_->setText(tr("hover over the plot for the values at a step"));
  plot_->legend->setVisible(false);
  graphs_.clear();
  figures_.clear();
  plot_->replot();
}

int LossPlot::pointCount(const QString& name) const { return series(name).size(); }

QStringList LossPlot::seriesNames() const {
  QStringList names;
  forEachSeries([&](const QString& name, const analysis::CurveSeries&, bool) { names << name; });
  return names;
}

QVector<QPointF> LossPlot::series(const QString& wanted) const {
  QVector<QPointF> points;
  forEachSeries([&](const QString& name, const analysis::CurveSeries& s, bool) {
    if (name != wanted) return;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) points.append(QPointF(s.x[i], s.y[i]));
  });
  return points;
}

void LossPlot::setSmoothing(double weight) {
  smoothing_ = std::clamp(weight, 0.0, 0.99);
  if (smoothing_slider_->value() != static_cast<int>(std::lround(smoothing_ * kSmoothingSteps)))
    smoothing_slider_->setValue(static_cast<int>(std::lround(smoothing_ * kSmoothingSteps)));
  scheduleRedraw();
}

void LossPlot::setLogScale(bool on) {
  if (log_box_->isChecked() != on) log_box_->setChecked(on);
  plot_->yAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  plot_->yAxis->setTicker(on ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                             : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  scheduleRedraw();
}

void LossPlot::redraw() {
  forEachSeries([&](const QString& name, const analysis::CurveSeries& s, bool overlay) {
    auto* graph = graphFor(name, s, overlay);
    QVector<double> keys, values;
    keys.reserve(static_cast<int>(s.x.size()));
    values.reserve(static_cast<int>(s.x.size()));
    double ema = 0;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      // Measured points (evaluations) are sparse: they are shown as measured.
      ema = i == 0 || s.dashed ? s.y[i] : smoothing_ * ema + (1 - smoothing_) * s.y[i];
      keys.push_back(s.x[i]);
      values.push_back(ema);
    }
    graph->setData(keys, values, /*alreadySorted=*/true);
  });
  if (auto_fit_) {
    bool first = true;
    for (int i = 0; i < plot_->graphCount(); ++i) {
      auto* graph = plot_->graph(i);
      if (graph->valueAxis() == plot_->yAxis) {
        graph->rescaleAxes(/*onlyEnlarge=*/!first);
        first = false;
      } else {
        graph->rescaleKeyAxis(/*onlyEnlarge=*/!first);
        first = false;
      }
    }
    plot_->yAxis2->setRange(0, 1);
  }
  fitLegend();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString LossPlot::readout(double step) const {
  QStringList parts;
  double shown_step = NAN;
  forEachSeries([&](const QString& name, const analysis::CurveSeries& s, bool) {
    if (s.x.empty()) return;
    // The logged point nearest to `step`.
    size_t best = 0;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::abs(s.x[i] - step) < std::abs(s.x[best] - step)) best = i;
    if (std::isnan(shown_step)) shown_step = s.x[best];
    parts << QString("%1 %2").arg(name).arg(s.y[best], 0, 'g', 4);
  });
  if (parts.isEmpty()) return {};
  return tr("step %1: %2").arg(shown_step).arg(parts.join(", "));
}

bool LossPlot::exportPng(const QString& path, int width, int height) {
  redraw();
  return write_atomically(path, [&](const QString& tmp) {
    return plot_->savePng(tmp, width, height) && QFileInfo(tmp).size() > 0;
  });
}

bool LossPlot::exportPdf(const QString& path, int width, int height) {
  redraw();
  return write_atomically(path, [&](const QString& tmp) {
    return plot_->savePdf(tmp, width, height) && QFileInfo(tmp).size() > 0;
  });
}

bool LossPlot::exportSvg(const QString& path, int width, int height) {
  redraw();
  return write_atomically(path, [&](const QString& tmp) {
    QSvgGenerator generator;
    generator.setFileName(tmp);
    generator.setSize(QSize(width, height));
    generator.setViewBox(QRect(0, 0, width, height));
    QCPPainter painter;
    if (!painter.begin(&generator)) return false;
    plot_->toPainter(&painter, width, height);
    painter.end();
    return QFileInfo(tmp).size() > 0;
  });
}

bool LossPlot::exportCsv(const QString& path) const {
  return write_atomically(path, [&](const QString& tmp) {
    QFile file(tmp);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
    QTextStream out(&file);
    out << "step,series,value\n";
    forEachSeries([&](const QString& name, const analysis::CurveSeries& s, bool) {
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
        out << s.x[i] << ',' << name << ',' << QString::number(s.y[i], 'g', 10) << '\n';
    });
    out.flush();
    return file.error() == QFile::NoError;
  });
}

void LossPlot::exportDialog() {
  QString selected;
  const auto path = QFileDialog::getSaveFileName(this, tr("Export plot"), "loss.png",
                                                 "PNG (*.png);;SVG (*.svg);;PDF (*.pdf);;CSV (*.csv)", &selected);
  if (path.isEmpty()) return;
  const auto suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "svg") exportSvg(path);
  else if (suffix == "pdf") exportPdf(path);
  else if (suffix == "csv") exportCsv(path);
  else exportPng(path);
}

}  // namespace fan::widgets
