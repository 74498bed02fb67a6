// The embedding plot (Fig. 5): t-SNE or PCA of test images of both domains, in the logit
// space and the domain-specific subspace, before and after adaptation.
#pragma once
#include "run_model.h"

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

// One 2-D view: points of both domains (sources first).
struct EmbeddingView {
  QString title;
  QVector<double> x, y;
  QVector<int> domain;     // 0 source, 1 target
  QVector<int> label, predicted, index;
  double kl = 0;
  // Proxy A-distances (only in the first view): logits, ht, hd × before, after.
  QVector<double> a_distance;
};

class EmbeddingPanel : public QWidget {
  Q_OBJECT
 public:
  explicit EmbeddingPanel(QWidget* parent = nullptr);
  ~EmbeddingPanel() override;
  void setModel(std::shared_ptr<RunModel> model);
  // Starts the computation off the GUI thread; `computed` fires when shown.
  void compute();
  void cancel();
  const QVector<EmbeddingView>& views() const { return views_; }
  bool exportCsv(const QString& path) const;
  bool exportPng(const QString& path) const;
  void setPointsPerDomain(int n);
  void setMethod(const QString& method);  // "t-SNE" | "PCA"

 signals:
  void computed();
  void failed(const QString& error);

 private:
  void draw();
  void hover(int view, QMouseEvent* event);
  std::shared_ptr<RunModel> model_;
  QVector<QCustomPlot*> plots_;
  QVector<EmbeddingView> views_;
  QComboBox *method_, *colour_;
  QLineEdit *perplexity_, *points_;
  QProgressBar* progress_;
  QPushButton* compute_button_;
  QLabel* status_;
  QLabel* a_distance_;
  std::shared_ptr<std::atomic<bool>> cancel_;
};

}  // namespace fan::app
