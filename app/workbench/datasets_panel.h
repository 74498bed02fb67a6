// The datasets panel: source/target pickers, sample grids as the network sees them, the class mix
// of both domains as a grouped bar chart (with a run's AdaBN estimate of the target's over it), fetch.
#pragma once
#include <nlohmann/json.hpp>

#include <QImage>
#include <QWidget>

#include <vector>

class QComboBox;
class QLabel;
class QPushButton;

namespace fan::widgets {
class BarChart;
}  // namespace fan::widgets

namespace fan::app {

class ExperimentForm;

// What loading one domain gave, as plain values for the GUI thread.
struct DomainPreview {
  QString error;  // non-empty: loading failed (e.g. data missing)
  QImage samples;  // a grid of preprocessed training images
  qint64 train = 0, test = 0;
  QVector<qint64> train_per_class, test_per_class;
  QString shape;
};

// Loads a domain as the config describes it (protocol and preprocessing applied).
DomainPreview load_domain_preview(const nlohmann::json& config, const QString& side);

class DatasetsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DatasetsPanel(ExperimentForm* form, QWidget* parent = nullptr);
  // Loads both domains on a worker thread; `loaded` fires when both are shown.
  void reload();
  QString summary(const QString& side) const;
  // The target's class proportions as a run's AdaBN network predicts them (io::Results::
  // target_prior_estimate), drawn over the bars; empty removes it. `run` names the run.
  void setPriorEstimate(const std::vector<double>& estimate, const QString& run = QString());
  // The chart of class proportions: bars per domain ("source: mnist", "target: usps"), the estimate as an outline.
  widgets::BarChart* classChart() const { return chart_; }
  // The split the chart shows: "train" or "test".
  void setChartSplit(const QString& split);
  bool isLoaded() const { return loaded_; }

 signals:
  void loaded();
  void message(const QString& text);

 private:
  void syncFromForm();
  void show(const QString& side, const DomainPreview& preview);
  void fetch();
  void updateChart();
  void showEvent(QShowEvent* event) override;
  ExperimentForm* form_;
  QComboBox *source_dataset_, *target_dataset_, *source_protocol_, *target_protocol_;
  QLabel *source_samples_, *target_samples_, *source_counts_, *target_counts_, *status_;
  QPushButton* fetch_button_;
  QComboBox* chart_split_;
  widgets::BarChart* chart_;
  DomainPreview source_, target_;
  std::vector<double> estimate_;
  QString estimate_run_;
  bool syncing_ = false;
  bool loaded_ = false;   // both domains shown once
  bool stale_ = true;     // the form's domains changed since the last load
  bool loading_ = false;
};

}  // namespace fan::app
