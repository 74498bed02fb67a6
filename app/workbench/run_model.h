// A run's trained networks and test images, for the inspector and the embedding plot.
#pragma once
#include <QImage>
#include <QString>

#include <memory>
#include <mutex>
#include <vector>

namespace fan::train {
class Experiment;
}

namespace fan::app {

enum class Domain { kSource, kTarget };
// Which representation of an image: the logits, hd or ht.
enum class Space { kLogits, kDomainSpecific, kTaskSpecific };

// Owns tensors: used from worker threads only (QtConcurrent); calls are serialised.
class RunModel {
 public:
  // Loads the run's config, data and last checkpoint; throws fan::Error.
  explicit RunModel(const QString& run_dir);
  ~RunModel();

  QString runDir() const { return run_dir_; }
  bool adapted() const { return stage_ >= 2; }
  bool hasDecoder() const;
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

  // Rows of features for the embedding plot: the logits or hd of the given
  // test images. Before adaptation both domains go through the source network;
  // after it, target images go through the target network (source images stay
  // with the frozen source network, as the discriminator saw them).
  std::vector<float> features(Domain domain, const std::vector<int>& indices, bool after_adaptation,
                              Space space, int* dimension) const;
  // Proxy A-distance between the domains in `space` (2 = separable, 0 = not),
  // on the given test images of each domain.
  double proxyADistance(const std::vector<int>& source, const std::vector<int>& target, bool after_adaptation,
                        Space space) const;
  std::vector<int> predictions(Domain domain, const std::vector<int>& indices, bool after_adaptation) const;

 private:
  QString run_dir_;
  std::unique_ptr<train::Experiment> experiment_;
  int stage_ = 1;
  mutable std::mutex mutex_;
};

}  // namespace fan::app
