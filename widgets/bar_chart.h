// A grouped bar chart (QCustomPlot QCPBars in a QCPBarsGroup) with outlines over the bars and a hover
// read-out.
#pragma once
#include <QColor>
#include <QMap>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPBarsGroup;
class QCPGraph;
class QLabel;

namespace fan::widgets {

// Plain values in: categories along x, one bar per series in each category's group, and
// "outlines" (an estimate, a target) drawn as a step line with markers over the groups.
class BarChart : public QWidget {
  Q_OBJECT
 public:
  explicit BarChart(QWidget* parent = nullptr);

  void setTitle(const QString& title);
  void setAxisLabels(const QString& x, const QString& y);
  // Values as percentages in the read-out and on the axis ("17 %"), else as plain numbers.
  void setPercent(bool on);
  void setCategories(const QStringList& labels);
  // Adds or replaces a series of bars (one value per category; missing ones are 0).
  void setBars(const QString& name, const QVector<double>& values, const QColor& color);
  // Adds or replaces an outline over the bars: a horizontal step across each category's group.
  void setOutline(const QString& name, const QVector<double>& values, const QColor& color);
  void remove(const QString& name);
  void clear();

  QStringList categories() const { return categories_; }
  QStringList barNames() const { return bar_order_; }
  QStringList outlineNames() const { return outline_order_; }
  QVector<double> values(const QString& name) const { return values_.value(name); }
  // The read-out for one category: "class 0: source 10.0 %, target 17.0 %".
  QString readout(int category) const;
  QCustomPlot* plot() const { return plot_; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void rebuild();
  // Legend columns that fit the chart's width, so that no name is cut.
  void fitLegend();
  QString format(double v) const;
  QCustomPlot* plot_;
  QLabel* hover_;
  QCPBarsGroup* group_;
  QStringList categories_, bar_order_, outline_order_;
  QMap<QString, QVector<double>> values_;
  QMap<QString, QColor> colors_;
  bool percent_ = false;
};

}  // namespace fan::widgets
