// Loss curves of one training stage (QCustomPlot): drawn from the core's curve figures, smoothed, exportable.
#pragma once
#include "core/analysis/plot_data.h"

#include <QMap>
#include <QPointF>
#include <QSet>
#include <QTimer>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QSlider;
class QCheckBox;
class QLabel;
class QCPGraph;
class QCPItemStraightLine;

namespace fan::widgets {

class LossPlot : public QWidget {
  Q_OBJECT
 public:
  explicit LossPlot(const QString& title, QWidget* parent = nullptr);

  // Shows `figure` (core/analysis/curves.h: the same live, reopened and in
  // `fan figures`); `overlay` names a compared run whose curves are drawn
  // beside the main one's, their names suffixed with it. The plot redraws at
  // most every kRedrawMs, so a burst of updates at full training speed costs one replot.
  void setCurves(const analysis::CurveFigure& figure, const QString& overlay = QString());
  const analysis::CurveFigure& curves() const;
  void clear();
  // The axes' titles (default "loss" and "accuracy").
  void setAxisLabels(const QString& left, const QString& right);
  // Draws what is buffered now, without waiting for the coalescing timer.
  void replotNow() { redraw(); }
  int pointCount(const QString& series) const;
  QStringList seriesNames() const;
  QVector<QPointF> series(const QString& name) const;

  // EMA weight in [0, 1): 0 shows the raw values.
  void setSmoothing(double weight);
  double smoothing() const { return smoothing_; }
  void setLogScale(bool on);
  void setAutoFit(bool on) { auto_fit_ = on; }

  // Exports; each returns false (and leaves no file) when writing fails.
  bool exportPng(const QString& path, int width = 1200, int height = 700);
  bool exportPdf(const QString& path, int width = 1200, int height = 700);
  bool exportSvg(const QString& path, int width = 1200, int height = 700);
  bool exportCsv(const QString& path) const;  // step,series,value rows (raw values)

  QCustomPlot* plot() const { return plot_; }
  // The hover read-out for a step: "step 120: Lc 0.31, Lr 0.08".
  QString readout(double step) const;
  // The read-out shown now (in full; the line under the plot elides it to its fixed width).
  QString shownReadout() const { return hover_full_; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void scheduleRedraw();
  void redraw();
  void exportDialog();
  void showReadout(const QString& text);
  double nearestStep(double step) const;  // NaN when there is no point
  void markStep(double step);
  // Legend columns that fit the plot's width, so that no entry is cut.
  void fitLegend();
  QCPGraph* graphFor(const QString& name, const analysis::CurveSeries& series, bool overlay);
  // Every series of every figure, by its shown name (overlays suffixed).
  template <typename Fn>
  void forEachSeries(Fn fn) const;

  QCustomPlot* plot_;
  QSlider* smoothing_slider_;
  QCheckBox* log_box_;
  QCheckBox* fit_box_;
  QLabel* hover_label_;
  QString hover_full_;
  QCPItemStraightLine* hover_line_ = nullptr;
  QTimer redraw_timer_;
  QMap<QString, QCPGraph*> graphs_;
  QMap<QString, analysis::CurveFigure> figures_;  // "" = the run shown, else overlays
  double smoothing_ = 0.0;
  bool auto_fit_ = true;
};

}  // namespace fan::widgets
