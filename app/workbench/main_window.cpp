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
#include "paper_experiments.h"
#include "results_card.h"
#include "runs_panel.h"
#include "selection_panel.h"
#include "sweep_dialog.h"
#include "sweep_panel.h"
#include "sweep_queue.h"
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
// The window layout, per user (QSettings): geometry and the docks' state.
constexpr const char* kGeometryKey = "MainWindow/geometry";
constexpr const char* kStateKey = "MainWindow/state";

// One line of results for the log and the results label.
QString results_text(const io::Results& r) {
  auto top1 = [](const std::optional<io::Accuracy>& a) { return a ? accuracy_text(a->top1) : QString("–"); };
  QString text = QObject::tr("target test top-1: source only %1, AdaBN %2 → adapted %3 (top-5 %4)")
                     .arg(top1(r.source_only), top1(r.source_only_adabn), top1(r.adapted),
                          r.adapted ? accuracy_text(r.adapted->top5) : QString("–"));
  if (r.validation_adapted)
    text += QObject::tr("; held-out target validation %1").arg(*r.validation_adapted, 0, 'f', 4);
  return text;
}

QString format_eta(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return QStringLiteral("?");
  const auto s = static_cast<qint64>(seconds + 0.5);
  return s >= 3600 ? QString("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'))
                   : QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  register_metatypes();
  setWindowTitle(tr("FAN Workbench"));
  setDockNestingEnabled(true);

  auto* central = new QWidget;
  auto* plots = new QVBoxLayout(central);
  stage1_plot_ = new widgets::LossPlot(tr("Stage 1: source network (α·Lc + β·Lm + Lr)"));
  stage2_plot_ = new widgets::LossPlot(tr("Stage 2: adaptation (μ·L_advD; ν·L_advM + Lr)"));
  results_label_ = new QLabel;
  results_label_->setWordWrap(true);
  plots->addWidget(stage1_plot_, 1);
  plots->addWidget(stage2_plot_, 1);
  plots->addWidget(results_label_);
  setCentralWidget(central);

  form_ = new ExperimentForm;
  addPanel(QT_TR_NOOP("Experiment"), form_, Qt::LeftDockWidgetArea);
  datasets_ = new DatasetsPanel(form_);
  addPanel(QT_TR_NOOP("Datasets"), datasets_, Qt::LeftDockWidgetArea);
  runs_ = new RunsPanel;
  addPanel(QT_TR_NOOP("Runs"), runs_, Qt::LeftDockWidgetArea);
  previews_ = new widgets::PreviewPanel;
  addPanel(QT_TR_NOOP("Reconstructions"), previews_, Qt::RightDockWidgetArea);
  inspector_ = new InspectorPanel;
  addPanel(QT_TR_NOOP("Domain-specific inspector"), inspector_, Qt::RightDockWidgetArea);
  embedding_ = new EmbeddingPanel;
  addPanel(QT_TR_NOOP("Embedding"), embedding_, Qt::RightDockWidgetArea);
  selection_ = new SelectionPanel;
  addPanel(QT_TR_NOOP("Selection"), selection_, Qt::RightDockWidgetArea);
  results_card_ = new ResultsCard;
  addPanel(QT_TR_NOOP("Results card"), results_card_, Qt::RightDockWidgetArea);
  log_ = new QPlainTextEdit;
  log_->setObjectName("log");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  addPanel(QT_TR_NOOP("Log"), log_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(findChild<QDockWidget*>("Experiment"), findChild<QDockWidget*>("Datasets"));
  tabifyDockWidget(findChild<QDockWidget*>("Experiment"), findChild<QDockWidget*>("Runs"));
  findChild<QDockWidget*>("Experiment")->raise();
  tabifyDockWidget(findChild<QDockWidget*>("Domain-specific inspector"), findChild<QDockWidget*>("Embedding"));
  tabifyDockWidget(findChild<QDockWidget*>("Domain-specific inspector"), findChild<QDockWidget*>("Selection"));
  tabifyDockWidget(findChild<QDockWidget*>("Domain-specific inspector"), findChild<QDockWidget*>("Results card"));
  findChild<QDockWidget*>("Domain-specific inspector")->raise();

  createSweep();
  createMenus();

  status_stage_ = new QLabel(tr("idle"));
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

  // The layout the user left (the keys before they were namespaced still count once).
  QSettings settings;
  restoreGeometry(settings.value(kGeometryKey, settings.value("geometry")).toByteArray());
  if (!restoreState(settings.value(kStateKey, settings.value("window_state")).toByteArray())) {
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
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New from paper experiment…"), QKeySequence::New, this, [this] {
    PaperExperimentDialog dialog(find_projects_dir(), this);
    if (dialog.exec() == QDialog::Accepted && !dialog.selectedPath().isEmpty()) newFromProject(dialog.selectedPath());
  })->setObjectName("action:new_from_paper");
  file->addAction(tr("&Open project…"), QKeySequence::Open, this, [this] {
    const auto path = QFileDialog::getOpenFileName(this, tr("Open project"), "projects", tr("Projects (*.json)"));
    if (!path.isEmpty()) openProject(path);
  });
  file->addAction(tr("&Save project"), QKeySequence::Save, this, [this] {
    if (project_path_.isEmpty()) {
      const auto path = QFileDialog::getSaveFileName(this, tr("Save project"), "projects", tr("Projects (*.json)"));
      if (!path.isEmpty()) saveProject(path);
    } else {
      saveProject(project_path_);
    }
  });
  file->addAction(tr("Save project &as…"), QKeySequence::SaveAs, this, [this] {
    const auto path = QFileDialog::getSaveFileName(this, tr("Save project as"), project_path_, tr("Projects (*.json)"));
    if (!path.isEmpty()) saveProject(path);
  });
  recent_menu_ = file->addMenu(tr("Recent projects"));
  file->addSeparator();
  file->addAction(tr("Open &run…"), this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, tr("Open run directory"), runs_->directory());
    if (!dir.isEmpty()) openRun(dir);
  });
  file->addAction(tr("Resume run…"), this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, tr("Resume run directory"), runs_->directory());
    if (!dir.isEmpty()) resumeRun(dir);
  });
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  rebuildRecentMenu();

  auto* toolbar = addToolBar(tr("Run"));
  toolbar->setObjectName("run_toolbar");
  run_action_ = toolbar->addAction(tr("Run"));
  run_action_->setObjectName("action:run");
  run_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
  run_action_->setToolTip(tr("Run the experiment in the form (stage 1, then adaptation) — Ctrl+R"));
  pause_action_ = toolbar->addAction(tr("Pause"));
  pause_action_->setObjectName("action:pause");
  pause_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
  pause_action_->setToolTip(tr("Pause the run after this step, or resume it — Ctrl+P"));
  stop_action_ = toolbar->addAction(tr("Stop"));
  stop_action_->setObjectName("action:stop");
  stop_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
  stop_action_->setToolTip(tr("Stop at the next step; a resumable checkpoint is kept — Ctrl+."));
  connect(run_action_, &QAction::triggered, this, &MainWindow::runExperiment);
  connect(pause_action_, &QAction::triggered, this, &MainWindow::pauseOrResume);
  connect(stop_action_, &QAction::triggered, this, &MainWindow::stopExperiment);
  auto* run_menu = menuBar()->addMenu(tr("&Run"));
  run_menu->addActions({run_action_, pause_action_, stop_action_});
  run_menu->addSeparator();
  run_menu->addAction(tr("S&weep…"), this, &MainWindow::openSweepDialog);
  run_menu->addAction(tr("&Open sweep…"), this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, tr("Open sweep directory"), "sweeps");
    if (!dir.isEmpty()) openSweep(dir);
  });
  auto* view_menu = menuBar()->addMenu(tr("&View"));
  for (auto* dock : findChildren<QDockWidget*>()) view_menu->addAction(dock->toggleViewAction());
  view_menu->addSeparator();
  // The runs table wants more room than a side panel has once it shows config fields and groups.
  view_menu->addAction(tr("Runs table in a &window"), this, [this] {
    auto* dock = findChild<QDockWidget*>("Runs");
    dock->show();
    dock->setFloating(true);
    dock->resize(width() * 2 / 3, height() * 2 / 3);
    dock->move(mapToGlobal(QPoint(width() / 6, height() / 6)));  // over the window, not wherever it last floated
    dock->raise();
    runs_->refresh();
  });
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
  connect(worker_, &TrainingWorker::recorded, sweep_queue_, &SweepQueue::onRecord);
  connect(worker_, &TrainingWorker::preview, this, &MainWindow::onPreview);
  connect(worker_, &TrainingWorker::embeddingFrame, embedding_, &EmbeddingPanel::addLiveFrame);
  connect(worker_, &TrainingWorker::failed, this, [this](const QString& error) {
    flushCurves();
    setRunning(false);
    embedding_->endLive();
    appendLog(tr("error: %1").arg(error));
    runs_->refresh();
    // A sweep's failed run is marked in the sweep panel and the queue goes on: no box to dismiss.
    const bool in_sweep = sweep_queue_->isActive();
    emit runFailed(error);
    if (!in_sweep) warn(tr("Run failed"), error);
  });
  connect(worker_, &TrainingWorker::finished, this, &MainWindow::onFinished);
}

void MainWindow::createSweep() {
  RunLauncher launcher;
  launcher.start = [this](const nlohmann::json& config, const QString& dir, QString* error) {
    if (running_) {
      *error = tr("another run is going");
      return false;
    }
    try {
      startRun(io::ExperimentConfig::from_json(config, dir.toStdString() + " (sweep plan)"), dir);
      return true;
    } catch (const std::exception& e) {
      *error = QString::fromUtf8(e.what());
      return false;
    }
  };
  launcher.resume = [this](const QString& dir, QString* error) {
    // resumeRun reads the metrics first; an unreadable file is this run's failure, not a message box.
    try {
      (void)io::RunDirectory(dir.toStdString()).read_metrics();
    } catch (const std::exception& e) {
      *error = QString::fromUtf8(e.what());
      return false;
    }
    if (!resumeRun(dir)) *error = tr("cannot resume %1 (see the log)").arg(dir);
    return error->isEmpty();
  };
  launcher.stop = [this] { stopExperiment(); };
  launcher.busy = [this] { return running_; };
  sweep_queue_ = new SweepQueue(std::move(launcher), this);
  sweep_panel_ = new SweepPanel(sweep_queue_);
  addPanel(tr("Sweep"), sweep_panel_, Qt::BottomDockWidgetArea)->setObjectName("Sweep");
  tabifyDockWidget(findChild<QDockWidget*>("Log"), findChild<QDockWidget*>("Sweep"));
  findChild<QDockWidget*>("Log")->raise();
  connect(this, &MainWindow::runFinished, sweep_queue_, &SweepQueue::onRunFinished);
  connect(this, &MainWindow::runFailed, sweep_queue_, &SweepQueue::onRunFailed);
  connect(sweep_panel_, &SweepPanel::resumeRequested, this, &MainWindow::resumeSweep);
  connect(sweep_panel_, &SweepPanel::openRequested, this, [this](const QString& dir) {
    if (!running_) openRun(dir);
  });
  connect(sweep_queue_, &SweepQueue::changed, this, [this] {
    if (run_action_ != nullptr) run_action_->setEnabled(!running_ && !sweep_queue_->isActive());
  });
  connect(sweep_queue_, &SweepQueue::runStarted, this, [this](int index) {
    appendLog(tr("sweep: run %1 of %2, %3").arg(index + 1).arg(sweep_queue_->count()).arg(sweep_queue_->name(index)));
  });
  connect(sweep_queue_, &SweepQueue::finished, this, [this] {
    appendLog(tr("sweep %1: %2").arg(sweep_queue_->directory(), sweep_queue_->summaryText()));
  });
  connect(sweep_queue_, &SweepQueue::stopped, this, [this] {
    appendLog(tr("sweep stopped; Resume sweep (in the Sweep panel) continues it"));
  });
}

void MainWindow::openSweepDialog() {
  if (running_ || sweep_queue_->isActive()) {
    warn(tr("Cannot plan a sweep"), tr("A run is going: stop it or let it finish first."));
    return;
  }
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    appendLog(tr("cannot sweep: %1").arg(problem));
    warn(tr("Cannot sweep"), problem);
    return;
  }
  SweepDialog dialog(form_->config(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  startSweep(dialog.outputDirectory(), dialog.plannedRuns());
}

bool MainWindow::startSweep(const QString& dir, std::vector<sweep::PlannedRun> runs) {
  if (running_ || sweep_queue_->isActive()) {
    warn(tr("Cannot start the sweep"), tr("A run is going: stop it or let it finish first."));
    return false;
  }
  const auto count = runs.size();
  sweep_queue_->load(dir, std::move(runs));
  showSweepPanel();
  runs_->setDirectory(dir);
  appendLog(tr("sweep %1: %2 planned runs (plan in %3)")
                .arg(dir)
                .arg(count)
                .arg(QString::fromStdString(sweep::plan_path(dir.toStdString()).string())));
  return resumeSweep();
}

bool MainWindow::openSweep(const QString& dir) {
  QString error;
  if (!sweep_queue_->loadPlan(dir, &error)) {
    appendLog(tr("error: %1").arg(error));
    warn(tr("Cannot open sweep"), error);
    return false;
  }
  showSweepPanel();
  runs_->setDirectory(dir);  // the runs table lists the sweep's runs (group them by config)
  appendLog(tr("opened sweep %1: %2").arg(dir, sweep_queue_->summaryText()));
  return true;
}

void MainWindow::showSweepPanel() {
  auto* dock = findChild<QDockWidget*>("Sweep");
  dock->show();
  dock->raise();
  // Room for a handful of rows (the log's share of the height is too little for a queue).
  if (dock->height() < height() / 4) resizeDocks({dock}, {height() / 4}, Qt::Vertical);
}

bool MainWindow::resumeSweep() {
  QString error;
  if (sweep_queue_->start(&error)) return true;
  appendLog(tr("sweep not started: %1").arg(error));
  warn(tr("Cannot run the sweep"), error);
  return false;
}

QDockWidget* MainWindow::addPanel(const QString& title, QWidget* widget, Qt::DockWidgetArea area) {
  // The object name stays English (saved layouts and findChild use it); the title is translated.
  auto* dock = new QDockWidget(tr(title.toUtf8().constData()), this);
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
    setWindowTitle(tr("FAN Workbench — %1").arg(QFileInfo(path).fileName()));
    appendLog(tr("opened %1").arg(path));
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    appendLog(tr("error: %1").arg(QString::fromUtf8(e.what())));
    warn(tr("Cannot open project"), QString::fromUtf8(e.what()));
    return false;
  }
}

bool MainWindow::newFromProject(const QString& path) {
  try {
    const auto config = io::ExperimentConfig::load(path.toStdString());
    form_->setConfig(config.resolved);
    // A new project: Save asks where, the shipped file stays as it is.
    project_path_.clear();
    setWindowTitle(tr("FAN Workbench — new from %1 (unsaved)").arg(QFileInfo(path).fileName()));
    appendLog(tr("new project from the paper experiment %1 (%2)").arg(QString::fromStdString(config.name), path));
    return true;
  } catch (const std::exception& e) {
    appendLog(tr("error: %1").arg(QString::fromUtf8(e.what())));
    warn(tr("Cannot load the experiment"), QString::fromUtf8(e.what()));
    return false;
  }
}

bool MainWindow::saveProject(const QString& path) {
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    appendLog(tr("not saved: %1").arg(problem));
    warn(tr("Cannot save"), problem);
    return false;
  }
  try {
    const auto config = io::validate_config(form_->config(), "form");
    util::atomic_write(path.toStdString(), config.dump(2) + "\n");
    project_path_ = path;
    setWindowTitle(tr("FAN Workbench — %1").arg(QFileInfo(path).fileName()));
    appendLog(tr("saved %1").arg(path));
    addRecent(path);
    return true;
  } catch (const std::exception& e) {
    appendLog(tr("error: %1").arg(QString::fromUtf8(e.what())));
    warn(tr("Cannot save"), QString::fromUtf8(e.what()));
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
  pause_action_->setText(tr("Pause"));
  form_->setRunning(running);
  if (sweep_queue_ != nullptr) {
    run_action_->setEnabled(!running && !sweep_queue_->isActive());
    sweep_panel_->setWindowBusy(running);
  }
  if (!running) {
    status_stage_->setText(tr("idle"));
    status_rate_->clear();
  }
}

void MainWindow::runExperiment() {
  if (running_ || sweep_queue_->isActive()) return;
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    appendLog(tr("cannot run: %1").arg(problem));
    warn(tr("Cannot run"), problem);
    return;
  }
  const auto config = io::ExperimentConfig::from_json(io::validate_config(form_->config(), "form"), "form");
  startRun(config, QString::fromStdString(io::RunDirectory::default_for(config.name, runs_->directory().toStdString()).string()));
}

void MainWindow::startRun(const io::ExperimentConfig& config, const QString& dir) {
  run_dir_ = dir;
  clearCurves();
  previews_->clear();
  results_label_->clear();
  showResults(nullptr, QString());
  embedding_->startLive(dir, QString::fromStdString(config.source.dataset), QString::fromStdString(config.target.dataset),
                        config.threads);
  worker_->stopToken().reset();
  setRunning(true);
  appendLog(tr("run directory: %1").arg(run_dir_));
  emit startRequested(config, run_dir_);
}

bool MainWindow::resumeRun(const QString& dir) {
  if (running_) return false;
  run_dir_ = dir;
  clearCurves();
  previews_->clear();
  results_label_->clear();
  // The live curves continue from what the run has logged so far.
  int64_t threads = 0;
  try {
    const io::RunDirectory run(dir.toStdString());
    live_curves_ = analysis::curves_from_metrics(run.read_metrics());
    threads = run.read_config().value("threads", int64_t{0});
  } catch (const std::exception& e) {
    appendLog(tr("error: %1").arg(QString::fromUtf8(e.what())));
    warn(tr("Cannot resume run"), QString::fromUtf8(e.what()));
    return false;
  }
  for (int stage : {1, 2}) stagePlot(stage)->setCurves(live_curves_.stage(stage));
  selection_->setCurves(live_curves_);
  embedding_->resumeLive(dir, threads);
  worker_->stopToken().reset();
  setRunning(true);
  appendLog(tr("resuming %1").arg(dir));
  emit resumeRequested(dir);
  return true;
}

void MainWindow::pauseOrResume() {
  auto& token = worker_->stopToken();
  token.set_paused(!token.paused());
  pause_action_->setText(token.paused() ? tr("Resume") : tr("Pause"));
  appendLog(token.paused() ? tr("paused") : tr("resumed"));
}

void MainWindow::stopExperiment() {
  worker_->stopToken().request_stop();
  appendLog(tr("stopping at the next step (a resumable checkpoint is kept)"));
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
  embedding_->endLive();
  if (!r.finished()) {
    appendLog(tr("stopped; resume it from File → Resume run or `fan resume %1`").arg(run_dir_));
  } else {
    appendLog(tr("finished in %1 s: %2").arg(r.total_seconds(), 0, 'f', 1).arg(results_text(r)));
    selection_->setResults(r);
    results_label_->setText(results_text(r));
    showResults(&r, run_dir_);
    if (auto* dock = findChild<QDockWidget*>("Results card")) dock->raise();
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
    if (summary.status == io::RunSummary::Status::kNotARun)
      throw Error(tr("%1: not a run directory").arg(dir).toStdString());
    // An unreadable checkpoint or results file still leaves the curves to look at; a bad config does not.
    if (summary.config.is_null()) throw Error(summary.problem);
    if (!summary.problem.empty()) appendLog(tr("warning: %1").arg(QString::fromStdString(summary.problem)));
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
    if (!running_) showResults(summary.results ? &*summary.results : nullptr, dir);
    appendLog(tr("opened run %1 (%2); loading its networks…").arg(dir, status));
  } catch (const std::exception& e) {
    appendLog(tr("error: %1").arg(QString::fromUtf8(e.what())));
    warn(tr("Cannot open run"), QString::fromUtf8(e.what()));
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
      appendLog(tr("cannot load the networks of %1: %2").arg(dir, error));
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
    appendLog(tr("overlaid the curves of %1").arg(dir));
  } catch (const std::exception& e) {
    appendLog(tr("error: %1").arg(QString::fromUtf8(e.what())));
    warn(tr("Cannot overlay run"), QString::fromUtf8(e.what()));
  }
}

void MainWindow::showResults(const io::Results* r, const QString& dir) {
  if (r == nullptr) {
    results_card_->clear();
    datasets_->setPriorEstimate({});
    return;
  }
  results_card_->setResults(*r, dir);
  datasets_->setPriorEstimate(r->target_prior_estimate, QFileInfo(dir).fileName());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (running_) {
    if (interactive_) {
      const auto answer = QMessageBox::question(this, tr("Stop the run?"),
                                                tr("A run is going. Stop it (a resumable checkpoint is kept) and quit?"));
      if (answer != QMessageBox::Yes) {
        event->ignore();
        return;
      }
    }
    worker_->stopToken().request_stop();
  }
  sweep_queue_->stop();  // between two runs: no next one starts
  QSettings settings;
  settings.setValue(kGeometryKey, saveGeometry());
  settings.setValue(kStateKey, saveState());
  event->accept();
}

}  // namespace fan::app
