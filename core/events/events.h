// What training reports as it goes: plain value structs, the EventSink interface, and the stop token.
// The lowest layer of the core: it includes neither io nor train, so both can use it.
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fan::io {
struct Results;  // core/io/records.h: what a run ends with
}  // namespace fan::io

namespace fan::events {

struct StageEvent {
  int stage = 1;            // 1: source training, 2: adaptation
  std::string name;         // "source" | "adaptation"
  int64_t total_steps = 0;  // steps the stage will run
};

struct StepEvent {
  int stage = 1;
  int64_t step = 0;  // 1-based within the stage
  int64_t total_steps = 0;
  int64_t epoch = 0;
  std::map<std::string, double> losses;  // "Lc", "Lm", "Lr", "total", "L_advD", "L_advM", "D_acc"
  std::map<std::string, double> learning_rates;
  double images_per_second = 0;
  double elapsed_seconds = 0;  // within the stage
};

struct EvaluationEvent {
  int stage = 1;
  int64_t step = 0;
  std::string split;    // "target_test" | "source_test" | "target_validation"
  std::string network;  // "source" | "target"
  int64_t images = 0;   // how many images of the split were evaluated (eval.images: a fixed subset)
  double top1 = 0;
  double top5 = 0;
  std::vector<double> per_class;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]; not kept in the metric records
};

// Label-free validators of one network at one evaluation point (core/analysis/validators.h),
// on a fixed, seeded set of unlabelled target training images (eval.validator_images).
struct ValidatorEvent {
  int stage = 2;
  int64_t step = 0;
  std::string network;  // "source" | "adabn" | "target"
  int64_t images = 0;
  std::map<std::string, double> values;  // "entropy", "im", "bnm", "snd", "class_ami"
};

// An 8-bit image, row-major, channels interleaved (1 = grey, 3 = RGB).
struct ImageBuffer {
  int width = 0;
  int height = 0;
  int channels = 1;
  std::vector<uint8_t> pixels;
};

struct PreviewEvent {
  int stage = 1;
  int64_t step = 0;
  std::string domain;  // "source" | "target"
  std::vector<ImageBuffer> originals;
  std::vector<ImageBuffer> reconstructions;
};

// One frame of the live embedding (eval.live_embedding_images): the logits and the domain-specific
// part hd of a fixed, seeded sample of test images of both domains (the source's rows first), from
// the target network at one point of stage 2 (step 0: the source-only network it starts from).
struct EmbeddingFrameEvent {
  int stage = 2;
  int64_t step = 0;
  int64_t rows = 0;
  int64_t logit_cols = 0;
  int64_t hd_cols = 0;              // 0 when the variant has no hd (adda)
  std::vector<float> logits;        // rows × logit_cols, row-major
  std::vector<float> hd;            // rows × hd_cols, row-major
  std::vector<int32_t> domain;      // per row: 0 source, 1 target
  std::vector<int32_t> label;       // per row: the true class
  std::vector<int32_t> index;       // per row: the image's row in its domain's test set
  // Per row, the image itself: only in the first frame a run (or a resumed run) sends, for the live
  // view's hover thumbnails; not stored with the frames (a reopened run has its test sets).
  std::vector<ImageBuffer> images;
};

// Receives events on the training thread; implementations forward them
// (stdout, run directory, queued Qt signals). Every method has a no-op default.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_stage(const StageEvent&) {}
  virtual void on_step(const StepEvent&) {}
  virtual void on_evaluation(const EvaluationEvent&) {}
  virtual void on_validators(const ValidatorEvent&) {}
  virtual void on_preview(const PreviewEvent&) {}
  virtual void on_embedding_frame(const EmbeddingFrameEvent&) {}
  virtual void on_message(const std::string&) {}
  virtual void on_error(const std::string&) {}
  virtual void on_finished(const io::Results& /*results*/) {}
};

// Fans events out to several sinks (null entries are skipped).
class MultiSink : public EventSink {
 public:
  explicit MultiSink(std::vector<EventSink*> sinks) : sinks_(std::move(sinks)) {}
  void on_stage(const StageEvent& e) override { each([&](EventSink* s) { s->on_stage(e); }); }
  void on_step(const StepEvent& e) override { each([&](EventSink* s) { s->on_step(e); }); }
  void on_evaluation(const EvaluationEvent& e) override { each([&](EventSink* s) { s->on_evaluation(e); }); }
  void on_validators(const ValidatorEvent& e) override { each([&](EventSink* s) { s->on_validators(e); }); }
  void on_preview(const PreviewEvent& e) override { each([&](EventSink* s) { s->on_preview(e); }); }
  void on_embedding_frame(const EmbeddingFrameEvent& e) override {
    each([&](EventSink* s) { s->on_embedding_frame(e); });
  }
  void on_message(const std::string& m) override { each([&](EventSink* s) { s->on_message(m); }); }
  void on_error(const std::string& m) override { each([&](EventSink* s) { s->on_error(m); }); }
  void on_finished(const io::Results& r) override { each([&](EventSink* s) { s->on_finished(r); }); }

 private:
  template <typename Fn>
  void each(Fn fn) {
    for (auto* sink : sinks_)
      if (sink != nullptr) fn(sink);
  }
  std::vector<EventSink*> sinks_;
};

// Stop and pause requests from another thread, read by the loop every step.
class StopToken {
 public:
  void request_stop() { stop_.store(true); }
  void set_paused(bool paused) { paused_.store(paused); }
  bool stop_requested() const { return stop_.load(); }
  bool paused() const { return paused_.load(); }
  void reset() {
    stop_.store(false);
    paused_.store(false);
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
};

}  // namespace fan::events

// The training code and its front ends name these as fan::train::…, as before the move.
namespace fan::train {
using events::EmbeddingFrameEvent;
using events::EvaluationEvent;
using events::EventSink;
using events::ImageBuffer;
using events::MultiSink;
using events::PreviewEvent;
using events::StageEvent;
using events::StepEvent;
using events::StopToken;
using events::ValidatorEvent;
}  // namespace fan::train
