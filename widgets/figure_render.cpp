// Offscreen PNGs of the analysis figures with QCustomPlot.
#include "widgets/figure_render.h"

#include "core/analysis/curves.h"

#include <qcustomplot.h>
#include <QBuffer>
#include <QPainter>
#include <QSaveFile>

#include <algorithm>
#include <stdexcept>

namespace fan::widgets {
namespace {

// Scatter markers are drawn slightly transparent so that dense clusters show their density.
constexpr int kMarkerAlpha = 170;
// Title font size (points) of every figure.
constexpr int kTitlePointSize = 11;

QString q(const std::string& s) { return QString::fromStdString(s); }
QColor color(const analysis::Rgb& c, int alpha = 255) { return QColor(c[0], c[1], c[2], alpha); }

// Sets the title row, adding it the first time (drawing again onto the same plot reuses it).
void add_title(QCustomPlot& plot, const std::string& title) {
  if (auto* existing = qobject_cast<QCPTextElement*>(plot.plotLayout()->element(0, 0))) {
    existing->setText(q(title));
    return;
  }
  plot.plotLayout()->insertRow(0);
  plot.plotLayout()->addElement(
      0, 0, new QCPTextElement(&plot, q(title), QFont("sans", kTitlePointSize, QFont::Bold)));
}

void write_atomically(const std::filesystem::path& png, const QByteArray& bytes) {
  QSaveFile file(QString::fromStdString(png.string()));
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
    throw std::runtime_error(png.string() + ": cannot write the figure (" + file.errorString().toStdString() +
                             ")");
}

}  // namespace

void FigureRenderer::save(QCustomPlot& plot, const std::filesystem::path& png) const {
  plot.resize(width_, height_);
  plot.replot(QCustomPlot::rpImmediateRefresh);
  const QPixmap pixmap = plot.toPixmap(width_, height_);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  pixmap.save(&buffer, "PNG");
  write_atomically(png, bytes);
}

void FigureRenderer::drawScatter(QCustomPlot& plot, const analysis::ScatterFigure& figure,
                                 double marker_size) {
  plot.clearGraphs();
  add_title(plot, figure.title);
  for (const auto& s : figure.series) {
    auto* graph = plot.addGraph();
    graph->setName(q(s.name));
    graph->setLineStyle(QCPGraph::lsNone);
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color(s.color, kMarkerAlpha),
                                           color(s.color, kMarkerAlpha), marker_size));
    graph->setAdaptiveSampling(false);
    QVector<double> x, y;
    for (size_t i = 0; i + 1 < s.xy.size(); i += 2) {
      x.append(s.xy[i]);
      y.append(s.xy[i + 1]);
    }
    // addData with unsorted keys keeps every point (a scatter, not a curve).
    graph->data()->set(QVector<QCPGraphData>(), true);
    for (int i = 0; i < x.size(); ++i) graph->data()->add(QCPGraphData(x[i], y[i]));
  }
  plot.rescaleAxes();
  // t-SNE coordinates carry no units: no tick labels, a little margin.
  for (auto* axis : {plot.xAxis, plot.yAxis}) {
    axis->setTickLabels(false);
    axis->scaleRange(1.05, axis->range().center());
  }
  plot.legend->setVisible(true);
  plot.legend->setBrush(QColor(255, 255, 255, 200));
}

void FigureRenderer::drawCurves(QCustomPlot& plot, const analysis::CurveFigure& figure) {
  plot.clearGraphs();
  add_title(plot, figure.title);
  bool right = false;
  for (size_t k = 0; k < figure.series.size(); ++k) {
    const auto& s = figure.series[k];
    right = right || s.right_axis;
    auto* graph = plot.addGraph(plot.xAxis, s.right_axis ? plot.yAxis2 : plot.yAxis);
    graph->setName(q(s.name));
    styleGraph(*graph, s);
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
      if (!figure.log_y || s.right_axis || s.y[i] > 0) graph->addData(s.x[i], s.y[i]);
  }
  plot.xAxis->setLabel(q(figure.x_label));
  plot.yAxis->setLabel(q(figure.y_label));
  if (figure.log_y) {
    plot.yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot.yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  }
  plot.yAxis2->setVisible(right);
  plot.yAxis2->setLabel(q(figure.y2_label));
  plot.rescaleAxes();
  // A margin, so that points on the extremes (a lone source-only accuracy) are not cut by the frame.
  plot.yAxis->scaleRange(1.1, plot.yAxis->range().center());
  plot.xAxis->scaleRange(1.02, plot.xAxis->range().center());
  if (right) plot.yAxis2->setRange(0, 1);
  plot.legend->setVisible(true);
  plot.legend->setBrush(QColor(255, 255, 255, 200));
}

void FigureRenderer::styleGraph(QCPGraph& graph, const analysis::CurveSeries& s, bool overlay) {
  QColor color(s.color[0], s.color[1], s.color[2]);
  if (overlay) color.setAlpha(140);
  QPen pen(color);
  pen.setWidthF(s.dashed ? 2.0 : 1.4);
  pen.setStyle(overlay ? Qt::DotLine : s.dashed ? Qt::DashLine : Qt::SolidLine);
  // The discriminator's accuracy shares the accuracy axis with the test accuracies but is no
  // test accuracy (it tells domains apart, ideally at chance): a pattern of its own.
  if (!overlay && s.name == analysis::kDiscriminatorAccuracy) {
    pen.setStyle(Qt::CustomDashLine);
    pen.setDashPattern({6, 2, 1.5, 2});
    pen.setWidthF(1.6);
  }
  graph.setPen(pen);
  // A lone mark (a pick) is drawn larger than the dots along a curve.
  graph.setScatterStyle(s.markers ? QCPScatterStyle(QCPScatterStyle::ssDisc, s.in_legend ? 5 : 9) : QCPScatterStyle());
  if (!s.in_legend) graph.removeFromLegend();
}

void FigureRenderer::drawMatrix(QCustomPlot& plot, const analysis::MatrixFigure& figure) {
  plot.clearPlottables();
  plot.clearItems();
  add_title(plot, figure.title);
  const int n = static_cast<int>(figure.counts.size());
  auto* map = new QCPColorMap(plot.xAxis, plot.yAxis);
  map->data()->setSize(n, n);
  map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
  for (int r = 0; r < n; ++r) {
    int64_t total = 0;
    for (auto v : figure.counts[r]) total += v;
    for (int c = 0; c < n; ++c) {
      const double fraction = total > 0 ? static_cast<double>(figure.counts[r][c]) / total : 0.0;
      // Rows run top to bottom (true class 0 at the top), as confusion matrices are read.
      map->data()->setCell(c, n - 1 - r, fraction);
      auto* text = new QCPItemText(&plot);
      text->position->setCoords(c, n - 1 - r);
      text->setText(QString::number(figure.counts[r][c]));
      text->setColor(fraction > 0.5 ? Qt::white : Qt::black);
      text->setFont(QFont("sans", 8));
    }
  }
  QCPColorGradient blues;  // white (0 %) to dark blue (100 % of the row)
  blues.setColorStopAt(0, Qt::white);
  blues.setColorStopAt(1, QColor(8, 48, 107));
  map->setGradient(blues);
  map->setDataRange(QCPRange(0, 1));
  map->setInterpolate(false);
  QSharedPointer<QCPAxisTickerText> x_ticks(new QCPAxisTickerText), y_ticks(new QCPAxisTickerText);
  for (int i = 0; i < n && i < static_cast<int>(figure.labels.size()); ++i) {
    x_ticks->addTick(i, q(figure.labels[i]));
    y_ticks->addTick(n - 1 - i, q(figure.labels[i]));
  }
  plot.xAxis->setTicker(x_ticks);
  plot.yAxis->setTicker(y_ticks);
  plot.xAxis->setLabel(q(figure.x_label));
  plot.yAxis->setLabel(q(figure.y_label));
  plot.xAxis->setRange(-0.5, n - 0.5);
  plot.yAxis->setRange(-0.5, n - 0.5);
  plot.xAxis->grid()->setVisible(false);
  plot.yAxis->grid()->setVisible(false);
  plot.legend->setVisible(false);
}

void FigureRenderer::scatter(const analysis::ScatterFigure& figure, const std::filesystem::path& png) {
  QCustomPlot plot;
  drawScatter(plot, figure);
  save(plot, png);
}

analysis::RgbImage FigureRenderer::scatter_image(const analysis::ScatterFigure& figure, int width, int height) {
  QCustomPlot plot;
  drawScatter(plot, figure, /*marker_size=*/3.5);
  plot.resize(width, height);
  plot.replot(QCustomPlot::rpImmediateRefresh);
  const QImage image = plot.toPixmap(width, height).toImage().convertToFormat(QImage::Format_RGB888);
  analysis::RgbImage out{image.width(), image.height(), {}};
  out.rgb.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y)
    std::copy_n(image.constScanLine(y), out.width * 3, &out.rgb[static_cast<size_t>(y) * out.width * 3]);
  return out;
}

void FigureRenderer::curves(const analysis::CurveFigure& figure, const std::filesystem::path& png) {
  QCustomPlot plot;
  drawCurves(plot, figure);
  save(plot, png);
}

void FigureRenderer::matrix(const analysis::MatrixFigure& figure, const std::filesystem::path& png) {
  QCustomPlot plot;
  drawMatrix(plot, figure);
  save(plot, png);
}

void FigureRenderer::table(const analysis::TableFigure& figure, const std::filesystem::path& png) {
  // A table is text, not a plot: QPainter on an image.
  const int columns = static_cast<int>(figure.header.size());
  const int row_height = 28, column_width = 220, margin = 16, title_height = 40;
  const int width = margin * 2 + columns * column_width;
  const int height = margin * 2 + title_height + row_height * (static_cast<int>(figure.rows.size()) + 1);
  QImage image(width, height, QImage::Format_ARGB32);
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.setRenderHint(QPainter::TextAntialiasing);
  painter.setFont(QFont("sans", 9, QFont::Bold));
  painter.drawText(QRect(margin, margin, width - 2 * margin, title_height), Qt::AlignLeft | Qt::TextWordWrap,
                   q(figure.title));
  auto draw_row = [&](int row, const std::vector<std::string>& cells, bool bold) {
    painter.setFont(QFont("sans", 10, bold ? QFont::Bold : QFont::Normal));
    const int y = margin + title_height + row * row_height;
    for (int c = 0; c < columns && c < static_cast<int>(cells.size()); ++c)
      painter.drawText(QRect(margin + c * column_width, y, column_width, row_height),
                       (c == 0 ? Qt::AlignLeft : Qt::AlignHCenter) | Qt::AlignVCenter, q(cells[c]));
    painter.setPen(QColor(200, 200, 200));
    painter.drawLine(margin, y + row_height, width - margin, y + row_height);
    painter.setPen(Qt::black);
  };
  draw_row(0, figure.header, true);
  for (size_t r = 0; r < figure.rows.size(); ++r) draw_row(static_cast<int>(r) + 1, figure.rows[r], false);
  painter.end();
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  write_atomically(png, bytes);
}

}  // namespace fan::widgets
