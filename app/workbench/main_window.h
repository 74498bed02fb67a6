// The workbench's main window: dockable panels, run toolbar, status bar, log.
#pragma once
#include "training_worker.h"

#include "core/analysis/curves.h"
#include "core/sweep/sweep.h"

#include <QLabel>
#include <QMainWindow>
#include <QThread>
#include <QTimer>

class QPlainTextEdit;
class QAction;
class QMenu;

namespace fan::widgets {
class LossPlot;
class PreviewPanel;
}  // namespace fan::widgets

namespace fan::app {

class ExperimentForm;
class RunsPanel;
class DatasetsPanel;
class InspectorPanel;
class EmbeddingPanel;
class SelectionPanel;
class SweepQueue;
class SweepPanel;
class ResultsCard;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Loads a project file into the form; false (and a message) when it does not validate.
  bool openProject(const QString& path);
  bool saveProject(const QString& path);
  // "New from paper experiment…": a shipped project into the form as a new, unsaved project.
  bool newFromProject(const QString& path);
  // The form's config as JSON text (empty when the form has a problem).
  QString projectJson() const;
  // Shows a finished (or stopped) run from its files: curves, results, networks.
  bool openRun(const QString& run_dir);
  void overlayRun(const QString& run_dir);

  ExperimentForm* form() const { return form_; }
  widgets::LossPlot* stagePlot(int stage) const { return stage == 1 ? stage1_plot_ : stage2_plot_; }
  widgets::PreviewPanel* previews() const { return previews_; }
  RunsPanel* runs() const { return runs_; }
  InspectorPanel* inspector() const { return inspector_; }
  EmbeddingPanel* embedding() const { return embedding_; }
  DatasetsPanel* datasets() const { return datasets_; }
  SelectionPanel* selection() const { return selection_; }
  SweepQueue* sweepQueue() const { return sweep_queue_; }
  SweepPanel* sweepPanel() const { return sweep_panel_; }
  ResultsCard* resultsCard() const { return results_card_; }
  QString currentRunDir() const { return run_dir_; }
  bool isRunning() const { return running_; }
  // Message boxes are skipped when false (offscreen tests).
  void setInteractive(bool on) { interactive_ = on; }

 public slots:
  void runExperiment();
  // False (and a message) when the run cannot be resumed.
  bool resumeRun(const QString& run_dir);
  void pauseOrResume();
  void stopExperiment();
  // The "Sweep…" dialog over the form's project; on Start its plan goes to the sweep queue.
  void openSweepDialog();
  // Runs a planned sweep into sweep_dir (out/<run.name> each); false (and a message) when it cannot start.
  bool startSweep(const QString& sweep_dir, std::vector<fan::sweep::PlannedRun> runs);
  // Reads SWEEP_DIR/sweep.json into the queue (not started: Resume sweep continues it).
  bool openSweep(const QString& sweep_dir);
  bool resumeSweep();

 signals:
  void startRequested(const fan::io::ExperimentConfig& config, const QString& run_dir);
  void resumeRequested(const QString& run_dir);
  void runFinished(const fan::io::Results& results);
  void runFailed(const QString& error);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  QDockWidget* addPanel(const QString& title, QWidget* widget, Qt::DockWidgetArea area);
  void appendLog(const QString& text);
  void setRunning(bool running);
  // A record of the run being trained: into the live curves, the status bar and the log.
  void onRecord(const io::MetricRecord& record);
  void onStep(const events::StepEvent& step);
  void onFinished(const io::Results& results);
  void onPreview(const PreviewImages& images);
  void addRecent(const QString& path);
  void rebuildRecentMenu();
  // A run's results into the results card and the datasets panel's AdaBN estimate (none: cleared).
  void showResults(const io::Results* results, const QString& run_dir);
  void warn(const QString& title, const QString& text);
  // Draws a run's curves from its directory: as the run shown (overlay empty), or beside it.
  void showRunCurves(const QString& run_dir, const QString& overlay);
  void clearCurves();
  // Loads a run's networks off the GUI thread for the inspector and the embedding:
  // the target network `network` ("last", or a validator's pick).
  void loadNetworks(const QString& dir, const QString& network);
  void createMenus();
  void createWorker();
  void createSweep();
  void showSweepPanel();
  // The one place that starts a new run in the worker (the Run button and the sweep queue).
  void startRun(const io::ExperimentConfig& config, const QString& run_dir);

  analysis::CurveBuilder live_curves_;  // the run being trained, record by record
  QTimer* curves_timer_ = nullptr;      // hands live_curves_ to the plots at most every kCurvesMs
  void flushCurves();
  QThread worker_thread_;
  TrainingWorker* worker_ = nullptr;
  QString project_path_, run_dir_;
  ExperimentForm* form_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  widgets::LossPlot* stage1_plot_ = nullptr;
  widgets::LossPlot* stage2_plot_ = nullptr;
  widgets::PreviewPanel* previews_ = nullptr;
  RunsPanel* runs_ = nullptr;
  DatasetsPanel* datasets_ = nullptr;
  InspectorPanel* inspector_ = nullptr;
  EmbeddingPanel* embedding_ = nullptr;
  SelectionPanel* selection_ = nullptr;
  SweepQueue* sweep_queue_ = nullptr;
  SweepPanel* sweep_panel_ = nullptr;
  ResultsCard* results_card_ = nullptr;
  QLabel* status_stage_ = nullptr;
  QLabel* status_rate_ = nullptr;
  QLabel* results_label_ = nullptr;
  QMenu* recent_menu_ = nullptr;
  QAction *run_action_ = nullptr, *pause_action_ = nullptr, *stop_action_ = nullptr;
  bool running_ = false;
  bool interactive_ = true;
};

}  // namespace fan::app
