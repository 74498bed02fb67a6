// The workbench: form ↔ JSON, invalid input, a tiny run reaching both plots, stop/resume, run panels.
#include "core/synthetic.h"
#include "core/test_util.h"

#include "core/io/config.h"
#include "core/io/run_dir.h"
#include "widgets/loss_plot.h"
#include "widgets/preview_panel.h"
#include "workbench/embedding_panel.h"
#include "workbench/experiment_form.h"
#include "workbench/inspector_panel.h"
#include "workbench/main_window.h"
#include "workbench/results_card.h"
#include "workbench/runs_panel.h"
#include "workbench/selection_panel.h"

#include <QApplication>
#include <qcustomplot.h>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QtTest>

using nlohmann::json;

class TestWorkbench : public QObject {
  Q_OBJECT
 private:
  fan::test::ScratchDir data_{"fan-wb-data"};
  fan::test::ScratchDir runs_{"fan-wb-runs"};
  std::filesystem::path source_dir_;

  json tinyConfig(int stage2_iterations) const {
    return {{"name", "tiny"},
            {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
            {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
            {"data", {{"root", data_.path().string()}, {"framing", "stretch"}}},
            {"stage1", {{"epochs", 2}, {"batch_size", 32}}},
            {"stage2", {{"iterations", stage2_iterations}, {"batch_size", 32}}},
            {"eval", {{"every", 6}, {"batch_size", 60}}},
            {"run", {{"log_every", 1}, {"preview_every", 5}, {"checkpoint_every", 4}}},
            {"threads", 1}};
  }
  QString writeProject(const json& config, const std::string& name) {
    const auto path = runs_.path() / name;
    fan::test::write_file(path, config.dump(2));
    return QString::fromStdString(path.string());
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("fan-workbench-tests");
    source_dir_ = qgetenv("FAN_TEST_SOURCE_DIR").toStdString();
    fan::test::write_synthetic_domains(data_.path(), 160, 60);
    QDir::setCurrent(QString::fromStdString(runs_.path().string()));  // runs/ lands here
  }

  void formRoundTripsEveryShippedProject() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir_ / "projects")) {
      QVERIFY2(window.openProject(QString::fromStdString(entry.path().string())), entry.path().c_str());
      const auto resolved = fan::io::ExperimentConfig::load(entry.path()).resolved;
      QCOMPARE(QString::fromStdString(window.form()->config().dump()), QString::fromStdString(resolved.dump()));
      QVERIFY(window.form()->firstProblem().isEmpty());
      // Saved and read back: the same config.
      const auto saved = runs_.path() / "saved.json";
      QVERIFY(window.saveProject(QString::fromStdString(saved.string())));
      QCOMPARE(fan::io::ExperimentConfig::load(saved).resolved, resolved);
      ++count;
    }
    QVERIFY(count >= 8);
  }

  void invalidInputIsMarked() {
    fan::app::ExperimentForm form;
    auto* lr = qobject_cast<QLineEdit*>(form.control("stage1.lr"));
    QVERIFY(lr != nullptr);
    lr->setText("-3");
    QVERIFY(form.problem("stage1.lr").contains("expected a value in"));
    QVERIFY(form.firstProblem().startsWith("stage1.lr"));
    lr->setText("abc");
    QVERIFY(form.problem("stage1.lr").contains("expected a number"));
    lr->setText("0.001");
    QVERIFY(form.problem("stage1.lr").isEmpty());
    // A rule across fields: the full variant needs equal halves.
    form.setValue("model.domain_specific_dim", 30);
    QVERIFY(form.firstProblem().contains("domain_specific_dim"));
  }

  void everyTextFieldMarksBadValues() {
    // Combo boxes and check boxes cannot hold a bad value; every typed field can.
    fan::app::ExperimentForm form;
    for (const auto& field : fan::io::config_schema()) {
      auto* edit = qobject_cast<QLineEdit*>(form.control(QString::fromStdString(field.key)));
      if (edit == nullptr || field.type == fan::io::FieldType::kString) continue;
      const QString before = edit->text();
      edit->setText("not-a-number");
      const QString key = QString::fromStdString(field.key);
      QVERIFY2(!form.problem(key).isEmpty(), field.key.c_str());
      QVERIFY2(form.firstProblem().startsWith(key), qPrintable(form.firstProblem()));
      edit->setText(before);
      QVERIFY2(form.problem(key).isEmpty(), field.key.c_str());
    }
    QVERIFY(form.firstProblem().isEmpty());
  }

  void invalidProjectIsRefused() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    QVERIFY(!window.openProject(writeProject({{"stage1", {{"epochs", "many"}}}}, "bad.json")));
    QVERIFY(!window.openProject(QString::fromStdString((runs_.path() / "missing.json").string())));
    fan::test::write_file(runs_.path() / "corrupt.json", "{ not json");
    QVERIFY(!window.openProject(QString::fromStdString((runs_.path() / "corrupt.json").string())));
  }

  // What the plots showed live is what a reopened run shows: series, styles and values.
  void livePlotsEqualReopenedPlots() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    QVERIFY(window.openProject(writeProject(tinyConfig(12), "live.json")));
    // Taken as the run ends, before the window reopens the run from its directory.
    struct Shown {
      QStringList names;
      QList<QPen> pens;
      QList<int> shapes;
      QList<QVector<QPointF>> points;
    };
    auto shown = [](fan::widgets::LossPlot* plot) {
      plot->replotNow();
      Shown s;
      for (int i = 0; i < plot->plot()->graphCount(); ++i) {
        auto* graph = plot->plot()->graph(i);
        s.names << graph->name();
        s.pens << graph->pen();
        s.shapes << static_cast<int>(graph->scatterStyle().shape());
        QVector<QPointF> points;
        for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
          points.append(QPointF(it->key, it->value));
        s.points << points;
      }
      return s;
    };
    Shown live[3];
    connect(&window, &fan::app::MainWindow::runFinished, this, [&] {
      for (int stage : {1, 2}) live[stage - 1] = shown(window.stagePlot(stage));
      live[2] = shown(window.selection()->plot());
    }, Qt::DirectConnection);
    QSignalSpy finished(&window, &fan::app::MainWindow::runFinished);
    window.runExperiment();
    QVERIFY(finished.wait(120000));
    fan::app::MainWindow viewer;
    viewer.setInteractive(false);
    QVERIFY(viewer.openRun(window.currentRunDir()));
    for (int stage : {1, 2, 3}) {  // 3: the selection view
      const auto reopened = shown(stage < 3 ? viewer.stagePlot(stage) : viewer.selection()->plot());
      const auto& before = live[stage - 1];
      QCOMPARE(reopened.names, before.names);
      QCOMPARE(reopened.pens, before.pens);
      QCOMPARE(reopened.shapes, before.shapes);
      QCOMPARE(reopened.points, before.points);
    }
    // The selection view: every validator with a dot at its pick; the picks table with the oracle and the last iterate.
    for (const char* name : {"entropy", "im", "bnm", "snd", "class_ami", "snd pick"})
      QVERIFY2(live[2].names.contains(name), qPrintable(live[2].names.join(", ")));
    QCOMPARE(viewer.selection()->pickCount(), 7);  // 5 validators, oracle, last
    // The runs table has a column per validator's pick, with the picked network's test accuracy.
    window.runs()->refresh();
    const int snd_column = window.runs()->columns().indexOf("pick: snd");
    QVERIFY2(snd_column > 0, qPrintable(window.runs()->columns().join(", ")));
    bool found = false;
    for (int row = 0; row < window.runs()->runCount(); ++row)
      if (window.runs()->runPath(row) == window.currentRunDir()) found = window.runs()->cell(row, snd_column) != "–";
    QVERIFY(found);
    // Inspecting a validator's pick: the networks reload with that target network.
    auto* chooser = viewer.selection()->networkChooser();
    const int snd = chooser->findText("snd");
    QVERIFY(snd > 0);
    emit chooser->activated(snd);
    auto* log = viewer.findChild<QPlainTextEdit*>("log");
    QTRY_VERIFY_WITH_TIMEOUT(log->toPlainText().contains("target network: snd"), 30000);
    // The discriminator's accuracy stays after reopening (it used to vanish), on the accuracy axis in a
    // dash-dot style of its own (neither a loss's solid line nor a test accuracy's dashes).
    QVERIFY(live[1].names.contains("discriminator accuracy"));
    const int d = live[1].names.indexOf("discriminator accuracy");
    const int t = live[1].names.indexOf("target test accuracy");
    QVERIFY(t >= 0);
    QCOMPARE(live[1].pens[d].style(), Qt::CustomDashLine);
    QCOMPARE(live[1].pens[t].style(), Qt::DashLine);
    QVERIFY(live[1].pens[d].color() != live[1].pens[t].color());
  }

  void tinyRunFillsEveryPanel() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    QVERIFY(window.openProject(writeProject(tinyConfig(12), "tiny.json")));
    QSignalSpy finished(&window, &fan::app::MainWindow::runFinished);
    window.runExperiment();
    QVERIFY(window.isRunning());
    QVERIFY(!window.form()->control("stage1.lr")->isEnabled());  // locked during the run
    QVERIFY(finished.wait(120000));
    QVERIFY(window.form()->control("stage1.lr")->isEnabled());
    const auto results = fan::io::to_json(finished.first().first().value<fan::io::Results>());
    QCOMPARE(results["status"].get<std::string>(), std::string("finished"));
    QVERIFY(window.stagePlot(1)->pointCount("Lc") > 0);
    QVERIFY(window.stagePlot(2)->pointCount("L_advD") > 0);
    QVERIFY(window.stagePlot(2)->pointCount("target test accuracy") > 0);
    QVERIFY(window.previews()->snapshotCount() > 0);
    QCOMPARE(window.previews()->gridImage(0).height(), 2 * 56);
    // The results: on the results card, and one readable line in the log (never the raw results.json).
    const auto typed = finished.first().first().value<fan::io::Results>();
    QVERIFY(window.resultsCard()->hasResults());
    QCOMPARE(window.resultsCard()->cell("adapted", "top1"), fan::app::accuracy_text(typed.adapted->top1));
    const QString log_text = window.findChild<QPlainTextEdit*>("log")->toPlainText();
    QCOMPARE(log_text.count("target test top-1: source only"), 1);
    QVERIFY2(!log_text.contains("{\"") && !log_text.contains("\"per_class\""), qPrintable(log_text));
    // Exports of a plot.
    for (const char* ext : {"png", "svg", "pdf", "csv"}) {
      const auto path = runs_.path() / (std::string("plot.") + ext);
      const QString p = QString::fromStdString(path.string());
      const bool ok = std::string(ext) == "png" ? window.stagePlot(2)->exportPng(p)
                      : std::string(ext) == "svg" ? window.stagePlot(2)->exportSvg(p)
                      : std::string(ext) == "pdf" ? window.stagePlot(2)->exportPdf(p)
                                                  : window.stagePlot(2)->exportCsv(p);
      QVERIFY2(ok && std::filesystem::file_size(path) > 100, ext);
    }
    // The finished run's networks reach the inspector: a swap image of the input's size.
    QSignalSpy inspected(window.inspector(), &fan::app::InspectorPanel::done);
    QVERIFY(inspected.wait(60000));
    QCOMPARE(window.inspector()->swappedImage().size(), QSize(28, 28));
    QCOMPARE(window.inspector()->interpolatedImage().size(), QSize(28, 28));
    // And the embedding (PCA here: fast) gives four views of 2×n points.
    window.embedding()->setMethod("PCA");
    window.embedding()->setPointsPerDomain(20);
    QSignalSpy embedded(window.embedding(), &fan::app::EmbeddingPanel::computed);
    window.embedding()->compute();
    QVERIFY(embedded.wait(60000));
    QCOMPARE(window.embedding()->views().size(), 4);
    QCOMPARE(window.embedding()->views()[0].size(), int64_t(40));
    const auto& distance = window.embedding()->proxyADistance();
    for (const char* space : {"logits", "task_specific", "domain_specific"})
      for (const char* when : {"before", "after"}) {
        const double a = distance.at(space).at(when).at("distance").get<double>();
        QVERIFY(a >= 0 && a <= 2);
      }
    QVERIFY(window.embedding()->exportCsv(QString::fromStdString((runs_.path() / "emb.csv").string())));
  }

  void stopMidRunLeavesAResumableRun() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    QVERIFY(window.openProject(writeProject(tinyConfig(400), "long.json")));
    QSignalSpy finished(&window, &fan::app::MainWindow::runFinished);
    window.runExperiment();
    QTRY_VERIFY_WITH_TIMEOUT(window.stagePlot(2)->pointCount("L_advD") > 3, 120000);
    window.stopExperiment();
    QVERIFY(finished.wait(60000));
    const auto results = fan::io::to_json(finished.first().first().value<fan::io::Results>());
    QCOMPARE(results["status"].get<std::string>(), std::string("stopped"));
    const QString dir = window.currentRunDir();
    QCOMPARE(fan::io::RunDirectory(dir.toStdString()).summary().status, fan::io::RunSummary::Status::kResumable);
    // Opening the stopped run fills the plots from its files.
    fan::app::MainWindow viewer;
    viewer.setInteractive(false);
    QVERIFY(viewer.openRun(dir));
    QVERIFY(viewer.stagePlot(1)->pointCount("Lc") > 0);
    QVERIFY(viewer.stagePlot(2)->pointCount("L_advD") > 0);
    viewer.runs()->refresh();
    QVERIFY(viewer.runs()->runCount() >= 1);
  }
};

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
