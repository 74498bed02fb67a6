// The sweep dialog and queue: axes × seeds expanded and checked in the dialog, a tiny real queue in the window
// (order, skipping finished runs, a failing run, stop and resume, reopening a sweep).
#include "core/synthetic.h"
#include "core/test_util.h"

#include "core/io/config_schema.h"
#include "core/io/run_dir.h"
#include "core/sweep/sweep.h"
#include "widgets/loss_plot.h"
#include "workbench/experiment_form.h"
#include "workbench/main_window.h"
#include "workbench/sweep_dialog.h"
#include "workbench/sweep_panel.h"
#include "workbench/sweep_queue.h"

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest>

using nlohmann::json;
using fan::app::SweepQueue;
using State = fan::app::SweepQueue::State;

namespace {
// A run of the tiny domains takes a few seconds; a whole queue well under a minute.
constexpr int kQueueTimeoutMs = 240000;

QString q(const std::filesystem::path& p) { return QString::fromStdString(p.string()); }
}  // namespace

class TestSweepQueue : public QObject {
  Q_OBJECT
 private:
  fan::test::ScratchDir data_{"fan-sweep-data"};
  fan::test::ScratchDir work_{"fan-sweep-work"};
  int sweeps_ = 0;

  // The form's project: tiny synthetic MNIST → USPS, a couple of steps per stage.
  json tinyBase(int stage2_iterations) const {
    auto base = json{{"name", "tiny"},
                     {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
                     {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
                     {"data", {{"root", data_.path().string()}, {"framing", "stretch"}}},
                     {"stage1", {{"epochs", 1}, {"batch_size", 32}}},
                     {"stage2", {{"iterations", stage2_iterations}, {"batch_size", 32}}},
                     {"eval", {{"every", 1000}, {"batch_size", 60}, {"validator_images", 40}, {"images", 40}}},
                     {"run", {{"log_every", 1}, {"preview_every", 1000}, {"checkpoint_every", 2}}},
                     {"threads", 1}};
    return fan::io::validate_config(base, "tiny");
  }
  std::filesystem::path newSweepDir() { return work_.path() / ("sweep" + std::to_string(++sweeps_)); }

  // A window whose form holds `base`.
  static void fillForm(fan::app::MainWindow& window, const json& base) {
    window.setInteractive(false);
    window.form()->setConfig(base);
    QVERIFY(window.form()->firstProblem().isEmpty());
  }

  // Plans `axes` × `seeds` in the dialog (the way a user fills it) and starts it in the window.
  static void planAndStart(fan::app::MainWindow& window, const std::vector<std::pair<QString, QString>>& axes,
                           const QString& seeds, const std::filesystem::path& out) {
    fan::app::SweepDialog dialog(window.form()->config());
    for (const auto& [key, values] : axes) dialog.addAxis(key, values);
    dialog.setSeeds(seeds);
    dialog.setOutputDirectory(q(out));
    QVERIFY2(dialog.problem().isEmpty(), qPrintable(dialog.problem()));
    QVERIFY(dialog.writePlan());
    QVERIFY(window.startSweep(dialog.outputDirectory(), dialog.plannedRuns()));
  }

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("fan-workbench-tests");
    fan::test::write_synthetic_domains(data_.path(), 64, 40);
    QDir::setCurrent(q(work_.path()));
  }

  void dialogExpandsAxesTimesSeeds() {
    fan::app::SweepDialog dialog(tinyBase(4));
    // Set through the widgets, as a user does.
    auto* add = dialog.findChild<QPushButton*>("add_axis");
    QVERIFY(add != nullptr);
    add->click();
    add->click();
    QCOMPARE(dialog.axisCount(), 2);
    auto* key0 = dialog.findChild<QComboBox*>("axis_key_0");
    auto* key1 = dialog.findChild<QComboBox*>("axis_key_1");
    QVERIFY(key0 != nullptr && key1 != nullptr);
    key0->setCurrentIndex(key0->findData("model.variant"));
    dialog.findChild<QLineEdit*>("axis_values_0")->setText("full, adda");
    key1->setCurrentIndex(key1->findData("stage2.lr"));
    dialog.findChild<QLineEdit*>("axis_values_1")->setText(" 0.0002 ,0.0001");
    dialog.findChild<QLineEdit*>("seeds")->setText("0, 1");
    const auto out = newSweepDir();
    dialog.findChild<QLineEdit*>("sweep_out")->setText(q(out));
    QVERIFY2(dialog.problem().isEmpty(), qPrintable(dialog.problem()));
    // First axis slowest, seeds fastest.
    const QStringList expected = {"variant=full-lr=0.0002-seed0", "variant=full-lr=0.0002-seed1",
                                  "variant=full-lr=0.0001-seed0", "variant=full-lr=0.0001-seed1",
                                  "variant=adda-lr=0.0002-seed0", "variant=adda-lr=0.0002-seed1",
                                  "variant=adda-lr=0.0001-seed0", "variant=adda-lr=0.0001-seed1"};
    QCOMPARE(dialog.previewNames(), expected);
    auto* preview = dialog.findChild<QListWidget*>("sweep_preview");
    QCOMPARE(preview->count(), 8);
    QCOMPARE(preview->item(5)->text(), expected[5]);
    QVERIFY(dialog.findChild<QLabel*>("sweep_summary")->text().contains("8 runs"));
    QVERIFY(dialog.findChild<QPushButton*>("start_sweep")->isEnabled());
    // Each run's config: the base with its axis values and seed.
    const auto& runs = dialog.plannedRuns();
    QCOMPARE(runs[5].config["model"]["variant"].get<std::string>(), std::string("adda"));
    QCOMPARE(runs[5].config["stage2"]["lr"].get<double>(), 0.0002);
    QCOMPARE(runs[5].config["seed"].get<int64_t>(), int64_t(1));
    QCOMPARE(runs[5].config["stage2"]["iterations"].get<int64_t>(), int64_t(4));

    // The plan is written before anything runs, and reads back as the same runs; no temporary file stays.
    QVERIFY(!std::filesystem::exists(out));
    QVERIFY(dialog.writePlan());
    const auto plan = fan::sweep::plan_from_json(fan::io::read_json_file(fan::sweep::plan_path(out)), "plan");
    QCOMPARE(int(plan.size()), 8);
    for (size_t i = 0; i < plan.size(); ++i) {
      QCOMPARE(QString::fromStdString(plan[i].name), expected[int(i)]);
      QCOMPARE(plan[i].config, runs[i].config);
    }
    for (const auto& entry : std::filesystem::directory_iterator(out))
      QVERIFY2(entry.path().extension() != ".tmp", entry.path().c_str());

    // The same sweep again continues it; another one into the same directory is refused.
    fan::app::SweepDialog again(tinyBase(4));
    again.addAxis("model.variant", "full, adda");
    again.addAxis("stage2.lr", "0.0002, 0.0001");
    again.setSeeds("0-1");
    again.setOutputDirectory(q(out));
    QVERIFY2(again.problem().isEmpty(), qPrintable(again.problem()));
    QVERIFY(again.continuesExistingSweep());
    again.setAxis(1, "stage2.lr", "0.0003");
    QVERIFY2(again.problem().contains("holds another sweep"), qPrintable(again.problem()));
    QVERIFY(!again.findChild<QPushButton*>("start_sweep")->isEnabled());
    QVERIFY(!again.writePlan());
  }

  void dialogNamesTheAxisOfABadValue() {
    fan::app::SweepDialog dialog(tinyBase(4));
    dialog.addAxis("model.variant", "full, fulll");
    dialog.addAxis("stage2.lr", "0.0002, abc");
    dialog.addAxis("stage2.lr", "0.1");
    dialog.addAxis("stage2.iterations", "5, 5");
    dialog.addAxis("stage1.epochs", "-1");
    dialog.addAxis();
    QVERIFY2(dialog.axisProblem(0).contains("model.variant") && dialog.axisProblem(0).contains("fulll") &&
                 dialog.axisProblem(0).contains("expected one of"),
             qPrintable(dialog.axisProblem(0)));
    QVERIFY2(dialog.axisProblem(1).contains("stage2.lr") && dialog.axisProblem(1).contains("'abc'") &&
                 dialog.axisProblem(1).contains("expected a number"),
             qPrintable(dialog.axisProblem(1)));
    QVERIFY2(dialog.axisProblem(2).contains("already axis 2"), qPrintable(dialog.axisProblem(2)));
    QVERIFY2(dialog.axisProblem(3).contains("stage2.iterations") && dialog.axisProblem(3).contains("twice"),
             qPrintable(dialog.axisProblem(3)));
    QVERIFY2(dialog.axisProblem(4).contains("stage1.epochs") && dialog.axisProblem(4).contains("expected a value in"),
             qPrintable(dialog.axisProblem(4)));
    QVERIFY2(dialog.axisProblem(5).contains("choose a field"), qPrintable(dialog.axisProblem(5)));
    // The message sits beside its axis, visibly.
    const auto labels = dialog.findChildren<QLabel*>();
    bool shown = false;
    for (auto* label : labels) shown |= label->text() == dialog.axisProblem(1) && !label->isHidden();
    QVERIFY(shown);
    QVERIFY(!dialog.problem().isEmpty());
    QVERIFY(dialog.previewNames().isEmpty());
    QVERIFY(!dialog.findChild<QPushButton*>("start_sweep")->isEnabled());
    QVERIFY(!dialog.writePlan());
    // Fixed one by one, the sweep expands.
    for (int i = dialog.axisCount() - 1; i >= 2; --i) dialog.removeAxis(i);
    dialog.setAxis(0, "model.variant", "full, adda");
    dialog.setAxis(1, "stage2.lr", "0.0002");
    dialog.setSeeds("0, x");
    QVERIFY2(dialog.seedsProblem().contains("'x'"), qPrintable(dialog.seedsProblem()));
    QVERIFY(dialog.problem().startsWith("seeds"));
    dialog.setSeeds("");  // the project's own seed
    QVERIFY2(dialog.problem().isEmpty(), qPrintable(dialog.problem()));
    QCOMPARE(dialog.previewNames(), QStringList({"variant=full-lr=0.0002", "variant=adda-lr=0.0002"}));
    // Typed values keep their types: a bool axis and an int axis.
    QCOMPARE(fan::app::parse_axis_values("data.flip", "true, no"), (std::vector<json>{true, false}));
    QCOMPARE(fan::app::parse_axis_values("stage2.iterations", "3, 10"), (std::vector<json>{3, 10}));
    QCOMPARE(fan::app::parse_seeds("0-2, 7"), (std::vector<int64_t>{0, 1, 2, 7}));
  }

  // Runs in order; a run that fails (its data root does not exist) is marked failed and the next ones run;
  // started again, the finished runs are skipped (their files untouched) and only the failed ones retried.
  void queueRunsInOrderSurvivesAFailureAndSkipsFinishedRuns() {
    fan::app::MainWindow window;
    fillForm(window, tinyBase(3));
    const auto out = newSweepDir();
    const QString missing = q(work_.path() / "no-such-data");
    auto* queue = window.sweepQueue();
    QSignalSpy done(queue, &SweepQueue::finished);
    QSignalSpy started(&window, &fan::app::MainWindow::startRequested);
    // Each new run starts with empty live curves.
    QList<int> points_at_start;
    connect(&window, &fan::app::MainWindow::startRequested, this, [&] {
      points_at_start << window.stagePlot(1)->pointCount("Lc") + window.stagePlot(2)->pointCount("L_advD");
    }, Qt::DirectConnection);
    planAndStart(window, {{"data.root", missing + ", " + q(data_.path())}, {"stage2.lr", "0.0002, 0.0001"}}, "0",
                 out);
    if (QTest::currentTestFailed()) return;
    QVERIFY(queue->isActive());
    QVERIFY(done.wait(kQueueTimeoutMs));
    QCOMPARE(queue->count(), 4);
    QCOMPARE(queue->launchOrder(), (std::vector<int>{0, 1, 2, 3}));
    QCOMPARE(started.count(), 4);
    QCOMPARE(points_at_start, QList<int>({0, 0, 0, 0}));
    for (int i : {0, 1}) {
      QCOMPARE(queue->state(i), State::kFailed);
      QVERIFY2(queue->detail(i).contains("no-such-data"), qPrintable(queue->detail(i)));
      QVERIFY(!queue->top1(i));
    }
    std::vector<std::filesystem::file_time_type> written;
    for (int i : {2, 3}) {
      QCOMPARE(queue->state(i), State::kFinished);
      QVERIFY(queue->top1(i).has_value());
      const fan::io::RunDirectory run(queue->runDirectory(i).toStdString());
      const auto summary = run.summary();
      QCOMPARE(summary.status, fan::io::RunSummary::Status::kFinished);
      QCOMPARE(summary.results->adapted->top1, *queue->top1(i));
      QCOMPARE(queue->runDirectory(i), q(out / queue->name(i).toStdString()));
      written.push_back(std::filesystem::last_write_time(run.results_path()));
    }
    QCOMPARE(queue->doneCount(), 4);
    QCOMPARE(queue->progress(), 1.0);
    QVERIFY(!window.isRunning());
    QVERIFY2(window.sweepPanel()->findChild<QLabel*>("sweep_summary")->text().contains("4 of 4 done"),
             qPrintable(window.sweepPanel()->findChild<QLabel*>("sweep_summary")->text()));
    QCOMPARE(queue->data(queue->index(0, SweepQueue::kStateColumn), Qt::DisplayRole).toString(), QString("failed"));
    QCOMPARE(queue->data(queue->index(2, SweepQueue::kStateColumn), Qt::DisplayRole).toString(), QString("finished"));

    // Started again: the finished runs are skipped, the failed ones tried again (and fail again) — the
    // first now through a resume, from a corrupt checkpoint.
    fan::test::write_file(out / queue->name(0).toStdString() / "checkpoint.pt", "not a checkpoint");
    QSignalSpy resumed(&window, &fan::app::MainWindow::resumeRequested);
    done.clear();
    QVERIFY(window.resumeSweep());
    QVERIFY(done.wait(kQueueTimeoutMs));
    QCOMPARE(queue->launchOrder(), (std::vector<int>{0, 1}));
    QCOMPARE(resumed.count(), 1);
    QCOMPARE(queue->state(0), State::kFailed);
    QVERIFY2(queue->detail(0).contains("checkpoint.pt"), qPrintable(queue->detail(0)));
    QCOMPARE(queue->state(1), State::kFailed);
    QVERIFY2(queue->detail(1).contains("no-such-data"), qPrintable(queue->detail(1)));
    for (int i : {2, 3}) {
      QCOMPARE(queue->state(i), State::kSkipped);
      QVERIFY(queue->top1(i).has_value());
      const fan::io::RunDirectory run(queue->runDirectory(i).toStdString());
      QCOMPARE(std::filesystem::last_write_time(run.results_path()), written[size_t(i - 2)]);
    }
    QCOMPARE(started.count(), 5);
  }

  // Stop during the first run: it keeps its checkpoint and the queue stops; reopened from sweep.json in
  // another window, Resume sweep resumes that run and runs the rest.
  void stopThenResumeFinishesEveryRun() {
    const auto out = newSweepDir();
    QString first_dir;
    {
      fan::app::MainWindow window;
      fillForm(window, tinyBase(200));
      auto* queue = window.sweepQueue();
      QSignalSpy stopped(queue, &SweepQueue::stopped);
      planAndStart(window, {{"stage2.lr", "0.0002, 0.0001"}}, "0", out);
      if (QTest::currentTestFailed()) return;
      QCOMPARE(queue->count(), 2);
      QTRY_VERIFY_WITH_TIMEOUT(window.stagePlot(2)->pointCount("L_advD") > 4, kQueueTimeoutMs);
      QCOMPARE(queue->current(), 0);
      QCOMPARE(queue->state(0), State::kRunning);
      QVERIFY2(queue->detail(0).startsWith("stage 2 · step"), qPrintable(queue->detail(0)));
      QVERIFY(queue->progress() > 0.25 && queue->progress() < 0.5);
      auto* stop = window.sweepPanel()->stopButton();
      QVERIFY(stop->isEnabled());
      QVERIFY(!window.sweepPanel()->resumeButton()->isEnabled());
      stop->click();
      QVERIFY(stopped.wait(60000));
      QVERIFY(!queue->isActive());
      QVERIFY(!window.isRunning());
      QCOMPARE(queue->state(0), State::kStopped);
      QCOMPARE(queue->state(1), State::kQueued);
      QCOMPARE(queue->launchOrder(), std::vector<int>{0});
      first_dir = queue->runDirectory(0);
      QCOMPARE(fan::io::RunDirectory(first_dir.toStdString()).summary().status,
               fan::io::RunSummary::Status::kResumable);
      QVERIFY(!std::filesystem::exists(out / queue->name(1).toStdString()));
      QVERIFY(window.sweepPanel()->resumeButton()->isEnabled());
      // The window settles (the stopped run's networks load in the background) before it closes.
      QTest::qWait(200);
    }
    fan::app::MainWindow window;
    fillForm(window, tinyBase(200));
    auto* queue = window.sweepQueue();
    QVERIFY(!window.openSweep(q(work_.path() / "not-a-sweep")));
    QVERIFY(window.openSweep(q(out)));
    QCOMPARE(queue->count(), 2);
    QCOMPARE(queue->state(0), State::kQueued);
    QVERIFY2(queue->detail(0).startsWith("resumes from stage 2"), qPrintable(queue->detail(0)));
    QSignalSpy done(queue, &SweepQueue::finished);
    QSignalSpy resumed(&window, &fan::app::MainWindow::resumeRequested);
    QSignalSpy fresh(&window, &fan::app::MainWindow::startRequested);
    window.sweepPanel()->resumeButton()->click();
    QVERIFY(done.wait(kQueueTimeoutMs));
    QCOMPARE(resumed.count(), 1);
    QCOMPARE(resumed.first().first().toString(), first_dir);
    QCOMPARE(fresh.count(), 1);
    for (int i : {0, 1}) {
      QCOMPARE(queue->state(i), State::kFinished);
      QCOMPARE(fan::io::RunDirectory(queue->runDirectory(i).toStdString()).summary().status,
               fan::io::RunSummary::Status::kFinished);
    }
    // Started once more, everything is done: nothing to run.
    QVERIFY(!window.resumeSweep());
    QCOMPARE(queue->countIn(State::kSkipped), 2);
  }
};

QTEST_MAIN(TestSweepQueue)
#include "tst_sweep_queue.moc"
