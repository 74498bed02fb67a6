// The workbench's main window.
#include "main_window.h"

#include "core/io/config.h"
#include "core/io/run_dir.h"
#include "widgets/loss_plot.h"

#include <QAction>
#include <QCloseEvent>
#include <QDateTime>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QPlainTextEdit>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>

namespace fan::app {
namespace {
QLabel* placeholder(const QString& text) {
  auto* label = new QLabel(text);
  label->setAlignment(Qt::AlignCenter);
  label->setWordWrap(true);
  label->setStyleSheet("color: #667; padding: 12px;");
  return label;
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  register_metatypes();
  setWindowTitle("FAN Workbench");
  setDockNestingEnabled(true);

  auto* central = new QWidget;
  auto* plots = new QVBoxLayout(central);
  stage1_plot_ = new widgets::LossPlot("Stage 1: source network (α·Lc + β·Lm + Lr)");
  stage2_plot_ = new widgets::LossPlot("Stage 2: adaptation (μ·L_advD, ν·L_advM + Lr)");
  plots->addWidget(stage1_plot_);
  plots->addWidget(stage2_plot_);
  setCentralWidget(central);

  project_view_ = new QPlainTextEdit;
  project_view_->setReadOnly(true);
  addPanel("Experiment", project_view_, Qt::LeftDockWidgetArea);
  addPanel("Datasets", placeholder("Source and target datasets: samples and counts"), Qt::LeftDockWidgetArea);
  preview_label_ = placeholder("Reconstruction previews appear here during a run");
  addPanel("Reconstructions", preview_label_, Qt::RightDockWidgetArea);
  addPanel("Domain-specific inspector", placeholder("Swap hd and logits between a target and a source image"),
           Qt::RightDockWidgetArea);
  addPanel("Embedding", placeholder("t-SNE of the logit and domain-specific subspaces"), Qt::RightDockWidgetArea);
  addPanel("Runs", placeholder("Runs in the output directory"), Qt::LeftDockWidgetArea);
  log_ = new QPlainTextEdit;
  log_->setObjectName("log");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  addPanel("Log", log_, Qt::BottomDockWidgetArea);

  auto* toolbar = addToolBar("Run");
  toolbar->setObjectName("run_toolbar");
  auto* open_action = toolbar->addAction("Open…");
  connect(open_action, &QAction::triggered, this, [this] {
    const auto path = QFileDialog::getOpenFileName(this, "Open project", "projects", "Projects (*.json)");
    if (!path.isEmpty()) openProject(path);
  });
  toolbar->addSeparator();
  run_action_ = toolbar->addAction("Run");
  pause_action_ = toolbar->addAction("Pause");
  stop_action_ = toolbar->addAction("Stop");
  connect(run_action_, &QAction::triggered, this, &MainWindow::runExperiment);
  connect(pause_action_, &QAction::triggered, this, &MainWindow::pauseOrResume);
  connect(stop_action_, &QAction::triggered, this, &MainWindow::stopExperiment);

  status_stage_ = new QLabel("idle");
  status_rate_ = new QLabel;
  statusBar()->addWidget(status_stage_, 1);
  statusBar()->addPermanentWidget(status_rate_);

  worker_ = new TrainingWorker;
  worker_->moveToThread(&worker_thread_);
  connect(&worker_thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(this, &MainWindow::startRequested, worker_, &TrainingWorker::start);
  connect(worker_, &TrainingWorker::message, this, &MainWindow::appendLog);
  connect(worker_, &TrainingWorker::stageStarted, this, [this](int stage, const QString& name, qint64 total) {
    appendLog(QString("stage %1 (%2): %3 steps").arg(stage).arg(name).arg(total));
  });
  connect(worker_, &TrainingWorker::stepLogged, this, &MainWindow::onStep);
  connect(worker_, &TrainingWorker::evaluated, this, &MainWindow::onEvaluation);
  connect(worker_, &TrainingWorker::preview, this, &MainWindow::onPreview);
  connect(worker_, &TrainingWorker::failed, this, [this](const QString& error) {
    setRunning(false);
    appendLog("error: " + error);
    QMessageBox::warning(this, "Run failed", error);
  });
  connect(worker_, &TrainingWorker::finished, this, [this](const QString& results) {
    setRunning(false);
    appendLog("finished: " + results);
    emit runFinished(results);
  });
  worker_thread_.start();
  setRunning(false);

  QSettings settings("FAN Workbench", "fan-workbench");
  restoreGeometry(settings.value("geometry").toByteArray());
  restoreState(settings.value("window_state").toByteArray());
}

MainWindow::~MainWindow() {
  worker_->stopToken().request_stop();
  worker_thread_.quit();
  worker_thread_.wait();
}

QDockWidget* MainWindow::addPanel(const QString& title, QWidget* widget, Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(title);
  dock->setWidget(widget);
  addDockWidget(area, dock);
  return dock;
}

bool MainWindow::openProject(const QString& path) {
  try {
    const auto config = io::ExperimentConfig::load(path.toStdString());
    project_path_ = path;
    project_json_ = QString::fromStdString(config.resolved.dump(2));
    project_view_->setPlainText(project_json_);
    setWindowTitle("FAN Workbench — " + QFileInfo(path).fileName());
    appendLog("opened " + path);
    return true;
  } catch (const std::exception& e) {
    appendLog(QString("error: ") + e.what());
    QMessageBox::warning(this, "Cannot open project", e.what());
    return false;
  }
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
  if (!running) status_stage_->setText("idle");
}

void MainWindow::runExperiment() {
  if (running_) return;
  if (project_json_.isEmpty()) {
    appendLog("open a project first");
    return;
  }
  const auto name = io::ExperimentConfig::from_json(nlohmann::json::parse(project_json_.toStdString())).name;
  const auto dir = QString::fromStdString(io::RunDirectory::default_for(name).string());
  stage1_plot_->clear();
  stage2_plot_->clear();
  setRunning(true);
  appendLog("run directory: " + dir);
  emit startRequested(project_json_, dir);
}

void MainWindow::pauseOrResume() {
  auto& token = worker_->stopToken();
  token.set_paused(!token.paused());
  pause_action_->setText(token.paused() ? "Resume" : "Pause");
  appendLog(token.paused() ? "paused" : "resumed");
}

void MainWindow::stopExperiment() {
  worker_->stopToken().request_stop();
  appendLog("stopping at the next step (a checkpoint is kept)");
}

void MainWindow::onStep(const StepPoint& p) {
  auto* plot = stagePlot(p.stage);
  for (auto it = p.losses.begin(); it != p.losses.end(); ++it)
    if (it.key() != "D_acc") plot->addPoint(it.key(), p.step, it.value());
  const double fraction = p.total > 0 ? double(p.step) / p.total : 1;
  const double eta = fraction > 0 ? p.elapsed_seconds * (1 - fraction) / fraction : 0;
  status_stage_->setText(QString("stage %1 · step %2/%3 · ETA %4 s").arg(p.stage).arg(p.step).arg(p.total).arg(eta, 0, 'f', 0));
  status_rate_->setText(QString("%1 images/s").arg(p.images_per_second, 0, 'f', 0));
}

void MainWindow::onEvaluation(const EvaluationPoint& p) {
  const QString series = p.split == "target_test" ? "target test accuracy" : "source test accuracy";
  stagePlot(p.stage)->addAccuracy(series, p.step, p.top1);
  appendLog(QString("stage %1 step %2: %3 network on %4: top-1 %5")
                .arg(p.stage).arg(p.step).arg(p.network, p.split).arg(p.top1, 0, 'f', 4));
}

void MainWindow::onPreview(const PreviewImages& images) {
  const int n = images.originals.size();
  if (n == 0) return;
  const int cell = 56;
  QImage grid(n * cell, 2 * cell, QImage::Format_RGB32);
  grid.fill(Qt::white);
  QPainter painter(&grid);
  for (int i = 0; i < n; ++i) {
    painter.drawImage(QRect(i * cell, 0, cell, cell), images.originals[i]);
    if (i < images.reconstructions.size())
      painter.drawImage(QRect(i * cell, cell, cell, cell), images.reconstructions[i]);
  }
  painter.end();
  preview_label_->setPixmap(QPixmap::fromImage(grid));
  preview_label_->setToolTip(QString("%1 test images (top) and reconstructions (bottom), stage %2 step %3")
                                 .arg(images.domain).arg(images.stage).arg(images.step));
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (running_) {
    const auto answer = QMessageBox::question(this, "Stop the run?",
                                              "A run is going. Stop it (a checkpoint is kept) and quit?");
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
    worker_->stopToken().request_stop();
  }
  QSettings settings("FAN Workbench", "fan-workbench");
  settings.setValue("geometry", saveGeometry());
  settings.setValue("window_state", saveState());
  event->accept();
}

}  // namespace fan::app
