// The domain-specific inspector (Fig. 6b, interactive): swap hd and logits between a target and a source image.
#pragma once
#include "run_model.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QSlider;
class QSpinBox;

namespace fan::app {

class InspectorPanel : public QWidget {
  Q_OBJECT
 public:
  explicit InspectorPanel(QWidget* parent = nullptr);
  void setModel(std::shared_ptr<RunModel> model);
  // Recomputes the views now, on a worker thread; `done` fires when they are shown.
  void refresh();
  // The last swap image (decoder(target hd, source logits)); null before the first refresh.
  QImage swappedImage() const { return swapped_; }
  QImage interpolatedImage() const { return interpolated_; }

 signals:
  void done();
  void failed(const QString& error);

 private:
  void show(const RunModel::Inspection& r);
  std::shared_ptr<RunModel> model_;
  QSpinBox* target_index_;
  QSpinBox* source_index_;
  QCheckBox* random_same_class_;
  QSpinBox* second_target_;
  QSlider* alpha_;
  QLabel* status_;
  QVector<QLabel*> views_;
  QVector<QLabel*> captions_;
  QLabel* interpolation_view_;
  QImage swapped_, interpolated_;
  unsigned seed_ = 0;
};

}  // namespace fan::app
