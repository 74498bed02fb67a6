// The embedding panel's live mode: each frame of a running stage 2 as it comes (t-SNE warm-started
// from the previous frame, or PCA), or a reopened run's stored frames with a step slider and play/pause.
#pragma once
#include "core/analysis/live_embedding.h"
#include "core/events/events.h"

#include <QImage>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include <atomic>
#include <functional>
#include <memory>
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
  // A reopened run: its stored frames (RUN_DIR/embedding), for the slider; the domains' names
  // from its config.json. Returns how many. `follow`: show new frames as they come (a resumed run).
  int loadRun(const QString& run_dir, bool follow = false);
  void clear();
  void setThumbnails(Thumbnails thumbnails) { thumbnails_ = std::move(thumbnails); }
  void setMethod(analysis::LiveLayoutOptions::Method method);
  void setByClass(bool by_class);
  void setPlaying(bool playing);

  int frameCount() const { return static_cast<int>(frames_.size()); }
  int laidOutCount() const { return static_cast<int>(layouts_.size()); }
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

 private:
  void layoutNext();
  void showFrame(int index, bool animate);
  void drawPositions(const std::vector<float>& logits_xy, const std::vector<float>& hd_xy);
  void animationTick();
  void relayout();
  void hover(int plot, QMouseEvent* event);
  void updateStatus();

  std::vector<Frame> frames_;
  std::vector<analysis::LiveLayout> layouts_;  // layouts_[i] is frames_[i]'s, computed in order
  analysis::LiveLayoutOptions options_;
  bool by_class_ = false;
  bool computing_ = false;
  int generation_ = 0;  // bumped by clear() and a method change: a layout of an older generation is dropped
  bool follow_ = true;  // show each new frame as soon as it is laid out
  int shown_ = -1;
  std::string source_name_ = "source", target_name_ = "target";
  std::shared_ptr<std::atomic<bool>> cancel_;
  // Interpolation from the shown positions to the next frame's (points travel instead of jumping).
  std::vector<float> from_logits_, from_hd_, drawn_logits_, drawn_hd_;
  int animation_step_ = 0;
  QTimer animation_, play_;
  Thumbnails thumbnails_;

  QVector<QCustomPlot*> plots_;
  QComboBox *method_, *colour_;
  QSlider* slider_;
  QPushButton* play_button_;
  QLabel* status_;
};

}  // namespace fan::app
