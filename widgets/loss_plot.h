// Live loss curves of one training stage (QCustomPlot): buffered, smoothed, exportable.
#pragma once
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

namespace fan::widgets {

class LossPlot : public QWidget {
  Q_OBJECT
 public:
  explicit LossPlot(const QString& title, QWidget* parent = nullptr);

  // Buffers a point; the plot redraws at most every kRedrawMs, so a burst of
  // events at full training speed costs one replot.
  void addPoint(const QString& series, double step, double value);
  // A point on the right-hand accuracy axis, in its own series.
  void addAccuracy(const QString& series, double step, double accuracy);
  void clear();
  int pointCount(const QString& series) const;
  QStringList seriesNames() const;
  QVector<QPointF> series(const QString& name) const { return raw_.value(name); }

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

 private:
  void scheduleRedraw();
  void redraw();
  void exportDialog();
  int graphFor(const QString& series);

  QCustomPlot* plot_;
  QSlider* smoothing_slider_;
  QCheckBox* log_box_;
  QCheckBox* fit_box_;
  QLabel* hover_label_;
  QTimer redraw_timer_;
  QMap<QString, int> graph_index_;
  QSet<QString> accuracy_series_;
  QMap<QString, QVector<QPointF>> raw_;
  double smoothing_ = 0.0;
  bool auto_fit_ = true;
};

}  // namespace fan::widgets
