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
  void on_stage(const train::StageEvent& e) override {
    emit worker_->stageStarted(e.stage, QString::fromStdString(e.name), e.total_steps);
  }
  void on_step(const train::StepEvent& e) override {
    StepPoint p;
    p.stage = e.stage;
    p.step = e.step;
    p.total = e.total_steps;
    for (const auto& [k, v] : e.losses) p.losses.insert(QString::fromStdString(k), v);
    p.images_per_second = e.images_per_second;
    p.elapsed_seconds = e.elapsed_seconds;
    emit worker_->stepLogged(p);
  }
  void on_evaluation(const train::EvaluationEvent& e) override {
    EvaluationPoint p;
    p.stage = e.stage;
    p.step = e.step;
    p.split = QString::fromStdString(e.split);
    p.network = QString::fromStdString(e.network);
    p.top1 = e.top1;
    p.top5 = e.top5;
    emit worker_->evaluated(p);
  }
  void on_preview(const train::PreviewEvent& e) override {
    PreviewImages p;
    p.stage = e.stage;
    p.step = e.step;
    p.domain = QString::fromStdString(e.domain);
    for (const auto& b : e.originals) p.originals.push_back(to_qimage(b));
    for (const auto& b : e.reconstructions) p.reconstructions.push_back(to_qimage(b));
    emit worker_->preview(p);
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
  qRegisterMetaType<fan::app::StepPoint>("fan::app::StepPoint");
  qRegisterMetaType<fan::app::EvaluationPoint>("fan::app::EvaluationPoint");
  qRegisterMetaType<fan::app::PreviewImages>("fan::app::PreviewImages");
}

TrainingWorker::TrainingWorker() = default;
TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::start(const QString& config_json, const QString& run_dir) {
  // An exception escaping a slot would end the program: every one becomes a signal.
  try {
    SignalSink sink(this);
    std::unique_ptr<train::Experiment> experiment;
    if (config_json.isEmpty()) {
      experiment = train::Experiment::resume(run_dir.toStdString());
    } else {
      const auto json = nlohmann::json::parse(config_json.toStdString());
      experiment = std::make_unique<train::Experiment>(io::ExperimentConfig::from_json(json, "project"),
                                                       run_dir.toStdString());
    }
    const auto results = experiment->run(&sink, &stop_);
    emit finished(QString::fromStdString(results.dump()));
  } catch (const std::exception& e) {
    emit failed(QString::fromUtf8(e.what()));
  }
}

}  // namespace fan::app
