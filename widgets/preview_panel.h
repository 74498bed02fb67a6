// Reconstruction previews: originals above their reconstructions, with a slider over past refreshes.
#pragma once
#include <QImage>
#include <QVector>
#include <QWidget>

class QLabel;
class QSlider;

namespace fan::widgets {

struct PreviewSnapshot {
  int stage = 1;
  qint64 step = 0;
  QString domain;
  QVector<QImage> originals;
  QVector<QImage> reconstructions;
};

class PreviewPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PreviewPanel(QWidget* parent = nullptr);
  void addSnapshot(const PreviewSnapshot& snapshot);  // follows the newest unless the user looks back
  void clear();
  int snapshotCount() const { return snapshots_.size(); }
  // The grid shown for snapshot `index` (two rows: originals, reconstructions).
  QImage gridImage(int index) const;

 private:
  void show(int index);
  QVector<PreviewSnapshot> snapshots_;
  QLabel* image_;
  QLabel* caption_;
  QSlider* slider_;
};

// Lays images out in rows (each row a list), scaled to `cell` pixels, on white.
QImage image_grid(const QVector<QVector<QImage>>& rows, int cell);

}  // namespace fan::widgets
