// The embedding panel's live mode: each frame of a running stage 2 as it comes (t-SNE warm-started
// from the previous frame, or PCA), or a reopened run's stored frames with a step slider and play/pause.
#pragma once
#include "core/analysis/live_embedding.h"
#include "core/events/events.h"

#include <QImage>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QCustomPlot;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QMouseEvent;

namespace fan::app {

class LiveEmbeddingView : public QWidget {
  Q_OBJECT
 public:
  using Frame = std::shared_ptr<const events::EmbeddingFrameEvent>;
  // A test image of a domain (0 source, 1 target) by its row, for the hover thumbnail; null image: none.
  using Thumbnails = std::function<QImage(int domain, int index)>;

  explicit LiveEmbeddingView(QWidget* parent = nullptr);
  ~LiveEmbeddingView() override;

  // A run starts: forget the frames, follow the new ones as they come.
  void startLive(const QString& source_name, const QString& target_name);
  void addFrame(const Frame& frame);
  // The run ended (finished or stopped): frames laid out with PCA while it trained are laid out
  // again with the chosen method (t-SNE).
  void endLive();
  // Whether the run's training takes every core. Then any layout work takes CPU from training (an
  // OpenMP team waits at its barrier for a preempted thread): while it trains, frames are laid out
  // with PCA (milliseconds), t-SNE when it ends. With a core to spare, t-SNE frame by frame.
  void setTrainingUsesEveryCore(bool busy) { busy_ = busy; }
  bool trainingUsesEveryCore() const { return busy_; }
  // For a run with `training_threads` intra-op threads (0: all cores) on this machine.
  static bool usesEveryCore(int64_t training_threads);
  // The method frame `frame`'s layout used (PCA while a busy run trains).
  analysis::LiveLayoutOptions::Method laidOutWith(int frame) const { return methods_.at(static_cast<size_t>(frame)); }
  // A reopened run: its stored frames (RUN_DIR/embedding), for the slider; the domains' names
  // from its config.json. Returns how many. `follow`: show new frames as they come (a resumed run).
  int loadRun(const QString& run_dir, bool follow = false);
  void clear();
  void setThumbnails(Thumbnails thumbnails) { thumbnails_ = std::move(thumbnails); }
  void setMethod(analysis::LiveLayoutOptions::Method method);
  void setByClass(bool by_class);
  void setPlaying(bool playing);

  int frameCount() const { return static_cast<int>(frames_.size()); }
  int laidOutCount() const {
    return static_cast<int>(std::count_if(layouts_.begin(), layouts_.end(), [](const auto& l) { return l.has_value(); }));
  }
  bool isLaidOut(int frame) const { return frame >= 0 && frame < frameCount() && layouts_[frame].has_value(); }
  int shownFrame() const { return shown_; }  // -1: none yet
  int64_t shownStep() const;
  bool busy() const { return computing_; }
  // The names in the plots' legends (the first plot: logits).
  QStringList legendNames(int plot = 0) const;
  QCustomPlot* plot(int i) const { return plots_[i]; }
  QSlider* slider() const { return slider_; }

 signals:
  // A frame's layout is ready (index into the frames).
  void laidOut(int frame);
  void shown(int frame);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void layoutNext();
  // The frame to lay out next (-1: none), in order.
  int nextToLayOut() const;
  // The method for layouts now: PCA while a busy run trains, else the chosen one.
  analysis::LiveLayoutOptions::Method methodNow() const;
  // The laid-out frame nearest at or before `index` (-1: none), and the first after it.
  int laidOutAtOrBefore(int index) const;
  int laidOutAfter(int index) const;
  int lastLaidOut() const { return laidOutAtOrBefore(frameCount() - 1); }
  void resetLayouts();
  void showFrame(int index, bool animate);
  void drawPositions(const std::vector<float>& logits_xy, const std::vector<float>& hd_xy);
  void animationTick();
  void relayout();
  void hover(int plot, QMouseEvent* event);
  void updateStatus();

  std::vector<Frame> frames_;
  std::vector<std::optional<analysis::LiveLayout>> layouts_;  // layouts_[i] is frames_[i]'s once laid out
  analysis::LiveLayoutOptions options_;
  bool by_class_ = false;
  bool computing_ = false;
  int computing_index_ = -1;
  bool live_ = false;  // following a run that trains
  bool busy_ = false;  // its training takes every core
  std::vector<analysis::LiveLayoutOptions::Method> methods_;  // per laid-out frame: the method used
  int generation_ = 0;  // bumped by clear() and a method change: a layout of an older generation is dropped
  bool follow_ = true;  // show each new frame as soon as it is laid out
  int shown_ = -1;
  std::string source_name_ = "source", target_name_ = "target";
  std::shared_ptr<std::atomic<bool>> cancel_;
  // Interpolation from the shown positions to the next frame's (points travel instead of jumping).
  std::vector<float> from_logits_, from_hd_, drawn_logits_, drawn_hd_;
  int animation_step_ = 0;
  bool stale_ = false;  // positions changed while hidden: drawn when shown
  QTimer animation_, play_;
  Thumbnails thumbnails_;
  Frame images_frame_;  // a live run's frame that carried the sample's images (hover thumbnails)

  QVector<QCustomPlot*> plots_;
  QComboBox *method_, *colour_;
  QSlider* slider_;
  QPushButton* play_button_;
  QLabel* status_;
};

}  // namespace fan::app
