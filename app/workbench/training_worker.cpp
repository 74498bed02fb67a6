// TrainingWorker: the experiment on its own thread.
#include "training_worker.h"

#include "core/io/config.h"
#include "core/train/experiment.h"

#include <QMetaType>

namespace fan::app {
namespace {

// Forwards core events as signals; emitted from the worker thread, delivered queued.
class SignalSink : public train::EventSink {
 public:
  explicit SignalSink(TrainingWorker* worker) : worker_(worker) {}
  void on_stage(const train::StageEvent& e) override { emit worker_->recorded(e); }
  void on_step(const train::StepEvent& e) override { emit worker_->recorded(e); }
  void on_evaluation(const train::EvaluationEvent& e) override { emit worker_->recorded(e); }
  void on_validators(const train::ValidatorEvent& e) override { emit worker_->recorded(e); }
  void on_preview(const train::PreviewEvent& e) override {
    PreviewImages p;
    p.stage = e.stage;
    p.step = e.step;
    p.domain = QString::fromStdString(e.domain);
    for (const auto& b : e.originals) p.originals.push_back(to_qimage(b));
    for (const auto& b : e.reconstructions) p.reconstructions.push_back(to_qimage(b));
    emit worker_->preview(p);
  }
  void on_embedding_frame(const train::EmbeddingFrameEvent& e) override {
    emit worker_->embeddingFrame(std::make_shared<const train::EmbeddingFrameEvent>(e));
  }
  void on_message(const std::string& m) override { emit worker_->message(QString::fromStdString(m)); }
  void on_error(const std::string& m) override { emit worker_->message("error: " + QString::fromStdString(m)); }

 private:
  TrainingWorker* worker_;
};

}  // namespace

QImage to_qimage(const train::ImageBuffer& b) {
  const auto format = b.channels == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8;
  QImage image(reinterpret_cast<const uchar*>(b.pixels.data()), b.width, b.height, b.width * b.channels, format);
  return image.copy();  // own the pixels: the buffer dies with the event
}

void register_metatypes() {
  qRegisterMetaType<fan::io::MetricRecord>("fan::io::MetricRecord");
  qRegisterMetaType<fan::io::Results>("fan::io::Results");
  qRegisterMetaType<fan::io::ExperimentConfig>("fan::io::ExperimentConfig");
  qRegisterMetaType<fan::app::PreviewImages>("fan::app::PreviewImages");
  qRegisterMetaType<fan::app::EmbeddingFrame>("fan::app::EmbeddingFrame");
}

TrainingWorker::TrainingWorker() = default;
TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::start(const io::ExperimentConfig& config, const QString& run_dir) {
  run([&] { return std::make_unique<train::Experiment>(config, run_dir.toStdString()); });
}

void TrainingWorker::resume(const QString& run_dir) {
  run([&] { return train::Experiment::resume(run_dir.toStdString()); });
}

void TrainingWorker::run(const std::function<std::unique_ptr<train::Experiment>()>& make) {
  // An exception escaping a slot would end the program: every one becomes a signal.
  try {
    SignalSink sink(this);
    const auto experiment = make();
    emit finished(experiment->run(&sink, &stop_));
  } catch (const std::exception& e) {
    emit failed(QString::fromUtf8(e.what()));
  }
}

}  // namespace fan::app
