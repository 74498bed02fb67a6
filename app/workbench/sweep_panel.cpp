// The sweep panel: a view of the SweepQueue model and its two buttons.
#include "sweep_panel.h"

#include "sweep_queue.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace fan::app {
namespace {
// The progress bar's resolution (steps of the whole sweep).
constexpr int kProgressSteps = 1000;
}  // namespace

SweepPanel::SweepPanel(SweepQueue* queue, QWidget* parent) : QWidget(parent), queue_(queue) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* top = new QHBoxLayout;
  title_ = new QLabel;
  title_->setObjectName("sweep_title");
  title_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  top->addWidget(title_, 1);
  resume_ = new QPushButton(tr("Resume sweep"));
  resume_->setObjectName("resume_sweep");
  resume_->setToolTip(tr("Continue the sweep: finished runs are skipped, interrupted ones resume, failed ones are tried again"));
  stop_ = new QPushButton(tr("Stop sweep"));
  stop_->setObjectName("stop_sweep");
  stop_->setToolTip(tr("Stop the running run (a resumable checkpoint is kept) and the queue"));
  top->addWidget(resume_);
  top->addWidget(stop_);
  layout->addLayout(top);
  auto* middle = new QHBoxLayout;
  progress_ = new QProgressBar;
  progress_->setRange(0, kProgressSteps);
  progress_->setTextVisible(false);
  progress_->setMaximumHeight(12);
  summary_ = new QLabel;
  summary_->setObjectName("sweep_summary");
  middle->addWidget(progress_, 1);
  middle->addWidget(summary_, 3);
  layout->addLayout(middle);
  table_ = new QTableView;
  table_->setModel(queue_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setWordWrap(false);
  table_->setToolTip(tr("Double-click a run to open it"));
  layout->addWidget(table_, 1);

  connect(resume_, &QPushButton::clicked, this, &SweepPanel::resumeRequested);
  connect(stop_, &QPushButton::clicked, queue_, &SweepQueue::stop);
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    if (index.isValid()) emit openRequested(queue_->runDirectory(index.row()));
  });
  connect(queue_, &SweepQueue::changed, this, &SweepPanel::update);
  connect(queue_, &SweepQueue::runStarted, this, [this](int row) { table_->scrollTo(queue_->index(row, 0)); });
  update();
}

void SweepPanel::setWindowBusy(bool busy) {
  busy_ = busy;
  update();
}

void SweepPanel::update() {
  title_->setText(queue_->hasRuns() ? tr("Sweep: %1").arg(queue_->directory()) : tr("Sweep"));
  summary_->setText(queue_->summaryText());
  progress_->setValue(static_cast<int>(queue_->progress() * kProgressSteps + 0.5));
  progress_->setVisible(queue_->hasRuns());
  const bool active = queue_->isActive();
  const bool unfinished = queue_->hasRuns() && queue_->doneCount() - queue_->countIn(SweepQueue::State::kFailed) <
                                                   queue_->count();
  resume_->setEnabled(!active && !busy_ && unfinished);
  stop_->setEnabled(active);
}

}  // namespace fan::app
