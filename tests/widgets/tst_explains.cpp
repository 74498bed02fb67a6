// A workbench that explains itself: hover never moves the layout, fields per encoder and loader,
// the results card and the datasets' bar chart show the files' numbers, shortcuts, tooltips.
#include "core/test_util.h"

#include "core/analysis/curves.h"
#include "core/data/idx.h"
#include "core/io/config.h"
#include "core/io/run_dir.h"
#include "core/util/fs.h"
#include "widgets/bar_chart.h"
#include "widgets/heat_map.h"
#include "widgets/loss_plot.h"
#include "workbench/datasets_panel.h"
#include "workbench/experiment_form.h"
#include "workbench/main_window.h"
#include "workbench/paper_experiments.h"
#include "workbench/results_card.h"

#include <qcustomplot.h>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QPlainTextEdit>
#include <QSettings>
#include <QWheelEvent>
#include <QtTest>

using nlohmann::json;

namespace {

// Records of a short run: every loss term each logged step, evaluations now and then.
std::vector<fan::io::MetricRecord> sample_records() {
  std::vector<fan::io::MetricRecord> records;
  for (int stage : {1, 2}) {
    fan::events::StageEvent s;
    s.stage = stage;
    s.name = stage == 1 ? "source" : "adaptation";
    s.total_steps = 200;
    records.push_back(s);
    for (int step = 10; step <= 200; step += 10) {
      fan::events::StepEvent e;
      e.stage = stage;
      e.step = step;
      e.total_steps = 200;
      if (stage == 1)
        e.losses = {{"Lc", 2.0 / step}, {"Lm", 0.01}, {"Lr", 0.5 - step / 1000.0}, {"total", 3.0 / step}};
      else
        e.losses = {
            {"L_advD", 1.3}, {"L_advM", 0.8}, {"Lr", 0.1}, {"total", 2.2}, {"D_acc", 0.5 + step / 1000.0}};
      records.push_back(e);
      if (step % 50 == 0) {
        for (const char* split : {"target_test", "source_test"}) {
          fan::events::EvaluationEvent v;
          v.stage = stage;
          v.step = step;
          v.split = split;
          v.network = stage == 1 ? "source" : "target";
          v.images = 100;
          v.top1 = 0.5 + step / 1000.0;
          v.top5 = 0.9;
          records.push_back(v);
        }
      }
    }
  }
  return records;
}

QMap<QString, QRect> dock_geometries(const QMainWindow& window) {
  QMap<QString, QRect> out;
  for (auto* dock : window.findChildren<QDockWidget*>())
    if (dock->isVisible()) out.insert(dock->objectName(), dock->geometry());
  out.insert("window", window.geometry());
  out.insert("central", window.centralWidget()->geometry());
  return out;
}

// Class counts of the tiny domains below: the source is balanced, the target has a label shift
// (28 % zeros), as USPS's 17 % against MNIST's 10 %.
const QVector<qint64> kSourceTrain = {4, 4, 4, 4, 4, 4, 4, 4, 4, 4};
const QVector<qint64> kTargetTrain = {14, 4, 4, 4, 4, 4, 4, 4, 4, 4};
const QVector<qint64> kTest = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::vector<int> labels_of(const QVector<qint64>& counts) {
  std::vector<int> labels;
  for (int c = 0; c < counts.size(); ++c)
    for (qint64 i = 0; i < counts[c]; ++i) labels.push_back(c);
  return labels;
}

// MNIST (IDX, gzip) and USPS (ESL text, gzip) files with exactly these labels: a square per class.
void write_domains(const std::filesystem::path& root) {
  for (const auto& [split, counts] : {std::pair{"train", kSourceTrain}, std::pair{"t10k", kTest}}) {
    const auto labels = labels_of(counts);
    std::string images = be32(0x803) + be32(labels.size()) + be32(28) + be32(28),
                label_bytes = be32(0x801) + be32(labels.size());
    for (int label : labels) {
      std::string pixels(28 * 28, '\0');
      for (int y = 4; y < 10; ++y)
        for (int x = 2 * label; x < 2 * label + 6; ++x) pixels[y * 28 + x] = static_cast<char>(240);
      images += pixels;
      label_bytes += static_cast<char>(label);
    }
    fan::util::atomic_write_gzip(root / "mnist" / (std::string(split) + "-images-idx3-ubyte.gz"), images);
    fan::util::atomic_write_gzip(root / "mnist" / (std::string(split) + "-labels-idx1-ubyte.gz"),
                                 label_bytes);
  }
  for (const auto& [split, counts] : {std::pair{"train", kTargetTrain}, std::pair{"test", kTest}}) {
    std::string text;
    for (int label : labels_of(counts)) {
      text += std::to_string(label);
      for (int k = 0; k < 256; ++k) text += k % 16 == label ? " 1" : " -1";
      text += "\n";
    }
    fan::util::atomic_write_gzip(root / "usps" / ("zip." + std::string(split) + ".gz"), text);
  }
}

QVector<double> shares(const QVector<qint64>& counts) {
  qint64 total = 0;
  for (auto c : counts) total += c;
  QVector<double> out;
  for (auto c : counts) out << static_cast<double>(c) / total;
  return out;
}

// A finished run's results with numbers that cannot come out by accident.
fan::io::Results sample_results() {
  fan::io::Results r;
  r.name = "card";
  r.variant = "full";
  r.encoder = "lenet";
  r.seed = 7;
  r.source = {{"dataset", "mnist"}};
  r.target = {{"dataset", "usps"}};
  fan::io::Accuracy before, adabn, after;
  before.top1 = 0.46736422521175885;
  before.top5 = 0.8664673642252118;
  adabn.top1 = 0.6756352765321375;
  adabn.top5 = 0.9496761335326358;
  after.top1 = 0.81234;
  after.top5 = 0.97531;
  for (int c = 0; c < 10; ++c) {
    before.per_class.push_back(0.05 + 0.09 * c);
    after.per_class.push_back(0.9 - 0.03 * c);
    std::vector<int64_t> row(10, 0);
    for (int p = 0; p < 10; ++p) row[p] = p == c ? 50 + c : (c + p) % 4;
    after.confusion.push_back(row);
    before.confusion.push_back(row);
  }
  r.source_only = before;
  r.source_only_adabn = adabn;
  r.adapted = after;
  r.target_prior_estimate = {0.14, 0.16, 0.1, 0.1, 0.1, 0.06, 0.12, 0.13, 0.05, 0.04};
  return r;
}

void hover(QWidget* target, const QPoint& at) {
  QMouseEvent move(QEvent::MouseMove, at, target->mapToGlobal(at), Qt::NoButton, Qt::NoButton,
                   Qt::NoModifier);
  QCoreApplication::sendEvent(target, &move);
}

}  // namespace

class TestExplains : public QObject {
  Q_OBJECT
 private:
  fan::test::ScratchDir scratch_{"fan-explains"};

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName("fan-workbench-tests");
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope,
                       QString::fromStdString((scratch_ / "settings").string()));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QDir::setCurrent(QString::fromStdString(scratch_.path().string()));
  }

  void hoveringThePlotsLeavesEveryDockInPlace() {
    fan::app::MainWindow window;
    window.setInteractive(false);
    window.resize(1680, 1000);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const auto curves = fan::analysis::curves_from_metrics(sample_records());
    for (int stage : {1, 2}) {
      window.stagePlot(stage)->setCurves(curves.stage(stage));
      window.stagePlot(stage)->replotNow();
    }
    QTest::qWait(100);
    const auto before = dock_geometries(window);
    for (int stage : {1, 2}) {
      auto* plot = window.stagePlot(stage)->plot();
      QVERIFY(plot->graphCount() >= 4);
      const QRect area = plot->axisRect()->rect();
      for (int i = 0; i <= 10; ++i) {
        hover(plot, QPoint(area.left() + area.width() * i / 10, area.center().y()));
        QCoreApplication::processEvents();
      }
      QVERIFY2(!window.stagePlot(stage)->readout(100).isEmpty(), "a readout for the hovered step");
    }
    QTest::qWait(100);
    const auto after = dock_geometries(window);
    for (auto it = before.cbegin(); it != before.cend(); ++it)
      QVERIFY2(after.value(it.key()) == it.value(),
               qPrintable(QString("%1 moved: (%2,%3 %4×%5) → (%6,%7 %8×%9)")
                              .arg(it.key())
                              .arg(it.value().x())
                              .arg(it.value().y())
                              .arg(it.value().width())
                              .arg(it.value().height())
                              .arg(after.value(it.key()).x())
                              .arg(after.value(it.key()).y())
                              .arg(after.value(it.key()).width())
                              .arg(after.value(it.key()).height())));
  }

  void hoverReadoutHasAFixedPlace() {
    fan::widgets::LossPlot plot("stage 1");
    plot.resize(500, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.setCurves(fan::analysis::curves_from_metrics(sample_records()).stage(1));
    plot.replotNow();
    auto* label = plot.findChild<QLabel*>("hover_readout");
    QVERIFY(label != nullptr);
    const QSize before = plot.size(), label_size = label->size();
    const QRect area = plot.plot()->axisRect()->rect();
    hover(plot.plot(), area.center());
    // The whole read-out is kept (tooltip) while the line shows what fits.
    QVERIFY(plot.shownReadout().startsWith("step "));
    QVERIFY(plot.shownReadout().contains("target test accuracy"));
    QCOMPARE(label->toolTip(), plot.shownReadout());
    QVERIFY(label->text().count('\n') <= 1);  // two lines at most, each within the width
    for (const auto& line : label->text().split('\n'))
      QVERIFY(label->fontMetrics().horizontalAdvance(line) <= label->width());
    QCOMPARE(plot.size(), before);
    QCOMPARE(label->size(), label_size);
  }

  void legendsNeverCutNames() {
    for (int width : {360, 700, 1400}) {
      fan::widgets::LossPlot plot("stage 2");
      plot.resize(width, 420);
      plot.show();
      QVERIFY(QTest::qWaitForWindowExposed(&plot));
      plot.setCurves(fan::analysis::curves_from_metrics(sample_records()).stage(2));
      plot.replotNow();
      plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
      auto* legend = plot.plot()->legend;
      int entries = 0;
      for (int i = 0; i < legend->elementCount(); ++i) {
        auto* item = legend->elementAt(i);  // the grid's cells; empty ones are null
        if (item == nullptr) continue;
        ++entries;
        QVERIFY2(item->outerRect().width() >= item->minimumOuterSizeHint().width(),
                 qPrintable(QString("width %1: a legend entry is cut").arg(width)));
        QVERIFY2(plot.plot()->viewport().contains(item->outerRect()),
                 qPrintable(QString("width %1: a legend entry is outside the plot").arg(width)));
      }
      QVERIFY(entries >= 6);
    }
  }

  void discriminatorAccuracyHasAStyleOfItsOwn() {
    fan::widgets::LossPlot plot("stage 2");
    plot.setCurves(fan::analysis::curves_from_metrics(sample_records()).stage(2));
    plot.replotNow();
    QCPGraph *d = nullptr, *test = nullptr;
    for (int i = 0; i < plot.plot()->graphCount(); ++i) {
      auto* g = plot.plot()->graph(i);
      if (g->name() == fan::analysis::kDiscriminatorAccuracy) d = g;
      if (g->name() == "target test accuracy") test = g;
    }
    QVERIFY(d != nullptr && test != nullptr);
    QVERIFY(d->pen().style() != test->pen().style());
    QVERIFY(d->pen().style() != Qt::SolidLine);  // not a loss either
    QVERIFY(d->pen().color() != test->pen().color());
    QVERIFY(d->scatterStyle().isNone());
    // The level D is driven to, named on the plot.
    bool chance = false;
    for (int i = 0; i < plot.plot()->itemCount(); ++i)
      if (auto* text = qobject_cast<QCPItemText*>(plot.plot()->item(i)))
        chance = chance || text->text().contains("chance");
    QVERIFY(chance);
  }

  void fieldsFollowTheEncoderAndLoader_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("setting");  // "key=value" that makes the field apply
    QTest::addColumn<QString>("default_setting");
    QTest::newRow("shared_stages") << "model.shared_stages"
                                   << "model.encoder=resnet18"
                                   << "model.encoder=lenet";
    QTest::newRow("decoder_size") << "model.decoder_size"
                                  << "model.encoder=resnet18"
                                  << "model.encoder=lenet";
    QTest::newRow("pretrained") << "model.pretrained"
                                << "model.encoder=resnet50"
                                << "model.encoder=lenet";
    QTest::newRow("workers") << "data.workers"
                             << "data.loader=stream"
                             << "data.loader=memory";
    QTest::newRow("flip") << "data.flip"
                          << "data.loader=stream"
                          << "data.loader=memory";
    QTest::newRow("source.folder") << "source.folder"
                                   << "source.dataset=folder"
                                   << "source.dataset=mnist";
    QTest::newRow("target.samples") << "target.samples"
                                    << "target.protocol=sampled"
                                    << "target.protocol=full";
  }
  void fieldsFollowTheEncoderAndLoader() {
    QFETCH(QString, key);
    QFETCH(QString, setting);
    QFETCH(QString, default_setting);
    fan::app::ExperimentForm form;
    const auto set = [&](const QString& assignment) {
      form.setValue(assignment.section('=', 0, 0), assignment.section('=', 1).toStdString());
    };
    set(default_setting);
    QVERIFY2(!form.isFieldShown(key), qPrintable(key + " shown for " + default_setting));
    QVERIFY(form.inapplicableReason(key).startsWith("only with " + setting.section('=', 0, 0)));
    const QString group = QString::fromStdString(fan::io::find_field(key.toStdString())->group);
    QVERIFY2(form.hiddenNote(group).contains(key), qPrintable(form.hiddenNote(group)));
    QVERIFY(form.hiddenNote(group).contains(setting.section('=', 0, 0)));
    set(setting);
    QVERIFY2(form.isFieldShown(key), qPrintable(key + " hidden for " + setting));
    QVERIFY(form.inapplicableReason(key).isEmpty());
    QVERIFY2(!form.hiddenNote(group).contains(key), qPrintable(form.hiddenNote(group)));
  }

  void aFieldSetOnPurposeStaysInSight() {
    fan::app::ExperimentForm form;
    form.setValue("model.encoder", "resnet18");
    form.setValue("model.shared_stages", 2);
    form.setValue("model.encoder", "lenet");
    // No effect now, but visible (and marked) so that the value can be seen and changed back.
    QVERIFY(form.isFieldShown("model.shared_stages"));
    auto* unused = form.findChild<QLabel*>("unused:model.shared_stages");
    QVERIFY(unused != nullptr && !unused->isHidden());
    QVERIFY(unused->text().contains("no effect"));
    QCOMPARE(form.value("model.shared_stages").get<int>(), 2);  // the config keeps it
  }

  void scrollingTheFormLeavesFieldsAlone() {
    fan::app::ExperimentForm form;
    form.resize(500, 400);
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    auto* framing = qobject_cast<QComboBox*>(form.control("data.framing"));
    QVERIFY(framing != nullptr && !framing->hasFocus());
    const QString before = framing->currentText();
    const QPoint at = framing->rect().center();
    QWheelEvent wheel(at, framing->mapToGlobal(at), QPoint(), QPoint(0, -120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(framing, &wheel);
    QCOMPARE(framing->currentText(), before);
  }

  void formGroupsFollowThePaper() {
    fan::app::ExperimentForm form;
    QStringList groups;
    for (auto* box : form.findChildren<QGroupBox*>())
      if (box->objectName().startsWith("group:")) groups << box->objectName().mid(6);
    QCOMPARE(groups, QStringList({"data", "networks", "losses", "stage 1", "stage 2", "evaluation", "run"}));
    for (const auto& field : fan::io::config_schema())
      QVERIFY2(groups.contains(QString::fromStdString(field.group)), field.key.c_str());
  }

  void tooltipsSayWhatRangeAndPaper_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("paper");
    QTest::newRow("alpha") << "loss.alpha"
                           << "2 (digits); 5 (large images)";
    QTest::newRow("mu") << "loss.mu"
                        << "Paper: 2";
    QTest::newRow("samples") << "source.samples"
                             << "2,000 MNIST";
    QTest::newRow("discriminator") << "model.discriminator_hidden"
                                   << "500 (digits); 1024 (tagging)";
    QTest::newRow("latent") << "model.latent_dim"
                            << "100 (LeNet)";
    QTest::newRow("lr (silent)") << "stage1.lr"
                                 << "not given (the default is ours)";
  }
  void tooltipsSayWhatRangeAndPaper() {
    QFETCH(QString, key);
    QFETCH(QString, paper);
    fan::app::ExperimentForm form;
    const QString tip = form.control(key)->toolTip();
    QVERIFY2(tip.contains(paper.toHtmlEscaped()), qPrintable(tip));
    QVERIFY(
        tip.contains(QString::fromStdString(fan::io::find_field(key.toStdString())->help).toHtmlEscaped()));
    QVERIFY(tip.contains("Range: "));
  }

  void everyFieldHasADescription() {
    for (const auto& field : fan::io::config_schema()) {
      const QString text = fan::app::ExperimentForm::describe(QString::fromStdString(field.key));
      QVERIFY2(text.contains("Paper: ") && text.contains("Default: "), field.key.c_str());
      if (field.has_range) QVERIFY2(text.contains("Range: "), field.key.c_str());
      if (!field.applies.empty()) QVERIFY2(text.contains("Takes effect only with"), field.key.c_str());
    }
  }

  void resultsCardShowsTheResultsFile() {
    const auto dir = scratch_ / "card-run";
    const fan::io::RunDirectory run(dir);
    run.create(fan::io::validate_config({{"name", "card"}}, "test"));
    fan::io::MetricsWriter(run.metrics_path()).on_stage(fan::events::StageEvent{});
    run.write_results(sample_results());
    const auto expected = run.read_results();  // what results.json holds, as read back

    fan::app::MainWindow window;
    window.setInteractive(false);
    QVERIFY(window.openRun(QString::fromStdString(dir.string())));
    auto* card = window.resultsCard();
    QVERIFY(card->hasResults());
    QCOMPARE(card->cell("source_only", "top1"), QString("0.4674"));
    QCOMPARE(card->cell("source_only", "top5"), QString("0.8665"));
    QCOMPARE(card->cell("source_only_adabn", "top1"), QString("0.6756"));
    QCOMPARE(card->cell("source_only_adabn", "top5"), QString("0.9497"));
    QCOMPARE(card->cell("adapted", "top1"), QString("0.8123"));
    QCOMPARE(card->cell("adapted", "top5"), QString("0.9753"));
    QVERIFY(card->heading().contains("mnist → usps"));
    // Per class: exactly the file's numbers, before (source only) and after (adapted).
    const auto* bars = card->perClass();
    QCOMPARE(bars->barNames(), QStringList({"source only", "adapted"}));
    QCOMPARE(bars->categories().size(), 10);
    QCOMPARE(bars->values("source only"),
             QVector<double>(expected.source_only->per_class.begin(), expected.source_only->per_class.end()));
    QCOMPARE(bars->values("adapted"),
             QVector<double>(expected.adapted->per_class.begin(), expected.adapted->per_class.end()));
    QCOMPARE(bars->readout(3), QString("3: source only 32.0 %, adapted 81.0 %"));
    // The adapted network's confusion matrix, and what hovering a cell says.
    auto* map = card->confusion();
    QCOMPARE(map->matrix().counts, expected.adapted->confusion);
    int64_t row_total = 0;
    for (auto v : expected.adapted->confusion[2]) row_total += v;
    QCOMPARE(expected.adapted->confusion[2][5], int64_t{3});
    QCOMPARE(map->cellText(2, 5),
             QString("true 2, predicted 5: 3 images (%1 % of true 2)").arg(100.0 * 3 / row_total, 0, 'f', 1));
    window.resize(1680, 1000);
    window.show();
    window.findChild<QDockWidget*>("Results card")->raise();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTRY_VERIFY(map->isVisible() && map->plot()->height() > 100);
    map->plot()->replot(QCustomPlot::rpImmediateRefresh);
    const QPoint cell(static_cast<int>(map->plot()->xAxis->coordToPixel(5)),
                      static_cast<int>(map->plot()->yAxis->coordToPixel(9 - 2)));
    hover(map->plot(), cell);
    QCOMPARE(map->shownReadout(), map->cellText(2, 5));
    // The datasets panel draws the run's AdaBN estimate of the target's class mix.
    auto* chart = window.datasets()->classChart();
    QCOMPARE(chart->outlineNames().size(), 1);
    QCOMPARE(chart->values(chart->outlineNames().first()),
             QVector<double>(expected.target_prior_estimate.begin(), expected.target_prior_estimate.end()));
    // The log: one readable line, never the raw JSON.
    const QString log = window.findChild<QPlainTextEdit*>("log")->toPlainText();
    QVERIFY2(!log.contains("{\"") && !log.contains("\"adapted\""), qPrintable(log));
  }

  void barChartProportionsEqualTheClassCounts() {
    const auto root = scratch_ / "data";
    write_domains(root);
    fan::app::ExperimentForm form;
    form.setConfig({{"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
                    {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
                    {"data", {{"root", root.string()}, {"framing", "stretch"}}}});
    fan::app::DatasetsPanel panel(&form);
    QSignalSpy loaded(&panel, &fan::app::DatasetsPanel::loaded);
    panel.reload();
    QVERIFY(loaded.wait(20000));
    auto* chart = panel.classChart();
    QCOMPARE(chart->barNames(), QStringList({"source: mnist train", "target: usps train"}));
    QCOMPARE(chart->values("source: mnist train"), shares(kSourceTrain));
    QCOMPARE(chart->values("target: usps train"), shares(kTargetTrain));
    QCOMPARE(chart->readout(0), QString("0: source: mnist train 10.0 %, target: usps train 28.0 %"));
    panel.setChartSplit("test");
    QCOMPARE(chart->values("target: usps test"), shares(kTest));
    // An estimate drawn over the bars, and taken away again.
    panel.setChartSplit("train");
    panel.setPriorEstimate({0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05}, "run1");
    QCOMPARE(chart->outlineNames().size(), 1);
    QCOMPARE(chart->barNames().size(), 2);
    panel.setPriorEstimate({});
    QVERIFY(chart->outlineNames().isEmpty());
  }

  void shortcutsTriggerTheActions_data() {
    QTest::addColumn<QString>("action");
    QTest::addColumn<int>("key");
    QTest::newRow("run") << "action:run" << int(Qt::Key_R);
    QTest::newRow("pause") << "action:pause" << int(Qt::Key_P);
    QTest::newRow("stop") << "action:stop" << int(Qt::Key_Period);
  }
  void shortcutsTriggerTheActions() {
    QFETCH(QString, action);
    QFETCH(int, key);
    fan::app::MainWindow window;
    window.setInteractive(false);
    window.show();
    window.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    // A form that cannot run: Run only says why (no training starts in this test).
    qobject_cast<QLineEdit*>(window.form()->control("stage1.lr"))->setText("abc");
    auto* a = window.findChild<QAction*>(action);
    QVERIFY(a != nullptr);
    a->setEnabled(true);  // pause and stop are enabled while a run goes
    QSignalSpy triggered(a, &QAction::triggered);
    QTest::keyClick(&window, static_cast<Qt::Key>(key), Qt::ControlModifier);
    QCOMPARE(triggered.count(), 1);
    const QString log = window.findChild<QPlainTextEdit*>("log")->toPlainText();
    if (action == "action:run") QVERIFY(log.contains("cannot run: stage1.lr"));
    if (action == "action:pause") QVERIFY(log.contains("paused"));
    if (action == "action:stop") QVERIFY(log.contains("stopping at the next step"));
    QVERIFY(!window.isRunning());
  }

  void windowLayoutIsRemembered() {
    QByteArray state;
    QSize size;
    {
      fan::app::MainWindow window;
      window.setInteractive(false);
      window.resize(1234, 876);
      window.show();
      QVERIFY(QTest::qWaitForWindowExposed(&window));
      window.findChild<QDockWidget*>("Selection")->hide();
      window.findChild<QDockWidget*>("Datasets")->raise();
      QVERIFY(window.close());
      state = window.saveState();
      size = window.size();
    }
    QSettings settings;
    QVERIFY(settings.contains("MainWindow/geometry"));
    QCOMPARE(settings.value("MainWindow/state").toByteArray(), state);
    fan::app::MainWindow again;
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QCOMPARE(again.size(), size);
    QVERIFY(again.findChild<QDockWidget*>("Selection")->isHidden());
    QVERIFY(again.findChild<QDockWidget*>("Reconstructions")->isVisible());
  }

  void newFromPaperExperimentListsTheProjects() {
    const QString dir = qEnvironmentVariable("FAN_TEST_SOURCE_DIR") + "/projects";
    fan::app::PaperExperimentDialog dialog(dir);
    QCOMPARE(dialog.count(), static_cast<int>(QDir(dir).entryList({"*.json"}, QDir::Files).size()));
    int row = -1;
    for (int i = 0; i < dialog.count(); ++i)
      if (dialog.name(i) == "mnist_to_usps") row = i;
    QVERIFY(row >= 0);
    const auto listed = fan::app::list_paper_experiments(dir);
    QVERIFY(listed[row].description.startsWith("MNIST (2000) → USPS (1800)"));
    dialog.select(row);
    QVERIFY(dialog.selectedPath().endsWith("projects/mnist_to_usps.json"));
    fan::app::MainWindow window;
    window.setInteractive(false);
    QVERIFY(window.newFromProject(dialog.selectedPath()));
    QCOMPARE(window.form()->value("name").get<std::string>(), std::string("mnist_to_usps"));
    QCOMPARE(window.form()->value("stage2.source_prior").get<std::string>(), std::string("target_estimate"));
    QVERIFY(window.windowTitle().contains("unsaved"));
  }
};

QTEST_MAIN(TestExplains)
#include "tst_explains.moc"
