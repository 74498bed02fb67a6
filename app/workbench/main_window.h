// The workbench's main window: dockable panels, run toolbar, status bar, log.
#pragma once
#include "training_worker.h"

#include <QLabel>
#include <QMainWindow>
#include <QThread>

class QPlainTextEdit;
class QAction;

namespace fan::widgets {
class LossPlot;
}

namespace fan::app {

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loads a project file; false (and a message) when it does not validate.
  bool openProject(const QString& path);
  QString projectJson() const { return project_json_; }
  widgets::LossPlot* stagePlot(int stage) const { return stage == 1 ? stage1_plot_ : stage2_plot_; }

 public slots:
  void runExperiment();
  void pauseOrResume();
  void stopExperiment();

 signals:
  void startRequested(const QString& config_json, const QString& run_dir);
  void runFinished(const QString& results_json);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  QDockWidget* addPanel(const QString& title, QWidget* widget, Qt::DockWidgetArea area);
  void appendLog(const QString& text);
  void setRunning(bool running);
  void onStep(const StepPoint& point);
  void onEvaluation(const EvaluationPoint& point);
  void onPreview(const PreviewImages& images);

  QThread worker_thread_;
  TrainingWorker* worker_ = nullptr;
  QString project_path_, project_json_;
  QPlainTextEdit* log_ = nullptr;
  QPlainTextEdit* project_view_ = nullptr;
  widgets::LossPlot* stage1_plot_ = nullptr;
  widgets::LossPlot* stage2_plot_ = nullptr;
  QLabel* preview_label_ = nullptr;
  QLabel* status_stage_ = nullptr;
  QLabel* status_rate_ = nullptr;
  QAction *run_action_ = nullptr, *pause_action_ = nullptr, *stop_action_ = nullptr;
  bool running_ = false;
};

}  // namespace fan::app
