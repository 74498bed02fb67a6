// A run's trained networks and test images, for the inspector and the embedding plot.
#pragma once
#include "core/analysis/features.h"

#include <QImage>
#include <QString>

#include <mutex>
#include <vector>

namespace fan::app {

enum class Domain { kSource, kTarget };
// Which representation of an image: the logits, hd or ht.
enum class Space { kLogits, kDomainSpecific, kTaskSpecific };

// Owns tensors: used from worker threads only (QtConcurrent); calls are serialised.
class RunModel {
 public:
  // Loads the run's config, test sets and last checkpoint (read-only); throws fan::Error.
  explicit RunModel(const QString& run_dir);

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

  // One forward pass over the given test images: every subspace, labels and
  // predictions. Before adaptation both domains go through the source network;
  // after it, target images go through the target network (source images stay
  // with the frozen source network, as the discriminator saw them).
  struct Encoded {
    analysis::Features features;
    std::vector<int> labels, predicted;
    // Rows of one subspace as floats (n × dimension, row-major).
    std::vector<float> rows(Space space, int* dimension) const;
    const torch::Tensor& tensor(Space space) const;
  };
  Encoded encode(Domain domain, const std::vector<int>& indices, bool after_adaptation) const;

  // Proxy A-distance between the domains in `space` (2 = separable, 0 = not).
  static double proxyADistance(const Encoded& source, const Encoded& target, Space space);

 private:
  const data::Dataset& test(Domain d) const { return d == Domain::kSource ? run_.source_test : run_.target_test; }
  models::FanNet& adapted_net() const { return run_.adapted() ? run_.target : run_.source; }

  QString run_dir_;
  mutable analysis::RunModels run_;
  mutable std::mutex mutex_;
};

}  // namespace fan::app
