// Reconstruction previews with a history slider.
#include "widgets/preview_panel.h"

#include <QLabel>
#include <QPainter>
#include <QSlider>
#include <QVBoxLayout>

namespace fan::widgets {
namespace {
// Pixels per image in the preview grid.
constexpr int kCell = 56;
}  // namespace

QImage image_grid(const QVector<QVector<QImage>>& rows, int cell) {
  int columns = 0;
  for (const auto& r : rows) columns = std::max(columns, static_cast<int>(r.size()));
  QImage grid(std::max(1, columns * cell), std::max(1, static_cast<int>(rows.size()) * cell), QImage::Format_RGB32);
  grid.fill(Qt::white);
  QPainter painter(&grid);
  for (int y = 0; y < rows.size(); ++y)
    for (int x = 0; x < rows[y].size(); ++x)
      painter.drawImage(QRect(x * cell + 1, y * cell + 1, cell - 2, cell - 2), rows[y][x]);
  return grid;
}

PreviewPanel::PreviewPanel(QWidget* parent)
    : QWidget(parent), image_(new QLabel), caption_(new QLabel), slider_(new QSlider(Qt::Horizontal)) {
  auto* layout = new QVBoxLayout(this);
  image_->setAlignment(Qt::AlignCenter);
  image_->setMinimumSize(1, 2 * kCell);
  image_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  caption_->setWordWrap(true);
  caption_->setAlignment(Qt::AlignCenter);
  caption_->setText(tr("Reconstruction previews appear here during a run"));
  slider_->setEnabled(false);
  slider_->setToolTip(tr("Look back at earlier refreshes"));
  layout->addWidget(image_, 1);
  layout->addWidget(caption_);
  layout->addWidget(slider_);
  connect(slider_, &QSlider::valueChanged, this, &PreviewPanel::show);
}

void PreviewPanel::addSnapshot(const PreviewSnapshot& snapshot) {
  const bool following = snapshots_.isEmpty() || slider_->value() == snapshots_.size() - 1;
  snapshots_.push_back(snapshot);
  slider_->setEnabled(true);
  slider_->setRange(0, snapshots_.size() - 1);
  if (following) {
    slider_->setValue(snapshots_.size() - 1);
    show(snapshots_.size() - 1);
  }
}

void PreviewPanel::clear() {
  snapshots_.clear();
  slider_->setRange(0, 0);
  slider_->setEnabled(false);
  image_->clear();
  caption_->setText(tr("Reconstruction previews appear here during a run"));
}

QImage PreviewPanel::gridImage(int index) const {
  if (index < 0 || index >= snapshots_.size()) return {};
  const auto& s = snapshots_[index];
  return image_grid({s.originals, s.reconstructions}, kCell);
}

void PreviewPanel::show(int index) {
  if (index < 0 || index >= snapshots_.size()) return;
  const auto& s = snapshots_[index];
  // Scaled down to the panel's width when it is narrower than the grid.
  const QImage grid = gridImage(index);
  image_->setPixmap(QPixmap::fromImage(grid.width() > image_->width() && image_->width() > 50
                                           ? grid.scaledToWidth(image_->width(), Qt::SmoothTransformation)
                                           : grid));
  const QString when = s.step < 0 ? tr("final networks") : tr("stage %1, step %2").arg(s.stage).arg(s.step);
  caption_->setText(QString("%1 test images (top) and their reconstructions (bottom) — %2  [%3/%4]")
                        .arg(s.domain, when).arg(index + 1).arg(snapshots_.size()));
}

}  // namespace fan::widgets
