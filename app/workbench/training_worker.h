// TrainingWorker: owns an Experiment on its own QThread and turns core events into queued signals.
#pragma once
#include "core/events/events.h"
#include "core/io/config.h"
#include "core/io/records.h"

#include <QImage>
#include <QMap>
#include <QObject>
#include <QString>
#include <QVector>

#include <functional>
#include <memory>

namespace fan::train {
class Experiment;
}  // namespace fan::train

namespace fan::app {

// Value types that cross the thread boundary: the core's records (stage
// starts, logged steps, evaluations — what the run directory keeps), previews as
// QImages, and the typed results. No JSON text.
struct PreviewImages {
  int stage = 1;
  qint64 step = 0;
  QString domain;
  QVector<QImage> originals, reconstructions;
};

QImage to_qimage(const train::ImageBuffer& buffer);

// The core's live-embedding frame as it crosses to the GUI thread (a few hundred KB: shared, never copied).
using EmbeddingFrame = std::shared_ptr<const events::EmbeddingFrameEvent>;

class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  TrainingWorker();
  ~TrainingWorker() override;
  train::StopToken& stopToken() { return stop_; }

 public slots:
  // Runs a new experiment into run_dir. The caller resets stopToken() before
  // queueing this, so a Stop pressed before the worker picks the run up still counts.
  void start(const fan::io::ExperimentConfig& config, const QString& run_dir);
  // Continues the run in run_dir from its last checkpoint.
  void resume(const QString& run_dir);

 signals:
  // One metric record, as the run directory gets it: a stage start, a logged step, an evaluation.
  void recorded(const fan::io::MetricRecord& record);
  void preview(const fan::app::PreviewImages& images);
  // A live-embedding frame (shared, not copied, on its way to the GUI thread).
  void embeddingFrame(const fan::app::EmbeddingFrame& frame);
  void message(const QString& text);
  void failed(const QString& error);
  void finished(const fan::io::Results& results);

 private:
  void run(const std::function<std::unique_ptr<train::Experiment>()>& make);
  train::StopToken stop_;
};

void register_metatypes();

}  // namespace fan::app
