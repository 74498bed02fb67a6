// The datasets panel: source/target pickers, sample grids as the network sees them, counts, fetch.
#pragma once
#include <nlohmann/json.hpp>

#include <QImage>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;

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

 signals:
  void loaded();
  void message(const QString& text);

 private:
  void syncFromForm();
  void show(const QString& side, const DomainPreview& preview);
  void fetch();
  ExperimentForm* form_;
  QComboBox *source_dataset_, *target_dataset_, *source_protocol_, *target_protocol_;
  QLabel *source_samples_, *target_samples_, *source_counts_, *target_counts_, *status_;
  QPushButton* fetch_button_;
  bool syncing_ = false;
};

}  // namespace fan::app
