// The workbench window: opening projects, and a tiny run whose events reach both plots.
#include "core/synthetic.h"
#include "core/test_util.h"

#include "widgets/loss_plot.h"
#include "workbench/main_window.h"

#include <QApplication>
#include <QMessageBox>
#include <QSignalSpy>
#include <QtTest>

class TestWorkbench : public QObject {
  Q_OBJECT
 private:
  fan::test::ScratchDir data_{"fan-wb-data"};
  fan::test::ScratchDir runs_{"fan-wb-runs"};
  std::filesystem::path source_dir_;

 private slots:
  void initTestCase() {
    source_dir_ = qgetenv("FAN_TEST_SOURCE_DIR").toStdString();
    fan::test::write_synthetic_domains(data_.path(), 160, 60);
    QDir::setCurrent(QString::fromStdString(runs_.path().string()));  // runs/ lands here
  }

  void opensEveryShippedProject() {
    fan::app::MainWindow window;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir_ / "projects")) {
      QVERIFY2(window.openProject(QString::fromStdString(entry.path().string())), entry.path().c_str());
      QVERIFY(!window.projectJson().isEmpty());
    }
  }

  void tinyRunReachesBothPlots() {
    nlohmann::json config = {{"name", "tiny"},
                             {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
                             {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
                             {"data", {{"root", data_.path().string()}, {"framing", "stretch"}}},
                             {"stage1", {{"epochs", 2}, {"batch_size", 32}}},
                             {"stage2", {{"iterations", 12}, {"batch_size", 32}}},
                             {"eval", {{"every", 6}, {"batch_size", 60}}},
                             {"run", {{"log_every", 2}, {"preview_every", 5}}},
                             {"threads", 1}};
    const auto path = runs_.path() / "tiny.json";
    fan::test::write_file(path, config.dump(2));
    fan::app::MainWindow window;
    QVERIFY(window.openProject(QString::fromStdString(path.string())));
    QSignalSpy finished(&window, &fan::app::MainWindow::runFinished);
    window.runExperiment();
    QVERIFY(finished.wait(120000));
    const auto results = nlohmann::json::parse(finished.first().first().toString().toStdString());
    QCOMPARE(results["status"].get<std::string>(), std::string("finished"));
    QTRY_VERIFY(window.stagePlot(1)->pointCount("Lc") > 0);
    QVERIFY(window.stagePlot(2)->pointCount("L_advD") > 0);
    QVERIFY(window.stagePlot(2)->pointCount("target test accuracy") > 0);
  }

  void invalidProjectIsRefused() {
    const auto path = runs_.path() / "bad.json";
    fan::test::write_file(path, R"({"stage1": {"epochs": "many"}})");
    fan::app::MainWindow window;
    // The message box would block: the offscreen test checks the return value and log.
    QTimer::singleShot(200, [] {
      for (auto* w : QApplication::topLevelWidgets())
        if (auto* box = qobject_cast<QMessageBox*>(w)) box->accept();
    });
    QVERIFY(!window.openProject(QString::fromStdString(path.string())));
  }
};

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
