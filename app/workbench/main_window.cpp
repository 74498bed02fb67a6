// The workbench's main window.
#include "main_window.h"

#include "core/io/config.h"
#include "core/io/run_dir.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "datasets_panel.h"
#include "embedding_panel.h"
#include "experiment_form.h"
#include "inspector_panel.h"
#include "runs_panel.h"
#include "selection_panel.h"
#include "widgets/loss_plot.h"
#include "widgets/preview_panel.h"

#include <QAction>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace fan::app {
namespace {
// Recent projects kept in the File menu.
constexpr int kMaxRecent = 8;
// The live curves go to the plots at most this often: a burst of records costs one copy of the figures.
constexpr int kCurvesMs = 40;

// One line of results for the log and the results label.
QString results_text(const io::Results& r) {
  auto top1 = [](const std::optional<io::Accuracy>& a) { return a ? QString::number(a->top1, 'f', 4) : QString("–"); };
  QString text = QObject::tr("target test top-1: source only %1, AdaBN %2 → adapted %3 (top-5 %4)")
                     .arg(top1(r.source_only), top1(r.source_only_adabn), top1(r.adapted),
                          r.adapted ? QString::number(r.adapted->top5, 'f', 4) : QString("–"));
  if (r.validation_adapted)
    text += QObject::tr("; held-out target validation %1").arg(*r.validation_adapted, 0, 'f', 4);
  return text;
}

QString format_eta(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  const auto s = static_cast<qint64>(seconds + 0.5);
  return s >= 3600 ? QString("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'))
                   : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  register_metatypes();
  setWindowTitle("FAN Workbench");
  setDockNestingEnabled(true);

  auto* central = new QWidget;
  auto* plots = new QVBoxLayout(central);
  stage1_plot_ = new widgets::LossPlot("Stage 1: source network (α·Lc + β·Lm + Lr)");
  stage2_plot_ = new widgets::LossPlot("Stage 2: adaptation (μ·L_advD; ν·L_advM + Lr)");
  results_label_ = new QLabel;
  results_label_->setWordWrap(true);
  plots->addWidget(stage1_plot_, 1);
  plots->addWidget(stage2_plot_, 1);
  plots->addWidget(results_label_);
  setCentralWidget(central);

  form_ = new ExperimentForm;
  addPanel("Experiment", form_, Qt::LeftDockWidgetArea);
  datasets_ = new DatasetsPanel(form_);
  addPanel("Datasets", datasets_, Qt::LeftDockWidgetArea);
  runs_ = new RunsPanel;
  addPanel("Runs", runs_, Qt::LeftDockWidgetArea);
  previews_ = new widgets::PreviewPanel;
  addPanel("Reconstructions", previews_, Qt::RightDockWidgetArea);
  inspector_ = new InspectorPanel;
  addPanel("Domain-specific inspector", inspector_, Qt::RightDockWidgetArea);
  embedding_ = new EmbeddingPanel;
  addPanel("Embedding", embedding_, Qt::RightDockWidgetArea);
  selection_ = new SelectionPanel;
  addPanel("Selection", selection_, Qt::RightDockWidgetArea);
  log_ = new QPlainTextEdit;
  log_->setObjectName("log");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  addPanel("Log", log_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(findChild<QDockWidget*>("Experiment"), findChild<QDockWidget*>("Datasets"));
  tabifyDockWidget(findChild<QDockWidget*>("Experiment"), findChild<QDockWidget*>("Runs"));
  findChild<QDockWidget*>("Experiment")->raise();
  tabifyDockWidget(findChild<QDockWidget*>("Domain-specific inspector"), findChild<QDockWidget*>("Embedding"));
  tabifyDockWidget(findChild<QDockWidget*>("Domain-specific inspector"), findChild<QDockWidget*>("Selection"));
  findChild<QDockWidget*>("Domain-specific inspector")->raise();


  createMenus();

  status_stage_ = new QLabel("idle");
  status_rate_ = new QLabel;
  statusBar()->addWidget(status_stage_, 1);
  statusBar()->addPermanentWidget(status_rate_);

  createWorker();
  connect(datasets_, &DatasetsPanel::message, this, &MainWindow::appendLog);
  connect(runs_, &RunsPanel::openRequested, this, [this](const QString& dir) { openRun(dir); });
  connect(runs_, &RunsPanel::overlayRequested, this, &MainWindow::overlayRun);
  connect(selection_, &SelectionPanel::networkChosen, this, [this](const QString& network) {
    if (!run_dir_.isEmpty() && !running_) loadNetworks(run_dir_, network);
  });
  worker_thread_.start();
  setRunning(false);
  runs_->refresh();

  QSettings settings;
  restoreGeometry(settings.value("geometry").toByteArray());
  if (!restoreState(settings.value("window_state").toByteArray())) {
    // First start: the plots get the most room, the side panels start narrow
    // (once the window is laid out).
    QTimer::singleShot(0, this, [this] {
      resizeDocks({findChild<QDockWidget*>("Experiment"), findChild<QDockWidget*>("Reconstructions")},
                  {width() / 4, width() / 3}, Qt::Horizontal);
      resizeDocks({findChild<QDockWidget*>("Log")}, {height() / 7}, Qt::Vertical);
    });
  }
}

MainWindow::~MainWindow() {
  embedding_->cancel();
  worker_->stopToken().request_stop();
  worker_thread_.quit();
  worker_thread_.wait();
  QThreadPool::globalInstance()->waitForDone();
}

void MainWindow::createMenus() {
  auto* file = menuBar()->addMenu("&File");
  file->addAction("&Open project…", QKeySequence::Open, this, [this] {
    const auto path = QFileDialog::getOpenFileName(this, "Open project", "projects", "Projects (*.json)");
    if (!path.isEmpty()) openProject(path);
  });
  file->addAction("&Save project", QKeySequence::Save, this, [this] {
    if (project_path_.isEmpty()) {
      const auto path = QFileDialog::getSaveFileName(this, "Save project", "projects", "Projects (*.json)");
      if (!path.isEmpty()) saveProject(path);
    } else {
      saveProject(project_path_);
    }
  });
  file->addAction("Save project &as…", QKeySequence::SaveAs, this, [this] {
    const auto path = QFileDialog::getSaveFileName(this, "Save project as", project_path_, "Projects (*.json)");
    if (!path.isEmpty()) saveProject(path);
  });
  recent_menu_ = file->addMenu("Recent projects");
  file->addSeparator();
  file->addAction("Open &run…", this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, "Open run directory", runs_->directory());
    if (!dir.isEmpty()) openRun(dir);
  });
  file->addAction("Resume run…", this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, "Resume run directory", runs_->directory());
    if (!dir.isEmpty()) resumeRun(dir);
  });
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
  rebuildRecentMenu();

  auto* toolbar = addToolBar("Run");
  toolbar->setObjectName("run_toolbar");
  run_action_ = toolbar->addAction("Run");
  run_action_->setToolTip("Run the experiment in the form (stage 1, then adaptation)");
  pause_action_ = toolbar->addAction("Pause");
  stop_action_ = toolbar->addAction("Stop");
  stop_action_->setToolTip("Stop at the next step; a resumable checkpoint is kept");
  connect(run_action_, &QAction::triggered, this, &MainWindow::runExperiment);
  connect(pause_action_, &QAction::triggered, this, &MainWindow::pauseOrResume);
  connect(stop_action_, &QAction::triggered, this, &MainWindow::stopExperiment);
  auto* view_menu = menuBar()->addMenu("&View");
  for (auto* dock : findChildren<QDockWidget*>()) view_menu->addAction(dock->toggleViewAction());
}

void MainWindow::createWorker() {
  curves_timer_ = new QTimer(this);
  curves_timer_->setSingleShot(true);
  curves_timer_->setInterval(kCurvesMs);
  connect(curves_timer_, &QTimer::timeout, this, &MainWindow::flushCurves);
  worker_ = new TrainingWorker;
  worker_->moveToThread(&worker_thread_);
  connect(&worker_thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &MainWindow::startRequested, worker_, &TrainingWorker::start);
  connect(this, &MainWindow::resumeRequested, worker_, &TrainingWorker::resume);
  connect(worker_, &TrainingWorker::message, this, &MainWindow::appendLog);
  connect(worker_, &TrainingWorker::recorded, this, &MainWindow::onRecord);
  connect(worker_, &TrainingWorker::preview, this, &MainWindow::onPreview);
  connect(worker_, &TrainingWorker::failed, this, [this](const QString& error) {
    flushCurves();
    setRunning(false);
    appendLog("error: " + error);
    runs_->refresh();
    emit runFailed(error);
    warn("Run failed", error);
  });
  connect(worker_, &TrainingWorker::finished, this, &MainWindow::onFinished);
}

QDockWidget* MainWindow::addPanel(const QString& title, QWidget* widget, Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(title);
  dock->setWidget(widget);
  addDockWidget(area, dock);
  return dock;
}

void MainWindow::warn(const QString& title, const QString& text) {
  if (interactive_) QMessageBox::warning(this, title, text);
}

bool MainWindow::openProject(const QString& path) {
  try {
    const auto config = io::ExperimentConfig::load(path.toStdString());
    form_->setConfig(config.resolved);
    project_path_ = path;
    setWindowTitle("FAN Workbench — " + QFileInfo(path).fileName());
    appendLog("opened " + path);
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    appendLog(QString("error: ") + e.what());
    warn("Cannot open project", e.what());
    return false;
  }
}

bool MainWindow::saveProject(const QString& path) {
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    appendLog("not saved: " + problem);
    warn("Cannot save", problem);
    return false;
  }
  try {
    const auto config = io::validate_config(form_->config(), "form");
    util::atomic_write(path.toStdString(), config.dump(2) + "\n");
    project_path_ = path;
    setWindowTitle("FAN Workbench — " + QFileInfo(path).fileName());
    appendLog("saved " + path);
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    appendLog(QString("error: ") + e.what());
    warn("Cannot save", e.what());
    return false;
  }
}

QString MainWindow::projectJson() const {
  if (!form_->firstProblem().isEmpty()) return {};
  return QString::fromStdString(io::validate_config(form_->config(), "form").dump(2));
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings;
  auto recent = settings.value("recent_projects").toStringList();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  recent.removeAll(absolute);
  recent.prepend(absolute);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue("recent_projects", recent);
  rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  for (const auto& path : QSettings().value("recent_projects").toStringList())
    recent_menu_->addAction(path, this, [this, path] { openProject(path); });
  recent_menu_->setEnabled(!recent_menu_->isEmpty());
}

void MainWindow::appendLog(const QString& text) {
  log_->appendPlainText(QDateTime::currentDateTime().toString("hh:mm:ss ") + text);
}

void MainWindow::setRunning(bool running) {
  running_ = running;
  run_action_->setEnabled(!running);
  pause_action_->setEnabled(running);
  stop_action_->setEnabled(running);
  pause_action_->setText("Pause");
  form_->setRunning(running);
  if (!running) {
    status_stage_->setText("idle");
    status_rate_->clear();
  }
}

void MainWindow::runExperiment() {
  if (running_) return;
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    appendLog("cannot run: " + problem);
    warn("Cannot run", problem);
    return;
  }
  const auto config = io::ExperimentConfig::from_json(io::validate_config(form_->config(), "form"), "form");
  run_dir_ = QString::fromStdString(io::RunDirectory::default_for(config.name, runs_->directory().toStdString()).string());
  clearCurves();
  previews_->clear();
  results_label_->clear();
  worker_->stopToken().reset();
  setRunning(true);
  appendLog("run directory: " + run_dir_);
  emit startRequested(config, run_dir_);
}

void MainWindow::resumeRun(const QString& dir) {
  if (running_) return;
  run_dir_ = dir;
  clearCurves();
  // The live curves continue from what the run has logged so far.
  try {
    live_curves_ = analysis::curves_from_metrics(io::RunDirectory(dir.toStdString()).read_metrics());
  } catch (const std::exception& e) {
    appendLog(QString("error: ") + e.what());
    warn("Cannot resume run", e.what());
    return;
  }
  for (int stage : {1, 2}) stagePlot(stage)->setCurves(live_curves_.stage(stage));
  selection_->setCurves(live_curves_);
  worker_->stopToken().reset();
  setRunning(true);
  appendLog("resuming " + dir);
  emit resumeRequested(dir);
}

void MainWindow::pauseOrResume() {
  auto& token = worker_->stopToken();
  token.set_paused(!token.paused());
  pause_action_->setText(token.paused() ? "Resume" : "Pause");
  appendLog(token.paused() ? "paused" : "resumed");
}

void MainWindow::stopExperiment() {
  worker_->stopToken().request_stop();
  appendLog("stopping at the next step (a resumable checkpoint is kept)");
}

void MainWindow::clearCurves() {
  curves_timer_->stop();
  live_curves_ = analysis::CurveBuilder();
  stage1_plot_->clear();
  stage2_plot_->clear();
  selection_->clear();
}

void MainWindow::onRecord(const io::MetricRecord& record) {
  live_curves_.add(record);
  if (!curves_timer_->isActive()) curves_timer_->start();
  if (const auto* s = std::get_if<events::StageEvent>(&record)) {
    appendLog(tr("stage %1 (%2): %3 steps").arg(s->stage).arg(QString::fromStdString(s->name)).arg(s->total_steps));
  } else if (const auto* step = std::get_if<events::StepEvent>(&record)) {
    onStep(*step);
  } else if (const auto* v = std::get_if<events::ValidatorEvent>(&record)) {
    QStringList values;
    for (const auto& [name, value] : v->values) values << QString("%1 %2").arg(QString::fromStdString(name)).arg(value, 0, 'g', 4);
    appendLog(tr("stage %1 step %2: validators of the %3 network (%4 unlabelled target images): %5")
                  .arg(v->stage)
                  .arg(v->step)
                  .arg(QString::fromStdString(v->network))
                  .arg(v->images)
                  .arg(values.join(", ")));
  } else {
    const auto& e = std::get<events::EvaluationEvent>(record);
    appendLog(tr("stage %1 step %2: %3 network on %4 (%5 images): top-1 %6, top-5 %7")
                  .arg(e.stage)
                  .arg(e.step)
                  .arg(QString::fromStdString(e.network), QString::fromStdString(e.split))
                  .arg(e.images)
                  .arg(e.top1, 0, 'f', 4)
                  .arg(e.top5, 0, 'f', 4));
  }
}

void MainWindow::flushCurves() {
  curves_timer_->stop();
  for (int stage : {1, 2}) stagePlot(stage)->setCurves(live_curves_.stage(stage));
  selection_->setCurves(live_curves_);
}

void MainWindow::onStep(const events::StepEvent& p) {
  const double fraction = p.total_steps > 0 ? double(p.step) / p.total_steps : 1;
  const double eta = fraction > 0 ? p.elapsed_seconds * (1 - fraction) / fraction : -1;
  status_stage_->setText(
      tr("stage %1 · step %2/%3 · ETA %4").arg(p.stage).arg(p.step).arg(p.total_steps).arg(format_eta(eta)));
  status_rate_->setText(tr("%1 images/s").arg(p.images_per_second, 0, 'f', 0));
}

void MainWindow::onFinished(const io::Results& r) {
  flushCurves();
  setRunning(false);
  if (!r.finished()) {
    appendLog(tr("stopped; resume it from File → Resume run or `fan resume %1`").arg(run_dir_));
  } else {
    appendLog(tr("finished in %1 s: %2").arg(r.total_seconds(), 0, 'f', 1).arg(results_text(r)));
    selection_->setResults(r);
    results_label_->setText(results_text(r));
  }
  runs_->refresh();
  emit runFinished(r);
  if (r.finished()) openRun(run_dir_);
}

void MainWindow::onPreview(const PreviewImages& images) {
  widgets::PreviewSnapshot s;
  s.stage = images.stage;
  s.step = images.step;
  s.domain = images.domain;
  s.originals = images.originals;
  s.reconstructions = images.reconstructions;
  previews_->addSnapshot(s);
}

void MainWindow::showRunCurves(const QString& dir, const QString& overlay) {
  const auto curves = analysis::curves_from_metrics(io::RunDirectory(dir.toStdString()).read_metrics());
  for (int stage : {1, 2}) stagePlot(stage)->setCurves(curves.stage(stage), overlay);
  if (overlay.isEmpty()) selection_->setCurves(curves);
}

bool MainWindow::openRun(const QString& dir) {
  try {
    const io::RunDirectory run(dir.toStdString());
    const auto summary = run.summary();
    if (summary.status == io::RunSummary::Status::kNotARun) throw Error(dir.toStdString() + ": not a run directory");
    // An unreadable checkpoint or results file still leaves the curves to look at; a bad config does not.
    if (summary.config.is_null()) throw Error(summary.problem);
    if (!summary.problem.empty()) appendLog("warning: " + QString::fromStdString(summary.problem));
    const auto config = io::ExperimentConfig::from_json(summary.config, run.config_path().string());
    if (!running_) {
      form_->setConfig(config.resolved);
      clearCurves();
      showRunCurves(dir, QString());
    }
    run_dir_ = dir;
    if (!running_) selection_->setResults(summary.results);
    const QString status = QString::fromStdString(io::to_string(summary.status));
    results_label_->setText(summary.results ? dir + " — " + results_text(*summary.results) : dir + " — " + status);
    appendLog(tr("opened run %1 (%2); loading its networks…").arg(dir, status));
  } catch (const std::exception& e) {
    appendLog(QString("error: ") + e.what());
    warn("Cannot open run", e.what());
    return false;
  }
  loadNetworks(dir, "last");
  return true;
}

void MainWindow::loadNetworks(const QString& dir, const QString& network) {
  // The networks load off the GUI thread; the panels fill when they arrive.
  auto* watcher = new QFutureWatcher<std::pair<std::shared_ptr<RunModel>, QString>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, dir, network] {
    watcher->deleteLater();
    const auto [model, error] = watcher->result();
    if (!model) {
      appendLog("cannot load the networks of " + dir + ": " + error);
      return;
    }
    inspector_->setModel(model);
    embedding_->setModel(model);
    if (model->hasDecoder() && !running_ && previews_->snapshotCount() == 0 && network == "last") {
      // A finished run shows its final reconstructions.
      widgets::PreviewSnapshot s;
      s.stage = model->adapted() ? 2 : 1;
      s.step = -1;  // the run's final networks
      s.domain = "target";
      for (int i = 0; i < std::min(8, model->count(Domain::kTarget)); ++i) {
        const auto r = model->inspect(i, -1, 0);
        s.originals.push_back(r.target);
        s.reconstructions.push_back(r.target_reconstruction);
      }
      previews_->addSnapshot(s);
    }
    appendLog(tr("networks of %1 loaded (target network: %2): inspector and embedding ready").arg(dir, network));
  });
  watcher->setFuture(QtConcurrent::run([dir, network]() -> std::pair<std::shared_ptr<RunModel>, QString> {
    try {
      return {std::make_shared<RunModel>(dir, network), QString()};
    } catch (const std::exception& e) {
      return {nullptr, QString::fromUtf8(e.what())};
    }
  }));
}

void MainWindow::overlayRun(const QString& dir) {
  try {
    showRunCurves(dir, QFileInfo(dir).fileName());
    appendLog("overlaid the curves of " + dir);
  } catch (const std::exception& e) {
    appendLog(QString("error: ") + e.what());
    warn("Cannot overlay run", e.what());
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (running_) {
    if (interactive_) {
      const auto answer = QMessageBox::question(this, "Stop the run?",
                                                "A run is going. Stop it (a resumable checkpoint is kept) and quit?");
      if (answer != QMessageBox::Yes) {
        event->ignore();
        return;
      }
    }
    worker_->stopToken().request_stop();
  }
  QSettings settings;
  settings.setValue("geometry", saveGeometry());
  settings.setValue("window_state", saveState());
  event->accept();
}

}  // namespace fan::app
