// Where an experiment's images come from: tensors in memory (digits) or files
// decoded batch by batch on worker threads (image folders that need not fit in
// memory), behind one interface; and the shuffled batch stream over either.
#pragma once
#include "core/data/batcher.h"
#include "core/data/dataset.h"
#include "core/data/domain.h"
#include "core/data/image_folder.h"

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace fan::data {

struct Batch {
  torch::Tensor images;   // N×C×H×W float in [0, 1]
  torch::Tensor labels;   // N int64
  torch::Tensor indices;  // N int64, rows of the set
};

class ImageSet {
 public:
  virtual ~ImageSet() = default;
  virtual int64_t size() const = 0;
  virtual int64_t num_classes() const = 0;
  virtual const std::string& name() const = 0;
  virtual const torch::Tensor& labels() const = 0;  // all labels, N int64
  // The images at `indices`. `augment`: the training view (random crop and
  // flip, drawn from `seed` alone, so the same batch always looks the same);
  // otherwise the test view (centre crop). In-memory sets have no augmentation.
  virtual torch::Tensor images(const torch::Tensor& indices, bool augment, uint64_t seed) const = 0;
  // True when images() decodes files (worth doing on worker threads).
  virtual bool streams() const = 0;
};

// A Dataset held as tensors (on the device they are on).
class MemorySet : public ImageSet {
 public:
  explicit MemorySet(Dataset data) : data_(std::move(data)) {}
  int64_t size() const override { return data_.size(); }
  int64_t num_classes() const override { return data_.num_classes; }
  const std::string& name() const override { return data_.name; }
  const torch::Tensor& labels() const override { return data_.labels; }
  torch::Tensor images(const torch::Tensor& indices, bool augment, uint64_t seed) const override;
  bool streams() const override { return false; }
  const Dataset& dataset() const { return data_; }

 private:
  Dataset data_;
};

// Image files, decoded on demand: read → channels → resize to R×R (R =
// preprocess.resize, or preprocess.size when 0) → crop size×size → [flip].
class FileSet : public ImageSet {
 public:
  FileSet(std::vector<LabelledFile> files, int64_t num_classes, std::string name, Preprocess preprocess);
  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  int64_t num_classes() const override { return num_classes_; }
  const std::string& name() const override { return name_; }
  const torch::Tensor& labels() const override { return labels_; }
  torch::Tensor images(const torch::Tensor& indices, bool augment, uint64_t seed) const override;
  bool streams() const override { return true; }
  const std::vector<LabelledFile>& files() const { return files_; }

 private:
  std::vector<LabelledFile> files_;
  int64_t num_classes_;
  std::string name_;
  Preprocess preprocess_;
  torch::Tensor labels_;
};

struct StreamedDomain {
  std::shared_ptr<FileSet> train, test;
  std::vector<std::string> class_names;
  std::string info;
};
// An image-folder domain (spec.dataset == "folder") as file sets: the folder's
// train/test split, the protocol applied to the training files (sampled or
// per-class fraction, seeded). Nothing is decoded here.
StreamedDomain stream_folder_domain(const DomainSpec& spec, const Preprocess& preprocess,
                                    const std::filesystem::path& data_root, uint64_t seed);

// Loader threads for `workers` (0: min(4, cores)).
int64_t loader_threads(int64_t workers);

// Endless shuffled batches (Batcher order) over a set. For streaming sets, up
// to `workers` batches are decoded ahead on worker threads. The position
// (epoch, cursor) is that after the last batch next() returned, so a resumed
// stream (restore) gives exactly the batches the uninterrupted one would,
// augmentation included. Errors of a worker (an unreadable file) surface from next().
class BatchStream {
 public:
  // `load_images` false: batches carry indices and labels only (for a consumer
  // that needs no pixels, e.g. stage 2 with precomputed source logits).
  BatchStream(std::shared_ptr<const ImageSet> set, int64_t batch_size, uint64_t seed, bool augment,
              int64_t workers, bool load_images = true);
  ~BatchStream();
  BatchStream(const BatchStream&) = delete;
  BatchStream& operator=(const BatchStream&) = delete;

  Batch next();
  int64_t epoch() const { return epoch_; }
  int64_t cursor() const { return cursor_; }
  void restore(int64_t epoch, int64_t cursor);
  int64_t batches_per_epoch() const { return batcher_.batches_per_epoch(); }
  // Seconds next() spent waiting for a batch that was not decoded yet: the
  // time the network waited on the loader (0 for in-memory sets).
  double waited_seconds() const { return waited_; }

 private:
  struct Pending {
    std::future<Batch> batch;
    int64_t epoch, cursor;  // the position after this batch
  };
  void fill();
  std::shared_ptr<const ImageSet> set_;
  Batcher batcher_;  // runs ahead of the consumer by the batches pending
  uint64_t seed_;
  bool augment_;
  bool load_images_;
  int64_t depth_;
  std::deque<Pending> pending_;
  int64_t epoch_ = 0, cursor_ = 0;
  double waited_ = 0;
};

// Calls `fn` on the set's test view in order, batch by batch (the last one
// may be smaller), decoding ahead on `workers` threads for streaming sets.
void for_each_batch(const ImageSet& set, int64_t batch_size, int64_t workers,
                    const std::function<void(const Batch&)>& fn, int64_t limit = -1);

}  // namespace fan::data
