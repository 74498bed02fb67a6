// The selection view: the label-free validators over stage 2 (scaled, 1 = best), where each
// picks, and a table of the picks with their test accuracy once the run has finished.
#pragma once
#include "core/analysis/curves.h"
#include "core/io/records.h"

#include <QWidget>

#include <optional>

class QComboBox;
class QLabel;
class QTableWidget;

namespace fan::widgets {
class LossPlot;
}  // namespace fan::widgets

namespace fan::app {

class SelectionPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SelectionPanel(QWidget* parent = nullptr);
  // The validators of the run shown (live or reopened), from the core's curve builder.
  void setCurves(const analysis::CurveBuilder& curves);
  // A finished run's picks, their networks evaluated on the whole target test set.
  void setResults(const std::optional<io::Results>& results);
  void clear();
  widgets::LossPlot* plot() const { return plot_; }
  int pickCount() const;
  QComboBox* networkChooser() const { return network_; }

 signals:
  // The user chose which target network the inspector and the embedding show.
  void networkChosen(const QString& network);

 private:
  void fillTable();
  widgets::LossPlot* plot_;
  QTableWidget* table_;
  QLabel* note_;
  QComboBox* network_;
  std::map<std::string, std::pair<int64_t, double>> live_picks_;
  std::optional<io::Results> results_;
};

}  // namespace fan::app
