// Comparing runs: the config diff of two runs with their results, the curves of groups of runs as
// mean ± std bands, and a scatter of a config field against a result — with their exports.
#pragma once
#include "core/analysis/curves.h"
#include "core/io/records.h"

#include <QDialog>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QListWidget;
class QTableWidget;
class QTabWidget;

namespace fan::app {

// Runs drawn as one overlay entry: a group of runs (the same config but the seed) or one run.
struct RunSet {
  QString label;
  QStringList paths;
};

// One series of a set averaged point-wise by step, over the steps every run that has the series logged.
struct BandSeries {
  QString set, series;
  bool right_axis = false, markers = false;
  std::vector<double> steps, mean, std;  // std: sample standard deviation (n − 1), 0 for one run
  int runs = 0;                          // how many runs the average is over
};
BandSeries average_series(const std::vector<const analysis::CurveSeries*>& per_run);

// Which of CurveBuilder's figures the overlay averages.
enum class CurveView { kAccuracy, kStage1, kStage2 };

// The config fields that differ between two runs, and their results side by side.
class RunDiffView : public QWidget {
  Q_OBJECT
 public:
  explicit RunDiffView(QWidget* parent = nullptr);
  void setRuns(const io::RunSummary& a, const io::RunSummary& b);
  QStringList changedFields() const { return changed_; }  // dotted keys, in key order
  QTableWidget* table() const { return table_; }

 private:
  QLabel* title_;
  QTableWidget* table_;
  QStringList changed_;
};

// Mean ± std bands of chosen curves per set of runs: one colour per set when there are several.
class GroupOverlay : public QWidget {
  Q_OBJECT
 public:
  explicit GroupOverlay(QWidget* parent = nullptr);
  // Reads each run's metrics (cached by directory until clearCache); a run that cannot be read is
  // skipped and named in the message line.
  void setSets(std::vector<RunSet> sets);
  void setView(CurveView view);
  // The series to average (names in the chosen figure); empty: the figure's default.
  void setSeries(const QStringList& names);
  QStringList availableSeries() const;
  QStringList chosenSeries() const;
  const std::vector<BandSeries>& bands() const { return bands_; }
  void clearCache() {
    curves_.clear();
    problems_.clear();
  }
  QString message() const;
  QCustomPlot* plot() const { return plot_; }

  // Exports; false (and no file) when writing fails.
  bool exportPng(const QString& path, int width = 1200, int height = 700);
  bool exportPdf(const QString& path, int width = 1200, int height = 700);
  bool exportSvg(const QString& path, int width = 1200, int height = 700);
  bool exportCsv(const QString& path) const;  // set,series,step,mean,std,n

 private:
  const analysis::CurveBuilder* curvesOf(const QString& path);
  const analysis::CurveFigure* figureOf(const QString& path);
  void rebuildSeriesList();
  void redraw();
  void exportDialog();

  QComboBox* view_box_;
  QListWidget* series_list_;
  QLabel* message_;
  QCustomPlot* plot_;
  std::vector<RunSet> sets_;
  std::vector<BandSeries> bands_;
  QMap<QString, analysis::CurveBuilder> curves_;
  QMap<QString, QString> problems_;  // directory → why its metrics could not be read
  CurveView view_ = CurveView::kAccuracy;
  bool updating_ = false;
};

// A config field against a result across runs, one colour per group.
class ConfigScatter : public QWidget {
  Q_OBJECT
 public:
  explicit ConfigScatter(QWidget* parent = nullptr);
  void setRuns(std::vector<io::RunSummary> runs);
  // A dotted config key and a result name (sweep::result_names); false when either is not offered.
  bool choose(const QString& config_key, const QString& result);
  QStringList configKeys() const;
  QStringList resultNames() const;
  // The points drawn: x (a category's index for a text field), y.
  QVector<QPointF> points() const;
  QCustomPlot* plot() const { return plot_; }
  bool exportPng(const QString& path, int width = 1000, int height = 700);

 private:
  void redraw();

  QComboBox* x_box_;
  QComboBox* y_box_;
  QLabel* message_;
  QCustomPlot* plot_;
  std::vector<io::RunSummary> runs_;
  QVector<QPointF> points_;
};

// The three views in one window, opened from the runs panel.
class RunCompareDialog : public QDialog {
  Q_OBJECT
 public:
  explicit RunCompareDialog(QWidget* parent = nullptr);
  void showDiff(const io::RunSummary& a, const io::RunSummary& b);
  void showOverlay(std::vector<RunSet> sets);
  void showScatter(std::vector<io::RunSummary> runs);
  RunDiffView* diff() const { return diff_; }
  GroupOverlay* overlay() const { return overlay_; }
  ConfigScatter* scatter() const { return scatter_; }
  QTabWidget* tabs() const { return tabs_; }

 private:
  QTabWidget* tabs_;
  RunDiffView* diff_;
  GroupOverlay* overlay_;
  ConfigScatter* scatter_;
};

}  // namespace fan::app
