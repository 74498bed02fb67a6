// The embedding plot (Fig. 5): t-SNE or PCA of test images of both domains, in the logit
// space and the domain-specific subspace, before and after adaptation. The core computes
// (analysis::embedding_figures); this panel starts, cancels and draws.
#pragma once
#include "live_embedding_view.h"
#include "run_model.h"
#include "training_worker.h"

#include <QImage>
#include <QVector>
#include <QWidget>

#include <atomic>
#include <memory>

class QCustomPlot;
class QComboBox;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QLabel;

namespace fan::app {

class EmbeddingPanel : public QWidget {
  Q_OBJECT
 public:
  explicit EmbeddingPanel(QWidget* parent = nullptr);
  ~EmbeddingPanel() override;
  void setModel(std::shared_ptr<RunModel> model);
  // Starts the computation off the GUI thread; `computed` fires when shown.
  void compute();
  void cancel();
  // The views computed by the core (analysis::embedding_figures); the panel only draws them.
  const std::vector<analysis::EmbeddingView>& views() const { return report_.views; }
  const nlohmann::json& proxyADistance() const { return report_.proxy_a_distance; }
  bool exportCsv(const QString& path) const;
  bool exportPng(const QString& path) const;
  void setPointsPerDomain(int n);
  void setMethod(const QString& method);  // "t-SNE" | "PCA"

  // Live mode (the "Live" tab): a new run's frames as they come, or a resumed run's stored frames
  // followed by its new ones; a reopened run (setModel) replays its stored frames.
  // `training_threads`: the run's intra-op threads (0: all cores): with every core training, the live
  // view lays frames out with PCA until the run ends (LiveEmbeddingView::setTrainingUsesEveryCore).
  void startLive(const QString& run_dir, const QString& source_name, const QString& target_name,
                 int64_t training_threads = 0);
  void resumeLive(const QString& run_dir, int64_t training_threads = 0);
  // The run ended: the frames skipped while it trained are laid out.
  void endLive();
  void addLiveFrame(const fan::app::EmbeddingFrame& frame);
  LiveEmbeddingView* liveView() const { return live_; }

 signals:
  void computed();
  void failed(const QString& error);

 private:
  void draw();
  void hover(int view, QMouseEvent* event);
  const analysis::EmbeddingView* viewIn(int slot) const;  // the view drawn in plot `slot`, or null
  std::shared_ptr<RunModel> model_;
  QVector<QCustomPlot*> plots_;
  analysis::EmbeddingReport report_;
  QComboBox *method_, *colour_;
  QLineEdit *perplexity_, *points_;
  QProgressBar* progress_;
  QPushButton* compute_button_;
  QLabel* status_;
  QLabel* a_distance_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  QWidget* figure5_;
  LiveEmbeddingView* live_;
  QString live_dir_;  // the run whose frames the live view holds
  std::string source_name_ = "source", target_name_ = "target";  // Fig. 5's legend: "source: mnist"
};

}  // namespace fan::app
