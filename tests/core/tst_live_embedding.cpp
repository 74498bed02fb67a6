// The live embedding: frames at each preview point of stage 2, stored and replayed (resume too),
// warm-started t-SNE, and the animated GIF and strip of `fan figures`.
#include "core/synthetic.h"
#include "core/test_util.h"

#include "core/analysis/live_embedding.h"
#include "core/analysis/tsne.h"
#include "core/io/config.h"
#include "core/io/embedding_frames.h"
#include "core/train/experiment.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <QtTest>

#include <cmath>

using namespace fan;
using nlohmann::json;

namespace {

// Test images per domain in each frame (the synthetic test sets have 100).
constexpr int64_t kLiveImages = 30;

json live_config(const std::filesystem::path& root) {
  auto c = test::tiny_project(root);
  c["eval"]["live_embedding_images"] = kLiveImages;
  c["eval"]["validator_images"] = 0;
  return c;
}

class FrameCollector : public train::EventSink {
 public:
  void on_embedding_frame(const train::EmbeddingFrameEvent& e) override { frames.push_back(e); }
  std::vector<train::EmbeddingFrameEvent> frames;
};

using test::StopAt;

std::vector<int64_t> steps_of(const std::vector<train::EmbeddingFrameEvent>& frames) {
  std::vector<int64_t> steps;
  for (const auto& f : frames) steps.push_back(f.step);
  return steps;
}

bool same_frame(const train::EmbeddingFrameEvent& a, const train::EmbeddingFrameEvent& b, float tolerance) {
  if (a.stage != b.stage || a.step != b.step || a.rows != b.rows || a.logit_cols != b.logit_cols ||
      a.hd_cols != b.hd_cols || a.domain != b.domain || a.label != b.label || a.index != b.index)
    return false;
  auto close = [tolerance](const std::vector<float>& x, const std::vector<float>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i)
      if (std::abs(x[i] - y[i]) > tolerance) return false;
    return true;
  };
  return close(a.logits, b.logits) && close(a.hd, b.hd);
}

// The GIF's blocks walked as the format defines them: how many images it holds, and whether it loops.
struct GifShape {
  bool valid = false;
  int width = 0, height = 0, images = 0;
  bool loops = false;
};
GifShape parse_gif(const std::string& g) {
  GifShape shape;
  if (g.size() < 13 || (g.compare(0, 6, "GIF89a") != 0 && g.compare(0, 6, "GIF87a") != 0)) return shape;
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(g.at(i)); };
  shape.width = u8(6) | (u8(7) << 8);
  shape.height = u8(8) | (u8(9) << 8);
  size_t at = 13;
  if (u8(10) & 0x80) at += 3u * (1u << ((u8(10) & 7) + 1));
  auto skip_sub_blocks = [&] {
    while (u8(at) != 0) at += u8(at) + 1u;
    ++at;
  };
  try {
    while (true) {
      const uint8_t block = u8(at++);
      if (block == 0x3B) break;  // trailer
      if (block == 0x21) {       // extension: label, sub-blocks
        const uint8_t label = u8(at++);
        if (label == 0xFF && u8(at) == 11 && g.compare(at + 1, 11, "NETSCAPE2.0") == 0) shape.loops = true;
        skip_sub_blocks();
      } else if (block == 0x2C) {  // image descriptor, local colour table, LZW data
        const uint8_t flags = u8(at + 8);
        at += 9;
        if (flags & 0x80) at += 3u * (1u << ((flags & 7) + 1));
        ++at;  // LZW minimum code size
        skip_sub_blocks();
        ++shape.images;
      } else {
        return shape;
      }
    }
  } catch (const std::out_of_range&) {
    return shape;
  }
  shape.valid = true;
  return shape;
}

}  // namespace

class TestLiveEmbedding : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { test::write_synthetic_domains(data_.path(), 320, 100); }

  // Stage 2 of 24 steps with previews every 10: frames at its start and at 10, 20 and the last step.
  void framesAtEachPreviewPointAreStored() {
    test::ScratchDir runs;
    FrameCollector live;
    const auto results =
        train::Experiment(io::ExperimentConfig::from_json(live_config(data_.path())), runs / "run").run(&live);
    QCOMPARE(steps_of(live.frames), (std::vector<int64_t>{0, 10, 20, 24}));
    for (const auto& f : live.frames) {
      QCOMPARE(f.stage, 2);
      QCOMPARE(f.rows, 2 * kLiveImages);
      QCOMPARE(f.logit_cols, int64_t(10));
      QCOMPARE(f.hd_cols, int64_t(50));
      QCOMPARE(std::count(f.domain.begin(), f.domain.end(), 0), kLiveImages);  // the source's rows first
      QCOMPARE(f.domain.front(), 0);
      QCOMPARE(f.domain.back(), 1);
      QCOMPARE(f.label, live.frames[0].label);  // a fixed sample
      QCOMPARE(f.index, live.frames[0].index);
    }
    // The first frame carries the sample's images (the live view's hover thumbnails), the others none.
    QCOMPARE(static_cast<int64_t>(live.frames[0].images.size()), 2 * kLiveImages);
    QVERIFY(live.frames[0].images[0].width > 0 && !live.frames[0].images[0].pixels.empty());
    for (size_t i = 1; i < live.frames.size(); ++i) QVERIFY(live.frames[i].images.empty());
    // The network moves between frames (adaptation), so the frames differ.
    QVERIFY(live.frames.front().logits != live.frames.back().logits);
    const auto stored = io::read_embedding_frames(runs / "run");
    QCOMPARE(stored.size(), live.frames.size());
    for (size_t i = 0; i < stored.size(); ++i) QVERIFY(same_frame(stored[i], live.frames[i], 0));
    QVERIFY(std::filesystem::exists(io::embedding_dir(runs / "run") / "index.json"));
    QVERIFY(results.seconds.count("live_embedding") == 1 && results.seconds.at("live_embedding") > 0);
  }

  void zeroImagesTurnsItOff() {
    test::ScratchDir runs;
    auto c = live_config(data_.path());
    c["eval"]["live_embedding_images"] = 0;
    c["stage2"]["iterations"] = 4;
    FrameCollector live;
    train::Experiment(io::ExperimentConfig::from_json(c), runs / "run").run(&live);
    QVERIFY(live.frames.empty());
    QVERIFY(!std::filesystem::exists(io::embedding_dir(runs / "run")));
  }

  // Stopped in stage 2 at step 11 (frames 0 and 10 stored), with a stray frame at step 20 as a killed
  // process past its checkpoint would leave: the resumed run drops it, produces 20 and 24 again, and
  // the stored frames are those of an uninterrupted run.
  void resumedRunReplaysTheSameFrames() {
    test::ScratchDir runs;
    const auto config = io::ExperimentConfig::from_json(live_config(data_.path()));
    train::Experiment(config, runs / "whole").run();
    train::StopToken token;
    StopAt stopper(token, 2, 11);
    train::Experiment(config, runs / "parts").run(&stopper, &token);
    QCOMPARE(steps_of(io::read_embedding_frames(runs / "parts")), (std::vector<int64_t>{0, 10}));
    auto stray = io::read_embedding_frames(runs / "parts").back();
    stray.step = 20;
    std::fill(stray.logits.begin(), stray.logits.end(), 123.0f);
    io::write_embedding_frame(runs / "parts", stray);

    FrameCollector resumed_live;
    train::Experiment::resume(runs / "parts")->run(&resumed_live);
    QCOMPARE(steps_of(resumed_live.frames), (std::vector<int64_t>{20, 24}));
    QVERIFY(!resumed_live.frames[0].images.empty());  // a resumed run's first frame too
    QVERIFY(resumed_live.frames[1].images.empty());
    const auto whole = io::read_embedding_frames(runs / "whole");
    const auto parts = io::read_embedding_frames(runs / "parts");
    QCOMPARE(steps_of(parts), (std::vector<int64_t>{0, 10, 20, 24}));
    for (size_t i = 0; i < whole.size(); ++i)
      QVERIFY2(same_frame(whole[i], parts[i], 1e-5f), ("frame at step " + std::to_string(whole[i].step)).c_str());
  }

  void aTornFrameIsAClearError() {
    test::ScratchDir runs;
    const auto file = io::embedding_dir(runs.path()) / "frame-s2-000010.bin";
    util::atomic_write(file, "FANEMB01 short");
    QVERIFY_THROWS_EXCEPTION(Error, io::read_embedding_frame(file));
    std::vector<std::string> skipped;
    QVERIFY(io::read_embedding_frames(runs.path(), &skipped).empty());
    QCOMPARE(skipped.size(), size_t(1));
    QVERIFY(skipped[0].find("frame-s2-000010.bin") != std::string::npos);
  }

  // A warm start begins at the given positions, and later frames
  // move little from the previous layout when the data barely changes.
  void tsneWarmStartsFromPositions() {
    const int64_t n = 120, d = 5;
    std::vector<float> data(n * d);
    for (int64_t i = 0; i < n * d; ++i) data[i] = static_cast<float>(std::sin(0.37 * i) + (i / d) % 3);
    analysis::TsneOptions o;
    o.iterations = 1;  // one step of a vanishing learning rate: where it starts
    o.learning_rate = 1e-12;
    o.exaggeration_iterations = 0;
    o.initial_positions.resize(2 * n);
    for (int64_t i = 0; i < 2 * n; ++i) o.initial_positions[i] = static_cast<float>(i % 7);
    const auto started = analysis::tsne(data.data(), n, d, o).embedding;
    for (int64_t i = 0; i < 2 * n; ++i) QVERIFY(std::abs(started[i] - o.initial_positions[i]) < 1e-4);
    o.initial_positions.pop_back();
    QVERIFY_THROWS_EXCEPTION(Error, analysis::tsne(data.data(), n, d, o));

    train::EmbeddingFrameEvent frame;
    frame.rows = n;
    frame.logit_cols = d;
    frame.logits = data;
    frame.domain.assign(n, 0);
    frame.label.assign(n, 0);
    frame.index.assign(n, 0);
    analysis::LiveLayoutOptions lo;
    lo.perplexity = 10;
    const auto first = analysis::layout_frame(frame, nullptr, lo);
    for (auto& v : frame.logits) v *= 1.01f;
    const auto second = analysis::layout_frame(frame, &first, lo);
    double moved = 0, spread = 0;
    for (int64_t i = 0; i < 2 * n; ++i) {
      moved += std::abs(second.logits_xy[i] - first.logits_xy[i]);
      spread += std::abs(first.logits_xy[i]);
    }
    QVERIFY2(moved < 0.2 * spread, (std::to_string(moved) + " vs " + std::to_string(spread)).c_str());
  }

  // `fan figures`' part: one GIF image per stored frame, looping, and a strip of the frames side by side.
  void gifHasOneImagePerFrame() {
    test::ScratchDir runs;
    train::Experiment(io::ExperimentConfig::from_json(live_config(data_.path())), runs / "run").run();
    analysis::LiveLayoutOptions o;
    o.method = analysis::LiveLayoutOptions::Method::kPca;
    const auto report = analysis::write_live_embedding(runs / "run", runs / "out", "mnist", "usps", nullptr, o, 3);
    QCOMPARE(report.written.size(), size_t(2));
    const auto gif = parse_gif(util::read_file(runs / "out" / "live_embedding.gif"));
    QVERIFY(gif.valid);
    QVERIFY(gif.loops);
    QCOMPARE(gif.images, 4);
    QVERIFY(gif.width > 0 && gif.height > gif.width);  // logits above hd
    const auto png = util::read_file(runs / "out" / "live_embedding_strip.png");
    QCOMPARE(png.substr(1, 3), std::string("PNG"));
    auto be32 = [&](size_t at) {
      return (static_cast<uint8_t>(png[at]) << 24) | (static_cast<uint8_t>(png[at + 1]) << 16) |
             (static_cast<uint8_t>(png[at + 2]) << 8) | static_cast<uint8_t>(png[at + 3]);
    };
    QCOMPARE(static_cast<int>(be32(16)), 3 * gif.width + 2 * 6);  // three frames side by side
    QCOMPARE(static_cast<int>(be32(20)), gif.height);
    // No frames: nothing written, and why.
    const auto none = analysis::write_live_embedding(runs / "nothing", runs / "out2", "a", "b", nullptr, o);
    QVERIFY(none.written.empty() && !none.skipped.empty());
  }

 private:
  test::ScratchDir data_;
};

QTEST_APPLESS_MAIN(TestLiveEmbedding)
#include "tst_live_embedding.moc"
