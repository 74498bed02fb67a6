// `fan-workbench [PROJECT.json]`: the GUI.
#include "datasets_panel.h"
#include "embedding_panel.h"
#include "inspector_panel.h"
#include "main_window.h"

#include "core/util/blas_kernels.h"

#include <unistd.h>

#include <cstdlib>

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QTimer>

namespace {

// Saves the window and each panel as PNGs into `dir` (for the docs and for users' reports).
void save_snapshots(fan::app::MainWindow& window, const QString& dir) {
  QDir().mkpath(dir);
  window.grab().save(dir + "/workbench.png");
  for (auto* dock : window.findChildren<QDockWidget*>()) {
    dock->show();
    dock->raise();
    QApplication::processEvents();
    QString name = dock->objectName().toLower().replace(' ', '_').replace('-', '_');
    dock->widget()->grab().save(dir + "/panel_" + name + ".png");
  }
  window.centralWidget()->grab().save(dir + "/panel_loss_curves.png");
}

}  // namespace

int main(int argc, char** argv) {
  // LibTorch trains in a worker thread here, not in the initial thread as in `fan run`, so libgomp counts
  // one more thread than there are cores and stops spinning between parallel regions ("throttled"): on
  // 2 cores the training steps took 1.2× as long as `fan run`'s (bench/results/live_embedding.md).
  // libgomp reads its settings when it loads, before main, so the workbench starts itself again with
  // the spin `fan run` gets (300,000 spins, then sleep: no CPU burnt while idle). A user's own
  // OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept.
  bool start_again = false;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && std::getenv("GOMP_SPINCOUNT") == nullptr &&
      std::getenv("FAN_WORKBENCH_OPENMP") == nullptr) {
    ::setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
    ::setenv("GOMP_SPINCOUNT", "300000", 1);
    ::setenv("FAN_WORKBENCH_OPENMP", "1", 1);
    start_again = true;
  }
  // OpenBLAS's kernels for processors it does not know: in the same start again, not a second one.
  if (fan::util::select_suitable_blas_kernels()) start_again = true;
  if (start_again) ::execv("/proc/self/exe", argv);  // only returns on failure: then run as we are

  QApplication app(argc, argv);
  QApplication::setApplicationName("fan-workbench");
  QApplication::setOrganizationName("FAN Workbench");
  QCommandLineParser parser;
  parser.setApplicationDescription("FAN Workbench: unsupervised domain adaptation with Factorized Adversarial Networks");
  parser.addHelpOption();
  parser.addPositionalArgument("project", "Project file to open (projects/*.json)");
  QCommandLineOption run_option("run", "Start the run at once");
  QCommandLineOption open_run_option("open-run", "Open a finished run directory", "dir");
  QCommandLineOption snapshot_option(
      "snapshot", "After the run (or --open-run) and its embedding, save PNGs of every panel into dir and quit", "dir");
  parser.addOption(run_option);
  parser.addOption(open_run_option);
  parser.addOption(snapshot_option);
  parser.process(app);

  QFile style(":/fan/style.qss");
  if (style.open(QIODevice::ReadOnly)) app.setStyleSheet(QString::fromUtf8(style.readAll()));

  fan::app::MainWindow window;
  window.resize(1600, 1000);
  window.show();
  const QString snapshot_dir = parser.value(snapshot_option);
  if (!snapshot_dir.isEmpty()) {
    window.setInteractive(false);
    // Once the run's networks are loaded: embed, then save the panels and quit.
    QObject::connect(window.inspector(), &fan::app::InspectorPanel::done, &window, [&window] {
      static bool started = false;
      if (started) return;
      started = true;
      window.datasets()->reload();
      window.embedding()->compute();
    });
    QObject::connect(window.embedding(), &fan::app::EmbeddingPanel::computed, &window, [&window, snapshot_dir] {
      QTimer::singleShot(500, &window, [&window, snapshot_dir] {
        save_snapshots(window, snapshot_dir);
        QApplication::quit();
      });
    });
    QObject::connect(&window, &fan::app::MainWindow::runFailed, &app, [] { QApplication::exit(1); });
  }
  if (!parser.positionalArguments().isEmpty()) {
    if (window.openProject(parser.positionalArguments().first()) && parser.isSet(run_option))
      window.runExperiment();
  }
  if (parser.isSet(open_run_option)) window.openRun(parser.value(open_run_option));
  return app.exec();
}
