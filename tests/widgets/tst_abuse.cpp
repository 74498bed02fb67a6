// The GUI under abuse: 50 start/stop cycles, pause/resume, form edits during a run,
// corrupt project files and run directories — no crash, no hang, no leaked thread, flat memory.
#include "core/synthetic.h"
#include "core/test_util.h"

#include "widgets/loss_plot.h"
#include "workbench/experiment_form.h"
#include "workbench/main_window.h"

#include <QFile>
#include <QSignalSpy>
#include <QThreadPool>
#include <QtTest>

#include <fstream>

namespace {
// A field of /proc/self/status in kB (VmRSS, VmHWM) or as a count (Threads).
long status_field(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) return std::stol(line.substr(name.size() + 1));
  return -1;
}
}  // namespace

class TestAbuse : public QObject {
  Q_OBJECT
 private:
  fan::test::ScratchDir data_{"fan-abuse-data"};
  fan::test::ScratchDir runs_{"fan-abuse-runs"};

  QString project() {
    const nlohmann::json config = {{"name", "abuse"},
                                   {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
                                   {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
                                   {"data", {{"root", data_.path().string()}, {"framing", "stretch"}}},
                                   {"stage1", {{"epochs", 50}, {"batch_size", 32}}},
                                   {"stage2", {{"iterations", 500}, {"batch_size", 32}}},
                                   {"run", {{"log_every", 1}, {"checkpoint_every", 7}}},
                                   {"threads", 1}};
    const auto path = runs_.path() / "abuse.json";
    fan::test::write_file(path, config.dump(2));
    return QString::fromStdString(path.string());
  }

  // Starts a run, waits until `steps` steps are logged (0: not at all), stops it
  // and waits for the worker to report.
  bool startAndStop(fan::app::MainWindow& window, int steps) {
    QSignalSpy finished(&window, &fan::app::MainWindow::runFinished);
    QSignalSpy failed(&window, &fan::app::MainWindow::runFailed);
    window.runExperiment();
    if (!window.isRunning()) return false;
    if (steps > 0) {
      QElapsedTimer t;
      t.start();
      while (window.stagePlot(1)->pointCount("Lc") < steps && t.elapsed() < 60000) QTest::qWait(5);
    }
    window.stopExperiment();
    QElapsedTimer t;
    t.start();
    while (finished.isEmpty() && failed.isEmpty() && t.elapsed() < 60000) QTest::qWait(5);
    return !finished.isEmpty() && !window.isRunning();
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("fan-workbench-tests");
    fan::test::write_synthetic_domains(data_.path(), 160, 40);
    QDir::setCurrent(QString::fromStdString(runs_.path().string()));
  }

  void fiftyStartsAndStops() {
    const long threads_before = status_field("Threads");
    long rss_after_warmup = 0;
    {
      fan::app::MainWindow window;
      window.setInteractive(false);
      QVERIFY(window.openProject(project()));
      for (int i = 0; i < 2; ++i) QVERIFY(startAndStop(window, 1));  // warm-up: LibTorch's first allocations
      rss_after_warmup = status_field("VmRSS");
      for (int i = 0; i < 50; ++i) {
        // Alternate: stop before the first step, after a few steps, after a pause.
        if (i % 5 == 3) {
          QSignalSpy finished(&window, &fan::app::MainWindow::runFinished);
          window.runExperiment();
          window.pauseOrResume();
          QTest::qWait(20);
          window.form()->setValue("run.log_every", 2);  // editable during a run
          window.form()->setValue("stage1.lr", 0.5);    // locked: does not reach the running experiment
          window.pauseOrResume();
          window.stopExperiment();
          QVERIFY(finished.wait(60000));
          window.form()->setValue("stage1.lr", 2e-4);
        } else {
          QVERIFY2(startAndStop(window, i % 2 == 0 ? 0 : 3), qPrintable(QString("cycle %1").arg(i)));
        }
      }
    }
    QThreadPool::globalInstance()->waitForDone();
    const long rss_after = status_field("VmRSS");
    const long threads_after = status_field("Threads");
    const QString report = QString("GUI abuse: 50 start/stop cycles; RSS after warm-up %1 MB, after the cycles %2 MB, "
                                   "peak %3 MB; threads before %4, after %5")
                               .arg(rss_after_warmup / 1024).arg(rss_after / 1024).arg(status_field("VmHWM") / 1024)
                               .arg(threads_before).arg(threads_after);
    qInfo().noquote() << report;
    if (const auto path = qgetenv("FAN_ABUSE_REPORT"); !path.isEmpty()) fan::test::write_file(path.toStdString(), report.toStdString() + "\n");
    // Flat memory: the cycles may not keep what they allocated.
    QVERIFY2(rss_after - rss_after_warmup < 150 * 1024, qPrintable(report));
    // No thread outlives its window (the worker thread, the pool's helpers).
    QVERIFY2(threads_after <= threads_before + 2, qPrintable(report));
  }

  void corruptFilesAreRefused() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    fan::test::write_file(runs_.path() / "corrupt.json", "{\"stage1\": {\"epochs\": 3,,}");
    QVERIFY(!window.openProject(QString::fromStdString((runs_.path() / "corrupt.json").string())));
    fan::test::write_file(runs_.path() / "binary.json", std::string("\x00\xff\xfe garbage", 12));
    QVERIFY(!window.openProject(QString::fromStdString((runs_.path() / "binary.json").string())));
    // A run directory with a corrupt config, and one with a corrupt checkpoint.
    const auto bad_config = runs_.path() / "bad-config-run";
    fan::test::write_file(bad_config / "config.json", "not json");
    QVERIFY(!window.openRun(QString::fromStdString(bad_config.string())));
    const auto bad_checkpoint = runs_.path() / "bad-checkpoint-run";
    std::filesystem::create_directories(bad_checkpoint);
    std::filesystem::copy_file(project().toStdString(), bad_checkpoint / "config.json",
                               std::filesystem::copy_options::overwrite_existing);
    fan::test::write_file(bad_checkpoint / "checkpoint.pt", "PK\x03\x04 truncated");
    fan::test::write_file(bad_checkpoint / "metrics.jsonl", "{\"type\": \"step\", \"stage\": 1, \"ste");
    // The curves load (the torn line is skipped); the networks fail to load with a log message.
    QVERIFY(window.openRun(QString::fromStdString(bad_checkpoint.string())));
    QThreadPool::globalInstance()->waitForDone();
    QTest::qWait(50);
    // Resuming it fails cleanly too.
    QSignalSpy failed(&window, &fan::app::MainWindow::runFailed);
    window.resumeRun(QString::fromStdString(bad_checkpoint.string()));
    QVERIFY(failed.wait(60000));
    QVERIFY(!window.isRunning());
  }
};

QTEST_MAIN(TestAbuse)
#include "tst_abuse.moc"
