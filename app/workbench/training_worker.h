// TrainingWorker: owns an Experiment on its own QThread and turns core events into queued signals.
#pragma once
#include "core/train/events.h"

#include <QImage>
#include <QJsonObject>
#include <QMap>
#include <QObject>
#include <QString>
#include <QVector>

#include <memory>

namespace fan::app {

// Value types that cross the thread boundary.
struct StepPoint {
  int stage = 1;
  qint64 step = 0;
  qint64 total = 0;
  QMap<QString, double> losses;
  double images_per_second = 0;
  double elapsed_seconds = 0;
};
struct EvaluationPoint {
  int stage = 1;
  qint64 step = 0;
  QString split, network;
  double top1 = 0, top5 = 0;
};
struct PreviewImages {
  int stage = 1;
  qint64 step = 0;
  QString domain;
  QVector<QImage> originals, reconstructions;
};

QImage to_qimage(const train::ImageBuffer& buffer);

class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  TrainingWorker();
  ~TrainingWorker() override;
  train::StopToken& stopToken() { return stop_; }

 public slots:
  // Runs a new experiment (config JSON text) into run_dir, or resumes run_dir when config is empty.
  // The caller resets stopToken() before queueing this, so a Stop pressed
  // before the worker picks the run up still counts.
  void start(const QString& config_json, const QString& run_dir);

 signals:
  void stageStarted(int stage, const QString& name, qint64 total);
  void stepLogged(const fan::app::StepPoint& point);
  void evaluated(const fan::app::EvaluationPoint& point);
  void preview(const fan::app::PreviewImages& images);
  void message(const QString& text);
  void failed(const QString& error);
  void finished(const QString& results_json);

 private:
  train::StopToken stop_;
};

void register_metatypes();

}  // namespace fan::app
