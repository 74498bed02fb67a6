// The live embedding: layouts off the GUI thread, drawn as they come; a slider and play/pause to replay.
#include "live_embedding_view.h"

#include "training_worker.h"

#include "widgets/plot_util.h"

#include "core/io/embedding_frames.h"
#include "core/io/run_dir.h"
#include "widgets/figure_render.h"

#include <QBuffer>
#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent>

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <qcustomplot.h>

#include <algorithm>
#include <thread>

namespace fan::app {
namespace {
// Points travel from one frame's positions to the next in this many ticks of this many ms.
constexpr int kAnimationTicks = 12;
constexpr int kAnimationTickMs = 30;
// Play: one frame per this many ms.
constexpr int kPlayIntervalMs = 900;
constexpr double kMarkerSize = 3.5;
}  // namespace

LiveEmbeddingView::LiveEmbeddingView(QWidget* parent)
    : QWidget(parent),
      method_(new QComboBox),
      colour_(new QComboBox),
      slider_(new QSlider(Qt::Horizontal)),
      play_button_(new QPushButton(tr("Play"))),
      status_(new QLabel(tr("Live embedding: frames appear during stage 2 (eval.live_embedding_images)"))) {
  auto* layout = new QVBoxLayout(this);
  auto* controls = new QHBoxLayout;
  method_->addItems({tr("t-SNE (warm-started)"), tr("PCA")});
  colour_->addItems({tr("by domain"), tr("by class")});
  controls->addWidget(method_);
  controls->addWidget(colour_);
  controls->addWidget(play_button_);
  controls->addWidget(new QLabel(tr("step")));
  controls->addWidget(slider_, 1);
  layout->addLayout(controls);
  auto* row = new QHBoxLayout;
  for (int i = 0; i < 2; ++i) {
    auto* plot = new QCustomPlot;
    plot->setMinimumSize(220, 200);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->xAxis->setTickLabels(false);
    plot->yAxis->setTickLabels(false);
    connect(plot, &QCustomPlot::mouseMove, this, [this, i](QMouseEvent* e) { hover(i, e); });
    row->addWidget(plot, 1);
    plots_.push_back(plot);
  }
  layout->addLayout(row, 1);
  status_->setWordWrap(true);
  layout->addWidget(status_);
  slider_->setRange(0, 0);
  slider_->setEnabled(false);
  play_button_->setEnabled(false);
  animation_.setInterval(kAnimationTickMs);
  connect(&animation_, &QTimer::timeout, this, &LiveEmbeddingView::animationTick);
  // Live frames come every few seconds while training takes the cores: a shorter first t-SNE and
  // fewer warm-started iterations than `fan figures` uses (each frame starts where the last one
  // ended, so points move continuously; bench/results/live_embedding.md).
  options_.first_iterations = 500;
  options_.warm_iterations = 150;
  play_.setInterval(kPlayIntervalMs);
  connect(&play_, &QTimer::timeout, this, [this] {
    const int next = laidOutAfter(shown_);
    if (next < 0) {
      setPlaying(false);
      return;
    }
    slider_->setValue(next);
  });
  connect(slider_, &QSlider::valueChanged, this, [this](int value) {
    // A frame not laid out yet (skipped while the run trains) shows the laid-out one before it.
    const int index = laidOutAtOrBefore(value);
    follow_ = value == slider_->maximum() && index == lastLaidOut();
    if (index < 0 || index == shown_) return;
    showFrame(index, /*animate=*/index == laidOutAfter(shown_));
  });
  connect(play_button_, &QPushButton::clicked, this, [this] { setPlaying(!play_.isActive()); });
  connect(method_, &QComboBox::currentIndexChanged, this, [this](int index) {
    options_.method = index == 1 ? analysis::LiveLayoutOptions::Method::kPca : analysis::LiveLayoutOptions::Method::kTsne;
    relayout();
  });
  connect(colour_, &QComboBox::currentIndexChanged, this, [this](int index) {
    by_class_ = index == 1;
    if (!drawn_logits_.empty()) drawPositions(drawn_logits_, drawn_hd_);
  });
}

LiveEmbeddingView::~LiveEmbeddingView() {
  if (cancel_) cancel_->store(true);
}

int64_t LiveEmbeddingView::shownStep() const { return shown_ >= 0 ? frames_[shown_]->step : -1; }

QStringList LiveEmbeddingView::legendNames(int p) const {
  QStringList names;
  auto* legend = plots_[p]->legend;
  for (int i = 0; i < legend->itemCount(); ++i)
    if (auto* item = qobject_cast<QCPPlottableLegendItem*>(legend->item(i))) names << item->plottable()->name();
  return names;
}

void LiveEmbeddingView::clear() {
  if (cancel_) cancel_->store(true);
  ++generation_;
  computing_ = false;
  frames_.clear();
  images_frame_.reset();
  resetLayouts();
  live_ = false;
  shown_ = -1;
  follow_ = true;
  drawn_logits_.clear();
  drawn_hd_.clear();
  animation_.stop();
  setPlaying(false);
  for (auto* plot : plots_) {
    plot->clearGraphs();
    plot->legend->setVisible(false);
    plot->replot();
  }
  slider_->setRange(0, 0);
  slider_->setEnabled(false);
  updateStatus();
}

void LiveEmbeddingView::startLive(const QString& source_name, const QString& target_name) {
  clear();
  source_name_ = source_name.toStdString();
  target_name_ = target_name.toStdString();
  live_ = true;
  status_->setText(tr("Live embedding: waiting for stage 2 (a frame at its start and at every preview point)"));
}

void LiveEmbeddingView::addFrame(const Frame& frame) {
  if (!frame || frame->rows <= 0) return;
  // A resumed run produces again the frames after its checkpoint: they replace the stored ones.
  size_t keep = frames_.size();
  while (keep > 0 && frames_[keep - 1]->step >= frame->step) --keep;
  if (keep < frames_.size()) {
    if (computing_ && computing_index_ >= static_cast<int>(keep)) {
      if (cancel_) cancel_->store(true);
      ++generation_;
      computing_ = false;
    }
    frames_.resize(keep);
    layouts_.resize(keep);
    methods_.resize(keep);
    if (shown_ >= static_cast<int>(keep)) shown_ = laidOutAtOrBefore(static_cast<int>(keep) - 1);
    slider_->setRange(0, std::max(0, lastLaidOut()));
    follow_ = true;
  }
  frames_.push_back(frame);
  layouts_.emplace_back();
  methods_.push_back(options_.method);
  if (static_cast<int64_t>(frame->images.size()) == frame->rows) images_frame_ = frame;
  updateStatus();
  layoutNext();
}

void LiveEmbeddingView::endLive() {
  if (!live_) return;
  live_ = false;
  // Frames laid out with PCA while the run took every core: again with the chosen method, in order.
  const bool stand_in = std::any_of(methods_.begin(), methods_.end(), [this](auto m) { return m != options_.method; });
  if (stand_in && laidOutCount() > 0) {
    relayout();
  } else {
    updateStatus();
    layoutNext();
  }
}

bool LiveEmbeddingView::usesEveryCore(int64_t training_threads) {
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  return training_threads <= 0 || training_threads >= cores;
}

analysis::LiveLayoutOptions::Method LiveEmbeddingView::methodNow() const {
  return live_ && busy_ ? analysis::LiveLayoutOptions::Method::kPca : options_.method;
}

int LiveEmbeddingView::loadRun(const QString& run_dir, bool follow) {
  clear();
  std::vector<std::string> skipped;
  try {
    const auto config = io::RunDirectory(run_dir.toStdString()).read_config();
    source_name_ = config.at("source").value("dataset", std::string("source"));
    target_name_ = config.at("target").value("dataset", std::string("target"));
    for (auto& f : io::read_embedding_frames(run_dir.toStdString(), &skipped))
      frames_.push_back(std::make_shared<const events::EmbeddingFrameEvent>(std::move(f)));
  } catch (const std::exception& e) {
    status_->setText(tr("Live embedding: cannot read the frames: %1").arg(QString::fromUtf8(e.what())));
    return 0;
  }
  resetLayouts();
  // A reopened run starts at its first frame; play replays the adaptation. A resumed one is followed live.
  follow_ = follow;
  live_ = follow;
  updateStatus();
  if (!skipped.empty()) status_->setText(status_->text() + " " + tr("(%n unreadable frame(s) skipped)", nullptr, static_cast<int>(skipped.size())));
  layoutNext();
  return frameCount();
}

void LiveEmbeddingView::setMethod(analysis::LiveLayoutOptions::Method method) {
  method_->setCurrentIndex(method == analysis::LiveLayoutOptions::Method::kPca ? 1 : 0);
}

void LiveEmbeddingView::setByClass(bool by_class) { colour_->setCurrentIndex(by_class ? 1 : 0); }

void LiveEmbeddingView::setPlaying(bool playing) {
  if (playing && laidOutCount() > 1) {
    if (laidOutAfter(shown_) < 0) slider_->setValue(laidOutAfter(-1));
    follow_ = false;
    play_.start();
    play_button_->setText(tr("Pause"));
  } else {
    play_.stop();
    play_button_->setText(tr("Play"));
  }
}

void LiveEmbeddingView::relayout() {
  // A new method: every frame is laid out again, from the first (t-SNE chains frame to frame).
  if (cancel_) cancel_->store(true);
  ++generation_;
  computing_ = false;
  const bool was_last = shown_ < 0 || shown_ == lastLaidOut();
  resetLayouts();
  shown_ = -1;
  follow_ = was_last;
  layoutNext();
}

void LiveEmbeddingView::resetLayouts() {
  layouts_.assign(frames_.size(), std::nullopt);
  methods_.assign(frames_.size(), options_.method);
}

int LiveEmbeddingView::laidOutAtOrBefore(int index) const {
  for (int i = std::min(index, frameCount() - 1); i >= 0; --i)
    if (layouts_[i]) return i;
  return -1;
}

int LiveEmbeddingView::laidOutAfter(int index) const {
  for (int i = std::max(0, index + 1); i < frameCount(); ++i)
    if (layouts_[i]) return i;
  return -1;
}

int LiveEmbeddingView::nextToLayOut() const {
  for (int i = 0; i < frameCount(); ++i)
    if (!layouts_[i]) return i;
  return -1;
}

void LiveEmbeddingView::layoutNext() {
  if (computing_) return;
  const int index = nextToLayOut();
  if (index < 0) return;
  computing_ = true;
  computing_index_ = index;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  auto cancel = cancel_;
  const auto frame = frames_[index];
  const int before_index = laidOutAtOrBefore(index - 1);
  auto options = options_;
  options.method = methodNow();
  // t-SNE warm-starts from the frame before only when that one is a t-SNE layout too.
  const bool chain = before_index >= 0 && methods_[before_index] == options.method;
  const auto previous = chain ? std::make_shared<analysis::LiveLayout>(*layouts_[before_index]) : nullptr;
  const int generation = generation_;
  auto* watcher = new QFutureWatcher<analysis::LiveLayout>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation, index, method = options.method] {
    watcher->deleteLater();
    if (generation != generation_) return;  // cleared or re-laid out meanwhile
    computing_ = false;
    analysis::LiveLayout layout;
    try {
      layout = watcher->result();
    } catch (const std::exception& e) {
      status_->setText(tr("Live embedding: the layout failed: %1").arg(QString::fromUtf8(e.what())));
      return;
    }
    if (layout.cancelled) return;
    layouts_[index] = std::move(layout);
    methods_[index] = method;
    slider_->setRange(0, lastLaidOut());
    slider_->setEnabled(laidOutCount() > 1);
    play_button_->setEnabled(laidOutCount() > 1);
    emit laidOut(index);
    if (shown_ < 0 || (follow_ && index > shown_)) {
      const bool animate = shown_ >= 0 && laidOutAfter(shown_) == index;
      showFrame(index, animate);
      const QSignalBlocker block(slider_);
      slider_->setValue(index);
    }
    updateStatus();
    layoutNext();
  });
  const bool yield = live_;
  watcher->setFuture(QtConcurrent::run([frame, previous, options, cancel, yield] {
    auto one_thread = options;
    one_thread.threads = 1;
    const auto stop = [cancel] { return cancel->load(); };
    // After the run (a replay, the t-SNE pass at its end) nothing of ours trains: normal priority, so
    // that another job on the machine (a sweep) does not starve the view.
    if (!yield) return analysis::layout_frame(*frame, previous.get(), one_thread, stop);
    // While it trains the layout yields to it: one thread under SCHED_IDLE (it runs only when a core
    // has nothing else to do, and any waking training thread preempts it; Linux schedules threads,
    // not processes), restored afterwards since the pool thread is shared. Where SCHED_IDLE is
    // refused, the lowest nice.
    const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
    const int policy_before = ::sched_getscheduler(tid);
    sched_param param_before{};
    ::sched_getparam(tid, &param_before);
    errno = 0;
    const int nice_before = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
    const bool nice_known = errno == 0;
    const sched_param idle{};
    if (::sched_setscheduler(tid, SCHED_IDLE, &idle) != 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19);
    struct Restore {
      pid_t tid;
      int policy;
      sched_param param;
      int nice;
      bool nice_known;
      ~Restore() {
        if (policy >= 0) ::sched_setscheduler(tid, policy, &param);
        if (nice_known) ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), nice);
      }
    } restore{tid, policy_before, param_before, nice_before, nice_known};
    return analysis::layout_frame(*frame, previous.get(), one_thread, stop);
  }));
  updateStatus();
}

void LiveEmbeddingView::showFrame(int index, bool animate) {
  if (!isLaidOut(index)) return;
  const auto& layout = *layouts_[index];
  const bool can_animate = animate && drawn_logits_.size() == layout.logits_xy.size() &&
                           drawn_hd_.size() == layout.hd_xy.size();
  shown_ = index;
  if (can_animate) {
    from_logits_ = drawn_logits_;
    from_hd_ = drawn_hd_;
    animation_step_ = 0;
    animation_.start();
  } else {
    animation_.stop();
    drawPositions(layout.logits_xy, layout.hd_xy);
  }
  updateStatus();
  emit shown(index);
}

void LiveEmbeddingView::animationTick() {
  if (shown_ < 0) {
    animation_.stop();
    return;
  }
  ++animation_step_;
  const double t = isVisible() ? std::min(1.0, static_cast<double>(animation_step_) / kAnimationTicks) : 1.0;
  const double s = t * t * (3 - 2 * t);  // ease in and out
  const auto& to = *layouts_[shown_];
  auto mix = [s](const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<float> out(b.size());
    for (size_t k = 0; k < b.size(); ++k) out[k] = static_cast<float>(a[k] + s * (b[k] - a[k]));
    return out;
  };
  drawPositions(mix(from_logits_, to.logits_xy), mix(from_hd_, to.hd_xy));
  if (t >= 1) animation_.stop();
}

void LiveEmbeddingView::drawPositions(const std::vector<float>& logits_xy, const std::vector<float>& hd_xy) {
  if (shown_ < 0) return;
  const auto& frame = *frames_[shown_];
  drawn_logits_ = logits_xy;
  drawn_hd_ = hd_xy;
  // Hidden (another tab, a closed dock): no drawing while training runs; drawn when shown.
  if (!isVisible()) {
    stale_ = true;
    return;
  }
  stale_ = false;
  const std::pair<const std::vector<float>*, const char*> spaces[] = {{&drawn_logits_, "logits"},
                                                                      {&drawn_hd_, "domain-specific (hd)"}};
  for (int p = 0; p < 2; ++p) {
    auto* plot = plots_[p];
    if (spaces[p].first->empty()) {
      plot->clearGraphs();
      plot->replot();
      continue;
    }
    auto figure = analysis::live_figure(frame, *spaces[p].first, by_class_, spaces[p].second, source_name_, target_name_);
    widgets::FigureRenderer::drawScatter(*plot, figure, kMarkerSize);
    // A dock is narrow: a smaller title, and a compact legend in a corner.
    if (auto* title = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0)))
      title->setFont(QFont("sans", 9, QFont::Bold));
    plot->legend->setFont(QFont("sans", 7));
    plot->legend->setIconSize(8, 8);
    plot->legend->setRowSpacing(0);
    plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    plot->replot(QCustomPlot::rpQueuedReplot);
  }
}

void LiveEmbeddingView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (stale_ && shown_ >= 0) drawPositions(std::vector<float>(drawn_logits_), std::vector<float>(drawn_hd_));
}

void LiveEmbeddingView::updateStatus() {
  if (frameCount() == 0) return;
  const QString method = methodNow() == analysis::LiveLayoutOptions::Method::kPca ? tr("PCA") : tr("t-SNE");
  QString text = tr("%1 of %n frame(s) laid out (%2)", nullptr, frameCount()).arg(laidOutCount()).arg(method);
  if (shown_ >= 0)
    text += " — " + tr("step %1 of stage 2; %2 source and %3 target test images")
                        .arg(frames_[shown_]->step)
                        .arg(std::count(frames_[shown_]->domain.begin(), frames_[shown_]->domain.end(), 0))
                        .arg(std::count(frames_[shown_]->domain.begin(), frames_[shown_]->domain.end(), 1));
  if (computing_) text += " — " + tr("laying out the next frame…");
  if (live_ && busy_ && options_.method != analysis::LiveLayoutOptions::Method::kPca)
    text += " — " + tr("PCA while training takes every core (t-SNE would slow it down); t-SNE when the run ends. "
                       "Leave a core free (Run → threads) for t-SNE frame by frame");
  status_->setText(text);
}

void LiveEmbeddingView::hover(int p, QMouseEvent* event) {
  const auto& xy = p == 0 ? drawn_logits_ : drawn_hd_;
  if (shown_ < 0 || xy.empty()) return;
  auto* plot = plots_[p];
  const auto& frame = *frames_[shown_];
  const int64_t best = widgets::nearest_point(*plot, xy, event->position());
  if (best < 0) {
    QToolTip::hideText();
    return;
  }
  const auto* row = &frame.logits[static_cast<size_t>(best * frame.logit_cols)];
  const int predicted = static_cast<int>(std::max_element(row, row + frame.logit_cols) - row);
  const int domain = frame.domain[best];
  QString image_html;
  // A reopened run's test images, else (a live run) those its first frame carried.
  const bool live_image = !thumbnails_ && images_frame_ && images_frame_->rows == frame.rows &&
                          images_frame_->index[best] == frame.index[best] && images_frame_->domain[best] == domain;
  if (thumbnails_ || live_image) {
    const QImage image = thumbnails_ ? thumbnails_(domain, frame.index[best])
                                     : to_qimage(images_frame_->images[static_cast<size_t>(best)]);
    if (!image.isNull()) {
      QByteArray png;
      QBuffer buffer(&png);
      buffer.open(QIODevice::WriteOnly);
      image.scaled(56, 56).save(&buffer, "PNG");
      image_html = QString("<img src='data:image/png;base64,%1'/><br>").arg(QString::fromLatin1(png.toBase64()));
    }
  }
  QToolTip::showText(event->globalPosition().toPoint(),
                     image_html + tr("%1 (%2) #%3<br>true %4, predicted %5")
                                      .arg(domain == 0 ? tr("source") : tr("target"))
                                      .arg(QString::fromStdString(domain == 0 ? source_name_ : target_name_))
                                      .arg(frame.index[best])
                                      .arg(frame.label[best])
                                      .arg(predicted),
                     plot);
}

}  // namespace fan::app
