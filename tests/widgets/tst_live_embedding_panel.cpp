// The embedding panel's live mode: legend, frames drawn as they come, replay, and no event-loop stall.
#include "core/test_util.h"

#include "core/io/embedding_frames.h"
#include "core/util/fs.h"
#include "workbench/embedding_panel.h"

#include <QElapsedTimer>
#include <QSlider>
#include <QtTest>
#include <qcustomplot.h>

#include <cmath>
#include <random>
#include <thread>

using namespace fan;

namespace {

constexpr int kPerDomain = 150;
constexpr int kFrames = 5;
// The longest the GUI thread may go without serving a timer while frames arrive.
constexpr qint64 kMaxStallMs = 100;

// Ten classes as clusters in a 10-D logit space; the target starts shifted and travels onto the
// source's clusters as `progress` goes from 0 to 1 (what adaptation looks like).
app::EmbeddingFrame make_frame(int64_t step, double progress) {
  auto f = std::make_shared<events::EmbeddingFrameEvent>();
  f->step = step;
  f->rows = 2 * kPerDomain;
  f->logit_cols = 10;
  f->hd_cols = 4;
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 0.3f);
  for (int domain = 0; domain < 2; ++domain)
    for (int i = 0; i < kPerDomain; ++i) {
      const int label = i % 10;
      for (int k = 0; k < 10; ++k)
        f->logits.push_back((k == label ? 4.0f : 0.0f) + noise(rng) + (domain == 1 ? static_cast<float>(3 * (1 - progress)) * (k == (label + 3) % 10) : 0));
      for (int k = 0; k < 4; ++k) f->hd.push_back(noise(rng) + (domain == 1 && k == 0 ? 3.0f : 0.0f));
      f->domain.push_back(domain);
      f->label.push_back(label);
      f->index.push_back(i);
    }
  return f;
}

std::vector<double> keys_of(QCustomPlot* plot) {
  std::vector<double> keys;
  for (int g = 0; g < plot->graphCount(); ++g)
    for (auto it = plot->graph(g)->data()->constBegin(); it != plot->graph(g)->data()->constEnd(); ++it)
      keys.push_back(it->key);
  return keys;
}

}  // namespace

class TestLiveEmbeddingPanel : public QObject {
  Q_OBJECT
 private slots:
  // Frames arrive every 150 ms (faster than a training run sends them) while a 10 ms timer
  // measures the event loop: every frame is laid out and drawn, and the loop never stalls.
  void liveFramesUpdateThePlotWithoutStalling() {
    app::EmbeddingPanel panel;
    panel.resize(900, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto* live = panel.liveView();
    panel.startLive("runs/x", "mnist", "usps");
    live->setTrainingUsesEveryCore(false);  // a core to spare: t-SNE frame by frame

    QElapsedTimer clock;
    qint64 last = 0, worst = 0;
    QTimer probe;
    probe.setInterval(10);
    connect(&probe, &QTimer::timeout, [&] {
      const qint64 now = clock.elapsed();
      worst = std::max(worst, now - last);
      last = now;
    });
    std::vector<std::vector<double>> drawn;
    connect(live, &app::LiveEmbeddingView::shown, [&] { drawn.push_back(keys_of(live->plot(0))); });
    int sent = 0;
    QTimer sender;
    sender.setInterval(150);
    connect(&sender, &QTimer::timeout, [&] {
      if (sent < kFrames) {
        panel.addLiveFrame(make_frame(50 * sent, sent / (kFrames - 1.0)));
        ++sent;
      }
    });
    clock.start();
    probe.start();
    sender.start();
    QTRY_COMPARE_WITH_TIMEOUT(live->laidOutCount(), kFrames, 60000);
    QTest::qWait(600);  // the last frame's animation
    probe.stop();
    qInfo("longest event-loop gap while %d frames arrived: %lld ms", kFrames, worst);
    QVERIFY2(worst <= kMaxStallMs, qPrintable(QString("the event loop stalled for %1 ms").arg(worst)));

    QCOMPARE(live->frameCount(), kFrames);
    QCOMPARE(live->shownFrame(), kFrames - 1);  // following the run: the newest frame is shown
    QCOMPARE(live->shownStep(), int64_t(50 * (kFrames - 1)));
    QCOMPARE(static_cast<int>(drawn.size()), kFrames);
    QCOMPARE(drawn.back().size(), size_t(2 * kPerDomain));
    QVERIFY(drawn.front() != drawn.back());  // the points moved

    // The legend names both domains; by class it names the classes.
    const auto names = live->legendNames(0);
    QVERIFY2(names.contains("source: mnist") && names.contains("target: usps"), qPrintable(names.join(", ")));
    QVERIFY(live->plot(0)->legend->visible());
    QVERIFY(live->legendNames(1).contains("target: usps"));  // hd too
    live->setByClass(true);
    QCOMPARE(live->legendNames(0).size(), 10);
    QVERIFY(live->legendNames(0).contains("class 3"));
  }

  // Training takes every core: while it trains, frames are laid out with PCA (no t-SNE to slow it
  // down); when the run ends they are laid out again with t-SNE, the newest still shown.
  void busyCoresLayOutWithPcaUntilTheRunEnds() {
    app::EmbeddingPanel panel;
    panel.resize(900, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    auto* live = panel.liveView();
    panel.startLive("runs/x", "mnist", "usps", /*training_threads=*/0);
    QVERIFY(live->trainingUsesEveryCore());
    using Method = analysis::LiveLayoutOptions::Method;
    for (int i = 0; i < kFrames; ++i) panel.addLiveFrame(make_frame(50 * i, i / (kFrames - 1.0)));
    QTRY_COMPARE_WITH_TIMEOUT(live->laidOutCount(), kFrames, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(live->shownFrame(), kFrames - 1, 10000);
    for (int i = 0; i < kFrames; ++i) QCOMPARE(live->laidOutWith(i), Method::kPca);
    const auto pca = keys_of(live->plot(0));
    panel.endLive();
    QTRY_VERIFY_WITH_TIMEOUT(live->laidOutCount() == kFrames && live->laidOutWith(kFrames - 1) == Method::kTsne, 60000);
    for (int i = 0; i < kFrames; ++i) QCOMPARE(live->laidOutWith(i), Method::kTsne);
    QTRY_COMPARE_WITH_TIMEOUT(live->shownFrame(), kFrames - 1, 10000);  // still following the newest
    QTest::qWait(600);  // the animation onto the t-SNE positions
    QVERIFY(keys_of(live->plot(0)) != pca);
    QCOMPARE(live->slider()->maximum(), kFrames - 1);
    live->slider()->setValue(2);
    QCOMPARE(live->shownStep(), int64_t(100));
    // With a core to spare, t-SNE from the start.
    panel.startLive("runs/y", "mnist", "usps", /*training_threads=*/1);
    QCOMPARE(live->trainingUsesEveryCore(), std::thread::hardware_concurrency() <= 1);
  }

  // A hidden view (another tab, a closed dock) lays frames out but does not draw them; shown, it draws the newest.
  void hiddenViewDrawsWhenShown() {
    app::LiveEmbeddingView view;
    view.resize(700, 400);
    view.setMethod(analysis::LiveLayoutOptions::Method::kPca);
    view.startLive("mnist", "usps");
    for (int i = 0; i < 3; ++i) view.addFrame(make_frame(50 * i, i / 2.0));
    QTRY_COMPARE_WITH_TIMEOUT(view.laidOutCount(), 3, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(view.shownFrame(), 2, 10000);
    QCOMPARE(view.plot(0)->graphCount(), 0);  // nothing drawn while hidden
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(view.plot(0)->graphCount() > 0);
    QCOMPARE(keys_of(view.plot(0)).size(), size_t(2 * kPerDomain));
  }

  // A reopened run replays its stored frames: slider over every frame, play steps through them.
  void reopenedRunReplaysWithSliderAndPlay() {
    test::ScratchDir run;
    util::atomic_write(run / "config.json", R"({"source": {"dataset": "mnist"}, "target": {"dataset": "usps"}})");
    for (int i = 0; i < kFrames; ++i) io::write_embedding_frame(run.path(), *make_frame(100 * i, i / (kFrames - 1.0)));
    app::LiveEmbeddingView view;
    view.resize(700, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setMethod(analysis::LiveLayoutOptions::Method::kPca);
    QCOMPARE(view.loadRun(QString::fromStdString(run.path().string())), kFrames);
    QTRY_COMPARE_WITH_TIMEOUT(view.laidOutCount(), kFrames, 30000);
    QCOMPARE(view.shownFrame(), 0);  // a replay starts at the beginning
    QCOMPARE(view.slider()->maximum(), kFrames - 1);
    QVERIFY(view.legendNames(0).contains("source: mnist"));
    view.slider()->setValue(2);
    QCOMPARE(view.shownStep(), int64_t(200));
    view.setPlaying(true);
    QTRY_COMPARE_WITH_TIMEOUT(view.shownFrame(), kFrames - 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!view.slider()->isSliderDown(), 1000);
    // A resumed run sends again the frames after its checkpoint: they replace the stored ones.
    view.addFrame(make_frame(300, 0.2));
    QCOMPARE(view.frameCount(), 4);
    QTRY_COMPARE_WITH_TIMEOUT(view.laidOutCount(), 4, 30000);
  }
};

QTEST_MAIN(TestLiveEmbeddingPanel)
#include "tst_live_embedding_panel.moc"
