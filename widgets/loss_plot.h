// Live loss curves of one training stage (QCustomPlot), buffered and redrawn on a timer.
#pragma once
#include <QMap>
#include <QSet>
#include <QTimer>
#include <QVector>
#include <QWidget>

class QCustomPlot;

namespace fan::widgets {

class LossPlot : public QWidget {
  Q_OBJECT
 public:
  explicit LossPlot(const QString& title, QWidget* parent = nullptr);

  // Buffers a point; the plot redraws at most every kRedrawMs.
  void addPoint(const QString& series, double step, double value);
  // Accuracy on the right-hand axis, as its own series.
  void addAccuracy(const QString& series, double step, double accuracy);
  void clear();
  int pointCount(const QString& series) const;
  QCustomPlot* plot() const { return plot_; }

 private:
  void redraw();
  int graphFor(const QString& series);

  QCustomPlot* plot_;
  QTimer redraw_timer_;
  QMap<QString, int> graph_index_;
  QSet<QString> accuracy_series_;
  QMap<QString, QVector<QPair<double, double>>> pending_;
};

}  // namespace fan::widgets
