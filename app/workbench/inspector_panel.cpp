// The domain-specific inspector.
#include "inspector_panel.h"

#include <QCheckBox>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace fan::app {
namespace {
// Displayed size of each image, in pixels.
constexpr int kView = 64;
const QStringList kCaptions = {"target image", "source image", "target reconstruction",
                               "source reconstruction", "target hd + source logits"};

QPixmap scaled(const QImage& image) {
  return QPixmap::fromImage(image.scaled(kView, kView, Qt::KeepAspectRatio, Qt::FastTransformation));
}
}  // namespace

InspectorPanel::InspectorPanel(QWidget* parent)
    : QWidget(parent),
      target_index_(new QSpinBox),
      source_index_(new QSpinBox),
      random_same_class_(new QCheckBox(tr("random of the same class"))),
      second_target_(new QSpinBox),
      alpha_(new QSlider(Qt::Horizontal)),
      status_(new QLabel(tr("Open a run (Runs panel) or finish one to inspect its networks"))),
      interpolation_view_(new QLabel) {
  auto* layout = new QVBoxLayout(this);
  auto* pickers = new QHBoxLayout;
  pickers->addWidget(new QLabel(tr("target #")));
  pickers->addWidget(target_index_);
  pickers->addWidget(new QLabel(tr("source #")));
  pickers->addWidget(source_index_);
  random_same_class_->setChecked(true);
  pickers->addWidget(random_same_class_);
  auto* another = new QPushButton(tr("Show"));
  pickers->addWidget(another);
  pickers->addStretch(1);
  layout->addLayout(pickers);
  auto* grid = new QGridLayout;
  for (int i = 0; i < kCaptions.size(); ++i) {
    auto* view = new QLabel;
    view->setFixedSize(kView, kView);
    view->setAlignment(Qt::AlignCenter);
    view->setStyleSheet("background: #222;");
    auto* caption = new QLabel(kCaptions[i]);
    caption->setAlignment(Qt::AlignCenter);
    caption->setWordWrap(true);
    grid->addWidget(view, 0, i, Qt::AlignCenter);
    grid->addWidget(caption, 1, i);
    views_.push_back(view);
    captions_.push_back(caption);
  }
  layout->addLayout(grid);
  auto* interp = new QHBoxLayout;
  interp->addWidget(new QLabel(tr("hd from target #")));
  interp->addWidget(second_target_);
  alpha_->setRange(0, 100);
  alpha_->setToolTip(tr("Interpolate hd from the first target image (left) to the second (right); logits stay the first's"));
  interp->addWidget(alpha_, 1);
  interpolation_view_->setFixedSize(kView, kView);
  interpolation_view_->setStyleSheet("background: #222;");
  interp->addWidget(interpolation_view_);
  layout->addLayout(interp);
  layout->addWidget(status_);
  layout->addStretch(1);
  setEnabled(false);
  connect(another, &QPushButton::clicked, this, [this] {
    ++seed_;
    refresh();
  });
  connect(target_index_, &QSpinBox::valueChanged, this, &InspectorPanel::refresh);
  connect(source_index_, &QSpinBox::valueChanged, this, [this] {
    if (!random_same_class_->isChecked()) refresh();
  });
  connect(random_same_class_, &QCheckBox::toggled, this, [this](bool on) {
    source_index_->setEnabled(!on);
    refresh();
  });
  connect(alpha_, &QSlider::valueChanged, this, &InspectorPanel::refresh);
  connect(second_target_, &QSpinBox::valueChanged, this, &InspectorPanel::refresh);
  source_index_->setEnabled(false);
}

void InspectorPanel::setModel(std::shared_ptr<RunModel> model) {
  model_ = std::move(model);
  const bool usable = model_ && model_->hasDecoder();
  setEnabled(usable);
  if (!model_) return;
  if (!usable) {
    status_->setText(tr("This run's networks have no decoder (ADDA): nothing to reconstruct."));
    return;
  }
  for (auto* box : {target_index_, second_target_}) box->setRange(0, model_->count(Domain::kTarget) - 1);
  source_index_->setRange(0, model_->count(Domain::kSource) - 1);
  second_target_->setValue(std::min(1, model_->count(Domain::kTarget) - 1));
  refresh();
}

void InspectorPanel::refresh() {
  if (!model_ || !model_->hasDecoder()) return;
  auto model = model_;
  const int target = target_index_->value();
  const int source = random_same_class_->isChecked() ? -1 : source_index_->value();
  const int second = second_target_->value();
  const double alpha = alpha_->value() / 100.0;
  const unsigned seed = seed_;
  auto* watcher = new QFutureWatcher<std::pair<RunModel::Inspection, QImage>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    try {
      const auto result = watcher->result();
      show(result.first);
      interpolated_ = result.second;
      interpolation_view_->setPixmap(scaled(interpolated_));
      emit done();
    } catch (const std::exception& e) {
      status_->setText(tr("error: %1").arg(QString::fromUtf8(e.what())));
      emit failed(e.what());
    }
  });
  // Tensors stay off the GUI thread.
  watcher->setFuture(QtConcurrent::run([model, target, source, second, alpha, seed] {
    auto inspection = model->inspect(target, source, seed);
    auto interpolated = model->interpolate(target, second, alpha);
    return std::make_pair(inspection, interpolated);
  }));
}

void InspectorPanel::show(const RunModel::Inspection& r) {
  const QVector<QImage> images = {r.target, r.source, r.target_reconstruction, r.source_reconstruction, r.swapped};
  for (int i = 0; i < images.size(); ++i) views_[i]->setPixmap(scaled(images[i]));
  swapped_ = r.swapped;
  captions_[0]->setText(tr("target #%1 (class %2, predicted %3)")
                            .arg(target_index_->value()).arg(r.target_label).arg(r.target_predicted));
  captions_[1]->setText(tr("source #%1 (class %2)").arg(r.source_index).arg(r.source_label));
  status_->setText(tr("%1 — %2 networks")
                       .arg(model_->runDir(), model_->adapted() ? tr("adapted") : tr("stage-1 (not yet adapted)")));
}

}  // namespace fan::app
