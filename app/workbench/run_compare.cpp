// Comparing runs: config diff, mean ± std curve bands, config-vs-result scatter.
#include "run_compare.h"

#include "core/io/run_dir.h"
#include "core/sweep/sweep.h"
#include "runs_table_model.h"
#include "widgets/figure_render.h"
#include "widgets/plot_util.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFont>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextStream>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace fan::app {
namespace {

// The band's fill and edges: translucent enough that overlapping groups stay readable.
constexpr int kBandFillAlpha = 45;
constexpr int kBandEdgeAlpha = 90;
// Pen styles that tell series apart when the colour already names the group.
const Qt::PenStyle kSeriesStyles[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};

QColor qcolor(const analysis::Rgb& rgb, int alpha = 255) { return QColor(rgb[0], rgb[1], rgb[2], alpha); }
// matplotlib's tab10 by index (series_color's fallback for a name it does not know).
analysis::Rgb set_color(size_t index) { return analysis::series_color("", index); }

// A run's result, NaN when it lacks it (plain doubles: GCC misreads optionals through ternaries).
double result_or_nan(const io::RunSummary& run, const std::string& name) {
  const auto v = run.results ? sweep::result_value(*run.results, name) : std::nullopt;
  return v.value_or(std::numeric_limits<double>::quiet_NaN());
}

QString result_text(const std::string& name, double v) {
  if (std::isnan(v)) return QString::fromUtf8("–");
  return QString::number(v, 'f', name == "seconds" ? 1 : 4);
}


// A title row above the axes and the legend in a row under them, as LossPlot lays out its plots.
void layout_plot(QCustomPlot& plot, QCPTextElement*& title) {
  plot.plotLayout()->insertRow(0);
  title = new QCPTextElement(&plot, QString(), QFont("sans", 10, QFont::Bold));
  plot.plotLayout()->addElement(0, 0, title);
  plot.legend->setVisible(false);
  plot.legend->setFont(QFont("sans", 8));
  plot.axisRect()->insetLayout()->take(plot.legend);
  plot.plotLayout()->addElement(2, 0, plot.legend);
  plot.legend->setFillOrder(QCPLegend::foColumnsFirst);
  plot.legend->setWrap(3);
  plot.legend->setBorderPen(Qt::NoPen);
  plot.plotLayout()->setRowStretchFactor(2, 0.001);
  plot.setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
}

QCPTextElement* title_of(QCustomPlot& plot) {
  return qobject_cast<QCPTextElement*>(plot.plotLayout()->element(0, 0));
}

}  // namespace

BandSeries average_series(const std::vector<const analysis::CurveSeries*>& per_run) {
  BandSeries band;
  std::vector<std::map<double, double>> by_step;
  for (const auto* s : per_run) {
    if (!s) continue;
    auto& points = by_step.emplace_back();
    // A resumed run may log a step twice; its last value counts.
    for (size_t i = 0; i < s->x.size() && i < s->y.size(); ++i) points[s->x[i]] = s->y[i];
    if (band.runs++ == 0) {
      band.series = QString::fromStdString(s->name);
      band.right_axis = s->right_axis;
      band.markers = s->markers;
    }
  }
  if (by_step.empty()) return band;
  // The steps every run has: runs of a group share them unless one stopped early.
  for (const auto& [step, value] : by_step.front()) {
    std::vector<double> values;
    for (const auto& points : by_step) {
      const auto it = points.find(step);
      if (it == points.end()) break;
      values.push_back(it->second);
    }
    if (values.size() != by_step.size()) continue;
    const auto s = sweep::stats(values);
    band.steps.push_back(step);
    band.mean.push_back(s.mean);
    band.std.push_back(s.std);
  }
  return band;
}

// ---- RunDiffView ----

RunDiffView::RunDiffView(QWidget* parent) : QWidget(parent), title_(new QLabel), table_(new QTableWidget) {
  auto* layout = new QVBoxLayout(this);
  title_->setWordWrap(true);
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(title_);
  table_->setColumnCount(4);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  layout->addWidget(table_, 1);
  title_->setText(tr("Select two runs in the runs table and press Diff."));
}

void RunDiffView::setRuns(const io::RunSummary& a, const io::RunSummary& b) {
  const QString name_a = QString::fromStdString(a.path.filename().string());
  const QString name_b = QString::fromStdString(b.path.filename().string());
  title_->setText(tr("A = %1 (%2)\nB = %3 (%4)")
                      .arg(name_a, QString::fromStdString(a.path.string()), name_b,
                           QString::fromStdString(b.path.string())));
  table_->setRowCount(0);
  table_->setHorizontalHeaderLabels(
      {tr("field"), tr("A: %1").arg(name_a), tr("B: %1").arg(name_b), tr("B − A")});
  changed_.clear();
  QFont bold = table_->font();
  bold.setBold(true);
  auto add_row = [&](const QStringList& cells, bool heading = false) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    for (int c = 0; c < cells.size(); ++c) {
      auto* item = new QTableWidgetItem(cells[c]);
      if (heading) item->setFont(bold);
      if (c > 0) item->setToolTip(cells[c]);
      table_->setItem(row, c, item);
    }
    if (heading) table_->setSpan(row, 0, 1, 4);
  };
  const auto differences = sweep::diff(a.config, b.config);
  add_row({differences.empty()
               ? tr("config: the same")
               : tr("config: %n changed field(s)", nullptr, static_cast<int>(differences.size()))},
          true);
  for (const auto& d : differences) {
    const QString key = QString::fromStdString(d.key);
    changed_ << key;
    QString delta;
    if (d.a.is_number() && d.b.is_number() && !d.a.is_boolean())
      delta = QString::number(d.b.get<double>() - d.a.get<double>(), 'g', 6);
    add_row({key, json_text(d.a), json_text(d.b), delta});
  }
  // The results either run has, in result_names' order.
  std::vector<std::string> names;
  for (const auto* s : {&a, &b})
    if (s->results)
      for (const auto& n : sweep::result_names(*s->results))
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  add_row({names.empty() ? tr("results: neither run has finished") : tr("results")}, true);
  for (const auto& n : names) {
    const double va = result_or_nan(a, n), vb = result_or_nan(b, n);
    const QString delta = std::isnan(va) || std::isnan(vb) ? QString() : result_text(n, vb - va);
    add_row({column_title(RunColumn::result(n)), result_text(n, va), result_text(n, vb), delta});
  }
}

// ---- GroupOverlay ----

GroupOverlay::GroupOverlay(QWidget* parent)
    : QWidget(parent),
      view_box_(new QComboBox),
      series_list_(new QListWidget),
      message_(new QLabel),
      plot_(new QCustomPlot) {
  auto* layout = new QHBoxLayout(this);
  auto* side = new QVBoxLayout;
  side->addWidget(new QLabel(tr("curves")));
  view_box_->addItem(tr("test accuracy (all steps)"), static_cast<int>(CurveView::kAccuracy));
  view_box_->addItem(tr("stage 1 losses"), static_cast<int>(CurveView::kStage1));
  view_box_->addItem(tr("stage 2 losses"), static_cast<int>(CurveView::kStage2));
  side->addWidget(view_box_);
  side->addWidget(new QLabel(tr("series (mean ± std)")));
  series_list_->setToolTip(
      tr("Each checked series is averaged point-wise by step over the runs of each group"));
  side->addWidget(series_list_, 1);
  message_->setWordWrap(true);
  side->addWidget(message_);
  auto* export_button = new QPushButton(tr("Export…"));
  export_button->setToolTip(tr("PNG, PDF, SVG, or CSV of the plotted series"));
  side->addWidget(export_button);
  auto* side_widget = new QWidget;
  side_widget->setLayout(side);
  side_widget->setMaximumWidth(300);
  layout->addWidget(side_widget);
  layout->addWidget(plot_, 1);
  plot_->setMinimumSize(400, 300);
  QCPTextElement* title = nullptr;
  layout_plot(*plot_, title);

  connect(view_box_, &QComboBox::currentIndexChanged, this,
          [this](int) { setView(static_cast<CurveView>(view_box_->currentData().toInt())); });
  connect(series_list_, &QListWidget::itemChanged, this, [this] {
    if (!updating_) redraw();
  });
  connect(export_button, &QPushButton::clicked, this, &GroupOverlay::exportDialog);
  redraw();
}

const analysis::CurveBuilder* GroupOverlay::curvesOf(const QString& path) {
  if (const auto it = curves_.constFind(path); it != curves_.constEnd()) return &*it;
  if (problems_.contains(path)) return nullptr;
  try {
    const auto records = io::RunDirectory(path.toStdString()).read_metrics();
    return &*curves_.insert(path, analysis::curves_from_metrics(records));
  } catch (const std::exception& error) {
    problems_.insert(path, QString::fromUtf8(error.what()));
    return nullptr;
  }
}

const analysis::CurveFigure* GroupOverlay::figureOf(const QString& path) {
  const auto* curves = curvesOf(path);
  if (!curves) return nullptr;
  switch (view_) {
    case CurveView::kStage1:
      return &curves->stage(1);
    case CurveView::kStage2:
      return &curves->stage(2);
    case CurveView::kAccuracy:
      break;
  }
  return &curves->accuracy();
}

void GroupOverlay::setSets(std::vector<RunSet> sets) {
  sets_ = std::move(sets);
  rebuildSeriesList();
  redraw();
}

void GroupOverlay::setView(CurveView view) {
  view_ = view;
  const int index = view_box_->findData(static_cast<int>(view));
  if (index != view_box_->currentIndex()) {
    const QSignalBlocker block(view_box_);
    view_box_->setCurrentIndex(index);
  }
  rebuildSeriesList();
  redraw();
}

QStringList GroupOverlay::availableSeries() const {
  QStringList out;
  for (int i = 0; i < series_list_->count(); ++i) out << series_list_->item(i)->text();
  return out;
}

QStringList GroupOverlay::chosenSeries() const {
  QStringList out;
  for (int i = 0; i < series_list_->count(); ++i)
    if (series_list_->item(i)->checkState() == Qt::Checked) out << series_list_->item(i)->text();
  return out;
}

void GroupOverlay::setSeries(const QStringList& names) {
  updating_ = true;
  for (int i = 0; i < series_list_->count(); ++i)
    series_list_->item(i)->setCheckState(names.contains(series_list_->item(i)->text()) ? Qt::Checked
                                                                                       : Qt::Unchecked);
  updating_ = false;
  redraw();
}

void GroupOverlay::rebuildSeriesList() {
  const QStringList before = chosenSeries();
  QStringList names;
  for (const auto& set : sets_)
    for (const auto& path : set.paths)
      if (const auto* figure = figureOf(path))
        for (const auto& s : figure->series) {
          const QString name = QString::fromStdString(s.name);
          if (s.in_legend && !names.contains(name)) names << name;
        }
  QStringList chosen;
  for (const auto& n : before)
    if (names.contains(n)) chosen << n;
  if (chosen.isEmpty()) {
    // The number the paper reports: the target network's target test accuracy.
    for (const auto& n : names)
      if (n.startsWith("target test accuracy") && (n.contains("target network") || !n.contains("network")))
        chosen << n;
    if (chosen.isEmpty() && !names.isEmpty()) chosen << names.front();
  }
  updating_ = true;
  series_list_->clear();
  for (const auto& n : names) {
    auto* item = new QListWidgetItem(n, series_list_);
    item->setToolTip(n);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(chosen.contains(n) ? Qt::Checked : Qt::Unchecked);
  }
  updating_ = false;
}

QString GroupOverlay::message() const { return message_->text(); }

void GroupOverlay::redraw() {
  plot_->clearGraphs();
  plot_->legend->setVisible(false);
  bands_.clear();
  const QStringList chosen = chosenSeries();
  const bool several_sets = sets_.size() > 1;
  const analysis::CurveFigure* labels = nullptr;  // axis titles from the first figure read
  bool right_axis = false;
  int runs = 0;
  for (size_t i = 0; i < sets_.size(); ++i) {
    std::vector<const analysis::CurveFigure*> figures;
    for (const auto& path : sets_[i].paths)
      if (const auto* figure = figureOf(path)) {
        figures.push_back(figure);
        if (!labels) labels = figure;
      }
    runs += static_cast<int>(figures.size());
    for (int j = 0; j < chosen.size(); ++j) {
      std::vector<const analysis::CurveSeries*> per_run;
      for (const auto* figure : figures)
        for (const auto& s : figure->series)
          if (QString::fromStdString(s.name) == chosen[j]) per_run.push_back(&s);
      auto band = average_series(per_run);
      if (band.runs == 0 || band.steps.empty()) continue;
      band.set = sets_[i].label;
      right_axis = right_axis || band.right_axis;
      analysis::CurveSeries style;
      style.color = several_sets ? set_color(i)
                                 : analysis::series_color(chosen[j].toStdString(), static_cast<size_t>(j));
      style.markers = band.markers;
      QCPAxis* y = band.right_axis ? plot_->yAxis2 : plot_->yAxis;
      auto* mean = plot_->addGraph(plot_->xAxis, y);
      widgets::FigureRenderer::styleGraph(*mean, style);
      QPen pen = mean->pen();
      pen.setWidthF(2.0);
      if (several_sets) pen.setStyle(kSeriesStyles[j % 4]);
      mean->setPen(pen);
      QString name = several_sets ? band.set : band.series;
      if (several_sets && chosen.size() > 1) name += QString::fromUtf8(" — ") + band.series;
      mean->setName(tr("%1 (n = %2)").arg(name).arg(band.runs));
      QVector<double> xs(band.steps.begin(), band.steps.end()), ys(band.mean.begin(), band.mean.end());
      mean->setData(xs, ys, /*alreadySorted=*/true);
      if (band.runs > 1) {
        QVector<double> upper(xs.size()), lower(xs.size());
        for (int k = 0; k < xs.size(); ++k) {
          upper[k] = band.mean[static_cast<size_t>(k)] + band.std[static_cast<size_t>(k)];
          lower[k] = band.mean[static_cast<size_t>(k)] - band.std[static_cast<size_t>(k)];
        }
        auto* high = plot_->addGraph(plot_->xAxis, y);
        auto* low = plot_->addGraph(plot_->xAxis, y);
        for (auto* edge : {high, low}) {
          edge->setPen(QPen(qcolor(style.color, kBandEdgeAlpha), 0.8));
          edge->removeFromLegend();
        }
        high->setName(name + " + std");
        low->setName(name + " − std");
        high->setData(xs, upper, true);
        low->setData(xs, lower, true);
        high->setBrush(qcolor(style.color, kBandFillAlpha));
        high->setChannelFillGraph(low);
      }
      bands_.push_back(std::move(band));
    }
  }
  if (labels) {
    plot_->xAxis->setLabel(QString::fromStdString(labels->x_label));
    plot_->yAxis->setLabel(QString::fromStdString(labels->y_label));
    plot_->yAxis2->setLabel(QString::fromStdString(labels->y2_label));
  }
  plot_->yAxis2->setVisible(right_axis);
  QString title = view_box_->currentText() + tr(": mean ± std over runs");
  if (sets_.size() == 1) title += QString::fromUtf8(" — ") + sets_.front().label;
  if (auto* element = title_of(*plot_)) element->setText(title);
  plot_->legend->setVisible(!bands_.empty());
  // Long names (a group's label and the series) get fewer legend columns, so none is cut.
  int longest = 0;
  for (int g = 0; g < plot_->graphCount(); ++g)
    longest = std::max(longest, static_cast<int>(plot_->graph(g)->name().size()));
  plot_->legend->setWrap(longest > 45 ? 1 : longest > 28 ? 2 : 3);
  plot_->rescaleAxes();
  // A little room around the curves, so a band's edge or a first point is not on the frame.
  for (auto* axis : {plot_->xAxis, plot_->yAxis, plot_->yAxis2}) {
    const auto range = axis->range();
    const double pad = range.size() > 0 ? range.size() * 0.04 : 1.0;
    axis->setRange(range.lower - pad, range.upper + pad);
  }
  plot_->replot();

  QStringList lines;
  if (sets_.empty())
    lines << tr("Select groups (grouped table) or runs and press Curves.");
  else
    lines << tr("%n run(s) read", nullptr, runs) + tr(", %n set(s)", nullptr, static_cast<int>(sets_.size()));
  if (!sets_.empty() && bands_.empty()) lines << tr("No checked series has points in these runs.");
  for (auto it = problems_.cbegin(); it != problems_.cend(); ++it) {
    const bool shown =
        std::any_of(sets_.begin(), sets_.end(), [&](const RunSet& s) { return s.paths.contains(it.key()); });
    if (shown) lines << tr("skipped %1: %2").arg(QFileInfo(it.key()).fileName(), it.value());
  }
  message_->setText(lines.join('\n'));
}

bool GroupOverlay::exportPng(const QString& path, int width, int height) {
  return widgets::write_atomically(path, [&](const QString& tmp) { return plot_->savePng(tmp, width, height); });
}

bool GroupOverlay::exportPdf(const QString& path, int width, int height) {
  return widgets::write_atomically(path, [&](const QString& tmp) { return plot_->savePdf(tmp, width, height); });
}

bool GroupOverlay::exportSvg(const QString& path, int width, int height) {
  return widgets::write_atomically(path, [&](const QString& tmp) {
    QSvgGenerator generator;
    generator.setFileName(tmp);
    generator.setSize(QSize(width, height));
    generator.setViewBox(QRect(0, 0, width, height));
    generator.setTitle(title_of(*plot_) ? title_of(*plot_)->text() : QString());
    QCPPainter painter;
    if (!painter.begin(&generator)) return false;
    plot_->toPainter(&painter, width, height);
    painter.end();
    return true;
  });
}

bool GroupOverlay::exportCsv(const QString& path) const {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  QTextStream out(&file);
  auto field = [](QString text) {
    if (!text.contains(',') && !text.contains('"')) return text;
    return '"' + text.replace('"', "\"\"") + '"';
  };
  out << "set,series,step,mean,std,n\n";
  for (const auto& band : bands_)
    for (size_t k = 0; k < band.steps.size(); ++k)
      out << field(band.set) << ',' << field(band.series) << ',' << QString::number(band.steps[k], 'g', 12)
          << ',' << QString::number(band.mean[k], 'g', 10) << ',' << QString::number(band.std[k], 'g', 10)
          << ',' << band.runs << '\n';
  out.flush();
  return file.commit();
}

void GroupOverlay::exportDialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export curves"), "curves.png",
                                                    tr("PNG (*.png);;PDF (*.pdf);;SVG (*.svg);;CSV (*.csv)"));
  if (path.isEmpty()) return;
  const QString suffix = QFileInfo(path).suffix().toLower();
  const bool ok = suffix == "csv"   ? exportCsv(path)
                  : suffix == "pdf" ? exportPdf(path)
                  : suffix == "svg" ? exportSvg(path)
                                    : exportPng(path);
  message_->setText(ok ? tr("Wrote %1").arg(path) : tr("Could not write %1").arg(path));
}

// ---- ConfigScatter ----

ConfigScatter::ConfigScatter(QWidget* parent)
    : QWidget(parent),
      x_box_(new QComboBox),
      y_box_(new QComboBox),
      message_(new QLabel),
      plot_(new QCustomPlot) {
  auto* layout = new QVBoxLayout(this);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("config field")));
  x_box_->setMinimumContentsLength(18);
  x_box_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  controls->addWidget(x_box_, 1);
  controls->addWidget(new QLabel(tr("against result")));
  controls->addWidget(y_box_, 1);
  auto* export_button = new QPushButton(tr("Export PNG…"));
  controls->addWidget(export_button);
  layout->addLayout(controls);
  layout->addWidget(plot_, 1);
  message_->setWordWrap(true);
  layout->addWidget(message_);
  plot_->setMinimumSize(400, 300);
  QCPTextElement* title = nullptr;
  layout_plot(*plot_, title);
  connect(x_box_, &QComboBox::currentIndexChanged, this, &ConfigScatter::redraw);
  connect(y_box_, &QComboBox::currentIndexChanged, this, &ConfigScatter::redraw);
  connect(export_button, &QPushButton::clicked, this, [this] {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export scatter"), "scatter.png", tr("PNG (*.png)"));
    if (!path.isEmpty())
      message_->setText(exportPng(path) ? tr("Wrote %1").arg(path) : tr("Could not write %1").arg(path));
  });
  redraw();
}

void ConfigScatter::setRuns(std::vector<io::RunSummary> runs) {
  const QString x_before = x_box_->currentText(), y_before = y_box_->currentText();
  runs_ = std::move(runs);
  // Every config field; the ones that vary across these runs first, since those are the ones worth plotting.
  std::map<std::string, std::vector<nlohmann::json>> values;
  std::vector<std::string> results;
  for (const auto& run : runs_) {
    if (run.config.is_object())
      for (const auto& [key, value] : sweep::flatten(run.config)) {
        auto& seen = values[key];
        if (std::find(seen.begin(), seen.end(), value) == seen.end()) seen.push_back(value);
      }
    if (run.results)
      for (const auto& n : sweep::result_names(*run.results))
        if (std::find(results.begin(), results.end(), n) == results.end()) results.push_back(n);
  }
  const QSignalBlocker bx(x_box_), by(y_box_);
  x_box_->clear();
  y_box_->clear();
  for (bool varying : {true, false})
    for (const auto& [key, seen] : values)
      if ((seen.size() > 1) == varying) x_box_->addItem(QString::fromStdString(key));
  for (const auto& n : results) y_box_->addItem(QString::fromStdString(n));
  // Keep the choice across refreshes; else the first varying field that is not the seed, against "adapted".
  int x = x_box_->findText(x_before);
  if (x < 0)
    for (int i = 0; i < x_box_->count() && x < 0; ++i)
      if (values[x_box_->itemText(i).toStdString()].size() > 1 && x_box_->itemText(i) != "seed") x = i;
  x_box_->setCurrentIndex(std::max(x, 0));
  int y = y_box_->findText(y_before);
  if (y < 0) y = y_box_->findText("adapted");
  y_box_->setCurrentIndex(std::max(y, 0));
  redraw();
}

bool ConfigScatter::choose(const QString& config_key, const QString& result) {
  const int x = x_box_->findText(config_key), y = y_box_->findText(result);
  if (x < 0 || y < 0) return false;
  const QSignalBlocker bx(x_box_), by(y_box_);
  x_box_->setCurrentIndex(x);
  y_box_->setCurrentIndex(y);
  redraw();
  return true;
}

QStringList ConfigScatter::configKeys() const {
  QStringList out;
  for (int i = 0; i < x_box_->count(); ++i) out << x_box_->itemText(i);
  return out;
}

QStringList ConfigScatter::resultNames() const {
  QStringList out;
  for (int i = 0; i < y_box_->count(); ++i) out << y_box_->itemText(i);
  return out;
}

QVector<QPointF> ConfigScatter::points() const { return points_; }

void ConfigScatter::redraw() {
  plot_->clearGraphs();
  points_.clear();
  const std::string key = x_box_->currentText().toStdString(), result = y_box_->currentText().toStdString();
  // x: the field's value, or for text (a variant, a dataset) the index of its category on a labelled axis.
  std::vector<nlohmann::json> xs(runs_.size());
  bool numeric = true;
  std::set<QString> categories;
  for (size_t r = 0; r < runs_.size(); ++r) {
    if (!runs_[r].config.is_object()) continue;
    for (const auto& [k, value] : sweep::flatten(runs_[r].config))
      if (k == key) xs[r] = value;
    if (xs[r].is_null()) continue;
    if (!xs[r].is_number() || xs[r].is_boolean()) numeric = false;
    categories.insert(json_text(xs[r]));
  }
  const QStringList category_list(categories.begin(), categories.end());
  const auto groups = sweep::group_runs(runs_);
  int skipped = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    QVector<double> gx, gy;
    for (size_t m : groups[g].members) {
      const auto y = runs_[m].results ? sweep::result_value(*runs_[m].results, result) : std::nullopt;
      if (xs[m].is_null() || !y) {
        ++skipped;
        continue;
      }
      const double x =
          numeric ? xs[m].get<double>() : static_cast<double>(category_list.indexOf(json_text(xs[m])));
      gx << x;
      gy << *y;
      points_ << QPointF(x, *y);
    }
    if (gx.isEmpty()) continue;
    auto* graph = plot_->addGraph();
    graph->setLineStyle(QCPGraph::lsNone);
    const QColor color = qcolor(set_color(g));
    graph->setPen(QPen(color));
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 9));
    graph->setName(QString::fromStdString(groups[g].label));
    graph->setData(gx, gy);
  }
  if (numeric) {
    plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  } else {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < category_list.size(); ++i) ticker->addTick(i, category_list[i]);
    plot_->xAxis->setTicker(ticker);
  }
  // Category 0 is no zero of anything: no zero line through it.
  plot_->xAxis->grid()->setZeroLinePen(numeric ? QPen(QColor(200, 200, 200), 0, Qt::SolidLine)
                                               : QPen(Qt::NoPen));
  plot_->xAxis->setLabel(QString::fromStdString(key));
  plot_->yAxis->setLabel(column_title(RunColumn::result(result)));
  if (auto* title = title_of(*plot_))
    title->setText(
        tr("%1 against %2").arg(column_title(RunColumn::result(result)), QString::fromStdString(key)));
  plot_->legend->setVisible(plot_->graphCount() > 1);
  plot_->rescaleAxes();
  for (auto* axis : {plot_->xAxis, plot_->yAxis}) {
    const auto range = axis->range();
    const double pad = range.size() > 0 ? range.size() * 0.08 : 0.5;
    axis->setRange(range.lower - pad, range.upper + pad);
  }
  plot_->replot();
  message_->setText(
      runs_.empty() ? tr("No runs shown in the table.")
                    : tr("%n run(s) plotted", nullptr, static_cast<int>(points_.size())) +
                          (skipped ? tr("; %n without this field or result", nullptr, skipped) : QString()));
}

bool ConfigScatter::exportPng(const QString& path, int width, int height) {
  return widgets::write_atomically(path, [&](const QString& tmp) { return plot_->savePng(tmp, width, height); });
}

// ---- RunCompareDialog ----

RunCompareDialog::RunCompareDialog(QWidget* parent)
    : QDialog(parent),
      tabs_(new QTabWidget),
      diff_(new RunDiffView),
      overlay_(new GroupOverlay),
      scatter_(new ConfigScatter) {
  setWindowTitle(tr("Compare runs"));
  auto* layout = new QVBoxLayout(this);
  tabs_->addTab(diff_, tr("Diff"));
  tabs_->addTab(overlay_, tr("Curves"));
  tabs_->addTab(scatter_, tr("Scatter"));
  layout->addWidget(tabs_);
  resize(1100, 720);
}

void RunCompareDialog::showDiff(const io::RunSummary& a, const io::RunSummary& b) {
  diff_->setRuns(a, b);
  tabs_->setCurrentWidget(diff_);
}

void RunCompareDialog::showOverlay(std::vector<RunSet> sets) {
  overlay_->clearCache();  // the runs may have moved on since the last look
  overlay_->setSets(std::move(sets));
  tabs_->setCurrentWidget(overlay_);
}

void RunCompareDialog::showScatter(std::vector<io::RunSummary> runs) {
  scatter_->setRuns(std::move(runs));
  tabs_->setCurrentWidget(scatter_);
}

}  // namespace fan::app
