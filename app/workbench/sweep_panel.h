// The sweep panel: the queue's runs and states, overall progress, Stop and Resume sweep.
#pragma once
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;

namespace fan::app {

class SweepQueue;

class SweepPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SweepPanel(SweepQueue* queue, QWidget* parent = nullptr);
  QTableView* table() const { return table_; }
  QPushButton* resumeButton() const { return resume_; }
  QPushButton* stopButton() const { return stop_; }
  // Resume is offered only while no other run is going.
  void setWindowBusy(bool busy);

 signals:
  void resumeRequested();
  void openRequested(const QString& run_dir);

 private:
  void update();
  SweepQueue* queue_;
  QLabel *title_ = nullptr, *summary_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton *resume_ = nullptr, *stop_ = nullptr;
  QTableView* table_ = nullptr;
  bool busy_ = false;
};

}  // namespace fan::app
