// The results card: a run's results.json at a glance — source only, AdaBN, adapted; per class; confusion.
#pragma once
#include "core/io/records.h"

#include <QMap>
#include <QWidget>

class QLabel;

namespace fan::widgets {
class BarChart;
class HeatMap;
}  // namespace fan::widgets

namespace fan::app {

class ResultsCard : public QWidget {
  Q_OBJECT
 public:
  explicit ResultsCard(QWidget* parent = nullptr);
  // Shows `results` (after a run, or an opened run's results.json); `source` names where they came from.
  void setResults(const io::Results& results, const QString& source = QString());
  void clear();
  bool hasResults() const { return has_results_; }

  // What the card shows, for tests and screenshots: the text of a cell ("source_only", "source_only_adabn",
  // "adapted" × "top1", "top5"), the per-class bars and the confusion heat map.
  QString cell(const QString& row, const QString& column) const;
  widgets::BarChart* perClass() const { return per_class_; }
  widgets::HeatMap* confusion() const { return confusion_; }
  QString heading() const;

 private:
  QLabel* heading_;
  QLabel* note_;
  QMap<QString, QLabel*> cells_;  // "row/column"
  widgets::BarChart* per_class_;
  widgets::HeatMap* confusion_;
  bool has_results_ = false;
};

// Accuracies as the card and the log write them: 4 decimals, as results.json's readers compare them.
QString accuracy_text(double value);

}  // namespace fan::app
