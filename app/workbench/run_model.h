// A run's trained networks and test images, for the inspector and the embedding plot.
#pragma once
#include "core/analysis/embedding.h"
#include "core/analysis/features.h"

#include <QImage>
#include <QString>

#include <mutex>
#include <vector>

namespace fan::app {

enum class Domain { kSource, kTarget };

// Owns tensors: used from worker threads only (QtConcurrent); calls are serialised.
class RunModel {
 public:
  // Loads the run's config, test sets and last checkpoint (read-only); throws fan::Error.
  // `network`: "last" or a validator whose picked target network to use (analysis::load_run).
  explicit RunModel(const QString& run_dir, const QString& network = "last");
  QString network() const { return QString::fromStdString(run_.network); }

  QString runDir() const { return run_dir_; }
  bool adapted() const { return run_.adapted(); }
  bool hasDecoder() const { return run_.source->has_decoder(); }
  int count(Domain domain) const;
  int label(Domain domain, int index) const;
  QImage image(Domain domain, int index) const;
  // Indices of test images of `domain` with this label.
  std::vector<int> indicesOfClass(Domain domain, int label) const;

  struct Inspection {
    QImage target, source;
    QImage target_reconstruction, source_reconstruction;
    QImage swapped;  // decoder(target hd, source logits): Fig. 6b
    int target_label = -1, source_label = -1, source_index = -1;
    int target_predicted = -1;
  };
  // source_index < 0: a random source test image of the target image's class (seeded).
  Inspection inspect(int target_index, int source_index, unsigned seed) const;
  // decoder((1−α)·hd_a + α·hd_b, logits_a) for two target test images.
  QImage interpolate(int target_a, int target_b, double alpha) const;

  // Fig. 5 of this run (analysis::embedding_figures, under this model's lock).
  analysis::EmbeddingReport embed(const analysis::EmbeddingOptions& options,
                                  const std::function<void(double)>& progress,
                                  const std::function<bool()>& stop) const;

 private:
  const data::Dataset& test(Domain d) const { return d == Domain::kSource ? run_.source_test : run_.target_test; }
  models::FanNet& adapted_net() const { return run_.adapted() ? run_.target : run_.source; }

  QString run_dir_;
  mutable analysis::RunModels run_;
  mutable std::mutex mutex_;
};

}  // namespace fan::app
