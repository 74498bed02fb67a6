// The runs table: numeric sorting, filtering, grouping with mean ± std, the config diff, the curve bands,
// exports.
#include "core/test_util.h"

#include "core/io/config_schema.h"
#include "core/io/run_dir.h"
#include "core/sweep/sweep.h"
#include "workbench/run_compare.h"
#include "workbench/runs_panel.h"
#include "workbench/runs_table_model.h"

#include <qcustomplot.h>
#include <QFile>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>

#include <fstream>

using fan::app::RunColumn;
using nlohmann::json;

namespace {

// Hand-chosen results, so the groups' mean and std are known:
//   full: adapted 0.80, 0.90, 0.85 → mean 0.85, std 0.05; source only 0.6 each → std 0
//   adda: adapted 0.70, 0.74, 0.72 → mean 0.72, std 0.02; a fourth run only started (no results)
struct FixtureRun {
  const char* variant;
  int64_t seed;
  std::optional<double> adapted, source_only, snd;
  // Stage-2 target test accuracy at steps 10 and 20 (and 30 for one run: not every run has it).
  std::vector<std::pair<int64_t, double>> curve;
};
const FixtureRun kRuns[] = {
    {"full", 1, 0.80, 0.6, 0.79, {{10, 0.5}, {20, 0.80}}},
    {"full", 2, 0.90, 0.6, 0.88, {{10, 0.6}, {20, 0.90}}},
    {"full", 10, 0.85, 0.6, 0.86, {{10, 0.7}, {20, 0.85}, {30, 0.99}}},
    {"adda", 1, 0.70, 0.5, std::nullopt, {{10, 0.40}, {20, 0.70}}},
    {"adda", 2, 0.74, 0.55, std::nullopt, {{10, 0.44}, {20, 0.74}}},
    {"adda", 3, 0.72, 0.6, std::nullopt, {{10, 0.42}, {20, 0.72}}},
    {"adda", 4, std::nullopt, std::nullopt, std::nullopt, {}},
};

QString run_name(const FixtureRun& r) { return QString("%1-s%2").arg(r.variant).arg(r.seed); }

}  // namespace

class TestRunsTable : public QObject {
  Q_OBJECT
 private:
  fan::test::ScratchDir dir_{"fan-runs-table"};
  std::filesystem::path runs_dir_;

  // The model over the fixture runs in a fixed order (kRuns'), with these columns.
  std::unique_ptr<fan::app::RunsTableModel> makeModel(std::vector<RunColumn> columns) const {
    std::vector<fan::io::RunSummary> runs;
    for (const auto& r : kRuns)
      runs.push_back(fan::io::RunDirectory(runs_dir_ / run_name(r).toStdString()).summary());
    auto model = std::make_unique<fan::app::RunsTableModel>();
    model->setRuns(std::move(runs));
    model->setColumns(std::move(columns));
    return model;
  }
  static int rowOf(const QAbstractItemModel& model, const QString& name) {
    for (int r = 0; r < model.rowCount(); ++r)
      if (model.index(r, 0).data().toString() == name) return r;
    return -1;
  }
  static QString readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
  }

 private slots:
  void initTestCase() {
    const std::filesystem::path source_dir = qgetenv("FAN_TEST_SOURCE_DIR").toStdString();
    std::ifstream in(source_dir / "projects" / "mnist_to_usps.json");
    QVERIFY2(in, "FAN_TEST_SOURCE_DIR must name the source tree");
    const json project = json::parse(in);
    runs_dir_ = dir_.path() / "runs";
    for (const auto& r : kRuns) {
      json config = project;
      config["seed"] = r.seed;
      config["model"]["variant"] = r.variant;
      const fan::io::RunDirectory run(runs_dir_ / run_name(r).toStdString());
      run.create(fan::io::validate_config(config));
      if (!r.curve.empty()) {
        fan::io::MetricsWriter metrics(run.metrics_path());
        for (const auto& [step, top1] : r.curve) {
          fan::events::EvaluationEvent e;
          e.stage = 2;
          e.step = step;
          e.split = "target_test";
          e.network = "target";
          e.top1 = top1;
          metrics.on_evaluation(e);
        }
      }
      if (!r.adapted) continue;  // only started
      fan::io::Results results;
      results.variant = r.variant;
      results.seed = r.seed;
      results.adapted = fan::io::Accuracy{*r.adapted, 0.99, {}, {}};
      results.source_only = fan::io::Accuracy{*r.source_only, 0.95, {}, {}};
      if (r.snd) results.picks["snd"] = fan::io::PickResult{20, 0.1, *r.snd, 0.99};
      run.write_results(results);
    }
  }

  void sortsNumbersAsNumbers() {
    auto model = makeModel({RunColumn::name(), RunColumn::config("seed"), RunColumn::result("adapted")});
    fan::app::RunsFilterProxy proxy;
    proxy.setSourceModel(model.get());
    proxy.sort(1, Qt::AscendingOrder);
    // As text 10 would come between 1 and 2.
    QStringList seeds;
    for (int r = 0; r < proxy.rowCount(); ++r) seeds << proxy.index(r, 1).data().toString();
    QCOMPARE(seeds, QStringList({"1", "1", "2", "2", "3", "4", "10"}));
    proxy.sort(2, Qt::AscendingOrder);
    QStringList adapted;
    for (int r = 0; r < proxy.rowCount(); ++r) adapted << proxy.index(r, 2).data().toString();
    QCOMPARE(adapted, QStringList({"0.7000", "0.7200", "0.7400", "0.8000", "0.8500", "0.9000", "–"}));
    // Descending: the run without results stays last.
    proxy.sort(2, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, 2).data().toString(), QString("0.9000"));
    QCOMPARE(proxy.index(proxy.rowCount() - 1, 0).data().toString(), QString("adda-s4"));
  }

  void filtersOnNameAndShownCells() {
    auto model =
        makeModel({RunColumn::name(), RunColumn::config("model.variant"), RunColumn::result("adapted")});
    fan::app::RunsFilterProxy proxy;
    proxy.setSourceModel(model.get());
    proxy.setFilterText("ADDA");
    QCOMPARE(proxy.rowCount(), 4);
    proxy.setFilterText("0.9000");
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data().toString(), QString("full-s2"));
    proxy.setFilterText("-s1");  // full-s1, full-s10, adda-s1
    QCOMPARE(proxy.rowCount(), 3);
    proxy.setFilterText("no such run");
    QCOMPARE(proxy.rowCount(), 0);
    proxy.setFilterText("");
    QCOMPARE(proxy.rowCount(), 7);
  }

  void groupsShowMeanStdOfFinishedRuns() {
    auto model = makeModel({RunColumn::name(), RunColumn::config("seed"), RunColumn::status(),
                            RunColumn::result("adapted"), RunColumn::result("source_only"),
                            RunColumn::result("pick:snd")});
    model->setGrouped(true);
    QCOMPARE(model->rowCount(), 2);
    const int full = rowOf(*model, "model.variant=full"), adda = rowOf(*model, "model.variant=adda");
    QVERIFY2(full >= 0 && adda >= 0, qPrintable(model->index(0, 0).data().toString()));
    QCOMPARE(model->index(full, 1).data().toString(), QString("1, 2, 10"));
    QCOMPARE(model->index(adda, 2).data().toString(), QString("3 of 4 finished"));
    QCOMPARE(model->index(full, 3).data().toString(), QString("0.8500 ± 0.0500 (3)"));
    QCOMPARE(model->index(adda, 3).data().toString(), QString("0.7200 ± 0.0200 (3)"));
    QCOMPARE(model->index(full, 4).data().toString(), QString("0.6000 ± 0.0000 (3)"));
    // source only for adda: 0.5, 0.55, 0.6 → mean 0.55, std 0.05.
    QCOMPARE(model->index(adda, 4).data().toString(), QString("0.5500 ± 0.0500 (3)"));
    QCOMPARE(model->index(adda, 5).data().toString(), QString("–"));  // no adda run picked with snd
    // Sorting a grouped result column sorts by the mean.
    QCOMPARE(model->index(full, 3).data(fan::app::RunsTableModel::kSortRole).toDouble(), 0.85);
    fan::app::RunsFilterProxy proxy;
    proxy.setSourceModel(model.get());
    proxy.sort(3, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, 0).data().toString(), QString("model.variant=full"));
    // The group's members: every run directory, the started one included.
    QCOMPARE(model->index(adda, 0).data(fan::app::RunsTableModel::kMembersRole).toStringList().size(), 4);
  }

  void columnChooserOffersConfigFieldsAndResults() {
    auto model = makeModel({RunColumn::name()});
    const auto available = model->availableColumns();
    auto offers = [&](const RunColumn& c) {
      return std::find(available.begin(), available.end(), c) != available.end();
    };
    QVERIFY(offers(RunColumn::config("stage2.lr")));
    QVERIFY(offers(RunColumn::config("model.variant")));
    QVERIFY(offers(RunColumn::result("adapted_top5")));
    QVERIFY(offers(RunColumn::result("pick:snd")));
    model->setColumns({RunColumn::name(), RunColumn::config("stage2.lr"), RunColumn::result("adapted_top5")});
    QCOMPARE(model->headerData(2, Qt::Horizontal).toString(), QString("adapted top5"));
    QCOMPARE(model->index(0, 1).data().toString(), QString("0.0002"));
    QCOMPARE(model->index(0, 2).data().toString(), QString("0.9900"));
    QCOMPARE(RunColumn::fromId(RunColumn::config("stage2.lr").id()), RunColumn::config("stage2.lr"));
  }

  void diffShowsExactlyTheChangedFields() {
    const auto a = fan::io::RunDirectory(runs_dir_ / "full-s1").summary();
    const auto b = fan::io::RunDirectory(runs_dir_ / "adda-s2").summary();
    fan::app::RunDiffView view;
    view.setRuns(a, b);
    QCOMPARE(view.changedFields(), QStringList({"model.variant", "seed"}));
    // Rows: the config heading, the two fields, the results heading, the results either run has.
    auto* table = view.table();
    QCOMPARE(table->item(1, 0)->text(), QString("model.variant"));
    QCOMPARE(table->item(1, 1)->text(), QString("full"));
    QCOMPARE(table->item(1, 2)->text(), QString("adda"));
    QCOMPARE(table->item(2, 3)->text(), QString("1"));  // seed 2 − 1
    bool adapted = false;
    for (int r = 3; r < table->rowCount(); ++r)
      if (table->item(r, 0)->text() == "adapted") {
        adapted = true;
        QCOMPARE(table->item(r, 1)->text(), QString("0.8000"));
        QCOMPARE(table->item(r, 2)->text(), QString("0.7400"));
        QCOMPARE(table->item(r, 3)->text(), QString("-0.0600"));
      }
    QVERIFY(adapted);
    // The same seed and variant: nothing differs.
    view.setRuns(a, a);
    QVERIFY(view.changedFields().isEmpty());
  }

  void averageSeriesUsesTheStepsEveryRunHas() {
    fan::analysis::CurveSeries one, two;
    one.x = {10, 20, 30};
    one.y = {1, 2, 3};
    two.x = {10, 20};
    two.y = {3, 4};
    const auto band = fan::app::average_series({&one, &two});
    QCOMPARE(band.runs, 2);
    QCOMPARE(band.steps, std::vector<double>({10, 20}));
    QCOMPARE(band.mean, std::vector<double>({2, 3}));
    QCOMPARE(band.std[0], std::sqrt(2.0));
  }

  void overlayBandHasMeanAndStdAtAStep() {
    fan::app::RunsPanel panel;
    panel.setDirectory(QString::fromStdString(runs_dir_.string()));
    QCOMPARE(panel.runCount(), 7);
    panel.setGrouped(true);
    QCOMPARE(panel.runCount(), 2);
    int full = -1;
    for (int r = 0; r < panel.runCount(); ++r)
      if (panel.cell(r, 0) == "model.variant=full") full = r;
    QVERIFY(full >= 0);
    panel.selectRows({full});
    QVERIFY(panel.overlaySelected());
    auto* overlay = panel.compareDialog()->overlay();
    QCOMPARE(overlay->chosenSeries(), QStringList({"target test accuracy, target network"}));
    QCOMPARE(overlay->bands().size(), size_t(1));
    const auto& band = overlay->bands().front();
    QCOMPARE(band.runs, 3);
    QCOMPARE(band.steps, std::vector<double>({10, 20}));  // step 30: only one run has it
    QVERIFY(qFuzzyCompare(band.mean[1], 0.85));
    QVERIFY(qFuzzyCompare(band.std[1], 0.05));
    QVERIFY(qFuzzyCompare(band.mean[0], 0.6));
    QVERIFY(qFuzzyCompare(band.std[0], 0.1));
    // Drawn: the mean, and mean ± std filled between.
    auto* plot = overlay->plot();
    QCOMPARE(plot->graphCount(), 3);
    QCOMPARE(plot->graph(0)->data()->at(1)->value, band.mean[1]);
    QVERIFY(qFuzzyCompare(plot->graph(1)->data()->at(1)->value, 0.90));
    QVERIFY(qFuzzyCompare(plot->graph(2)->data()->at(1)->value, 0.80));
    QCOMPARE(plot->graph(1)->channelFillGraph(), plot->graph(2));
    QVERIFY(plot->graph(1)->brush().color().alpha() < 255);
    QCOMPARE(plot->legend->itemCount(), 1);  // the bands' edges are not listed

    // Both groups: one colour each, the legend naming the groups.
    panel.selectRows({0, 1});
    QVERIFY(panel.overlaySelected());
    QCOMPARE(overlay->bands().size(), size_t(2));
    QCOMPARE(plot->legend->itemCount(), 2);
    QStringList names;
    for (int i = 0; i < plot->legend->itemCount(); ++i)
      names << static_cast<QCPPlottableLegendItem*>(plot->legend->item(i))->plottable()->name();
    QVERIFY2(names.filter("model.variant=full").size() == 1 && names.filter("model.variant=adda").size() == 1,
             qPrintable(names.join(" | ")));
    const auto* first = static_cast<QCPPlottableLegendItem*>(plot->legend->item(0))->plottable();
    const auto* second = static_cast<QCPPlottableLegendItem*>(plot->legend->item(1))->plottable();
    QVERIFY(first->pen().color() != second->pen().color());

    // The overlay's exports.
    const QString base = QString::fromStdString((dir_.path() / "overlay").string());
    QVERIFY(overlay->exportCsv(base + ".csv"));
    const QStringList lines = readAll(base + ".csv").split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.front(), QString("set,series,step,mean,std,n"));
    QVERIFY2(lines.contains("model.variant=full,\"target test accuracy, target network\",20,0.85,0.05,3"),
             qPrintable(lines.join('\n')));
    for (const char* ext : {".png", ".pdf", ".svg"}) {
      const QString path = base + ext;
      const bool ok = QString(ext) == ".png"   ? overlay->exportPng(path)
                      : QString(ext) == ".pdf" ? overlay->exportPdf(path)
                                               : overlay->exportSvg(path);
      QVERIFY2(ok && QFileInfo(path).size() > 1000, ext);
    }
    QVERIFY(readAll(base + ".svg").contains("<svg"));
    QVERIFY(!overlay->exportCsv(QString::fromStdString((dir_.path() / "no-such-dir" / "x.csv").string())));
  }

  void panelDiffNeedsTwoRuns() {
    fan::app::RunsPanel panel;
    panel.setDirectory(QString::fromStdString(runs_dir_.string()));
    QVERIFY(panel.columns().contains("pick: snd"));
    panel.selectRows({0});
    QVERIFY(!panel.diffSelected());
    QVERIFY(panel.message().contains("two"));
    panel.setFilterText("-s2");
    QCOMPARE(panel.runCount(), 2);
    panel.selectRows({0, 1});
    QVERIFY(panel.diffSelected());
    QCOMPARE(panel.compareDialog()->diff()->changedFields(), QStringList({"model.variant"}));
  }

  void scatterPlotsAConfigFieldAgainstAResult() {
    fan::app::RunsPanel panel;
    panel.setDirectory(QString::fromStdString(runs_dir_.string()));
    QVERIFY(panel.scatterShown());
    auto* scatter = panel.compareDialog()->scatter();
    QVERIFY(scatter->configKeys().contains("stage2.lr"));
    QCOMPARE(scatter->configKeys().front(), QString("model.variant"));  // the fields that vary come first
    QVERIFY(scatter->choose("model.variant", "adapted"));
    QCOMPARE(scatter->points().size(), 6);       // the started run has no result
    QCOMPARE(scatter->plot()->graphCount(), 2);  // one per group
    // A text field: categories in order ("adda" = 0, "full" = 1).
    for (const auto& p : scatter->points()) QVERIFY(p.x() == (p.y() > 0.75 ? 1.0 : 0.0));
    QVERIFY(scatter->choose("seed", "adapted"));
    double max_x = 0;
    for (const auto& p : scatter->points()) max_x = std::max(max_x, p.x());
    QCOMPARE(max_x, 10.0);
    QVERIFY(!scatter->choose("no.such.key", "adapted"));
  }

  void exportsTheTableAsShown() {
    fan::app::RunsPanel panel;
    panel.setDirectory(QString::fromStdString(runs_dir_.string()));
    panel.setShownColumns({RunColumn::name(), RunColumn::result("adapted")});
    panel.setGrouped(true);
    panel.view()->sortByColumn(1, Qt::DescendingOrder);
    const QString md = QString::fromStdString((dir_.path() / "runs.md").string());
    const QString csv = QString::fromStdString((dir_.path() / "runs.csv").string());
    QVERIFY(panel.exportTable(md));
    QVERIFY(panel.exportTable(csv));
    QCOMPARE(readAll(md), QString::fromUtf8("| run | adapted |\n|---|---|\n"
                                            "| model.variant=full | 0.8500 ± 0.0500 (3) |\n"
                                            "| model.variant=adda | 0.7200 ± 0.0200 (3) |\n"));
    QCOMPARE(readAll(csv), QString::fromUtf8("run,adapted\n"
                                             "model.variant=full,0.8500 ± 0.0500 (3)\n"
                                             "model.variant=adda,0.7200 ± 0.0200 (3)\n"));
    // Ungrouped and filtered: only the rows shown.
    panel.setGrouped(false);
    panel.setFilterText("full-s2");
    QVERIFY(panel.exportTable(csv));
    QCOMPARE(readAll(csv), QString("run,adapted\nfull-s2,0.9000\n"));
    QVERIFY(!panel.exportTable(QString::fromStdString((dir_.path() / "no-such-dir" / "t.csv").string())));
    QVERIFY(panel.message().contains("Could not write"));
  }

  void unreadableRunIsShownNotFatal() {
    const auto bad = runs_dir_ / "zz-broken";
    fan::test::write_file(bad / "config.json", "{ not json");
    fan::app::RunsPanel panel;
    panel.setDirectory(QString::fromStdString(runs_dir_.string()));
    QCOMPARE(panel.runCount(), 8);
    panel.setGrouped(true);
    QCOMPARE(panel.runCount(), 2);  // a run without a config belongs to no group
    panel.selectRows({0, 1});
    QVERIFY(panel.overlaySelected());
    std::filesystem::remove_all(bad);
  }
};

QTEST_MAIN(TestRunsTable)
#include "tst_runs_table.moc"
