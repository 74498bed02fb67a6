// In-memory and streamed image sets, and the batch stream over them.
#include "core/data/image_set.h"

#include "core/data/image_io.h"
#include "core/data/preprocess.h"
#include "core/util/error.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace fan::data {
namespace {

Batch make_batch(const ImageSet& set, const torch::Tensor& indices, bool augment, uint64_t seed,
                 bool load_images = true) {
  Batch b;
  b.indices = indices;
  if (load_images) b.images = set.images(indices, augment, seed);
  b.labels = set.labels().index_select(0, indices.to(set.labels().device()));
  return b;
}

// A batch's augmentation seed from the stream's seed and the batch's position.
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t cursor) {
  return mix_seed(seed ^ mix_seed((static_cast<uint64_t>(epoch) << 32) + static_cast<uint64_t>(cursor)));
}

}  // namespace

torch::Tensor MemorySet::images(const torch::Tensor& indices, bool /*augment*/, uint64_t /*seed*/) const {
  return data_.images.index_select(0, indices.to(data_.images.device()));
}

FileSet::FileSet(std::vector<LabelledFile> files, int64_t num_classes, std::string name, Preprocess preprocess)
    : files_(std::move(files)), num_classes_(num_classes), name_(std::move(name)), preprocess_(std::move(preprocess)) {
  std::vector<int64_t> labels;
  labels.reserve(files_.size());
  for (const auto& f : files_) labels.push_back(f.label);
  labels_ = torch::tensor(labels, torch::kInt64);
}

torch::Tensor FileSet::images(const torch::Tensor& indices, bool augment, uint64_t seed) const {
  const auto idx = indices.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t size = preprocess_.size;
  const int64_t resize = std::max(preprocess_.resize, size);
  auto out = torch::empty({idx.numel(), preprocess_.channels, size, size}, torch::kFloat32);
  for (int64_t k = 0; k < idx.numel(); ++k) {
    const int64_t i = idx.data_ptr<int64_t>()[k];
    if (i < 0 || i >= this->size()) throw Error(name_ + ": image index " + std::to_string(i) + " out of range");
    auto image = read_image(files_[static_cast<size_t>(i)].path).unsqueeze(0);
    image = preprocess_.channels == 1 ? to_grey(image) : to_rgb(image);
    image = resize_images(image, resize, resize);
    if (resize > size) {
      if (augment) {
        std::mt19937_64 rng(mix_seed(seed + static_cast<uint64_t>(k)));
        std::uniform_int_distribution<int64_t> offset(0, resize - size);
        const int64_t top = offset(rng), left = offset(rng);
        image = image.narrow(2, top, size).narrow(3, left, size);
      } else {
        image = centre_crop(image, size);
      }
    }
    if (augment && preprocess_.flip && (mix_seed(seed ^ (0xF11FULL + static_cast<uint64_t>(k))) & 1U))
      image = image.flip({3});
    out[k].copy_(image[0]);
  }
  return out;
}

StreamedDomain stream_folder_domain(const DomainSpec& spec, const Preprocess& preprocess,
                                    const std::filesystem::path& data_root, uint64_t seed) {
  if (spec.dataset != "folder")
    throw Error("data.loader: \"stream\" reads image folders only; " + spec.dataset +
                " is loaded into memory (set data.loader to \"memory\" or dataset to \"folder\")");
  const auto root = resolve_folder(spec.folder, data_root);
  FolderListing listing = list_image_folder(root);
  const auto num_classes = static_cast<int64_t>(listing.class_names.size());
  if (listing.test.empty()) throw Error(root.string() + ": no test images (each class needs at least two images)");
  // The protocol picks training files; a labels-only Dataset carries their classes.
  Dataset labels_only;
  labels_only.num_classes = num_classes;
  labels_only.name = root.string();
  {
    std::vector<int64_t> labels;
    for (const auto& f : listing.train) labels.push_back(f.label);
    labels_only.labels = torch::tensor(labels, torch::kInt64);
  }
  const auto chosen = protocol_indices(labels_only, static_cast<int64_t>(listing.train.size()), spec, seed);
  std::vector<LabelledFile> train = listing.train;
  if (chosen.defined()) {
    train.clear();
    const auto* rows = chosen.data_ptr<int64_t>();
    for (int64_t k = 0; k < chosen.numel(); ++k) train.push_back(listing.train[static_cast<size_t>(rows[k])]);
  }
  const std::string base = root.filename().string().empty() ? root.parent_path().filename().string()
                                                             : root.filename().string();
  StreamedDomain d;
  d.train = std::make_shared<FileSet>(std::move(train), num_classes, base + "/train", preprocess);
  d.test = std::make_shared<FileSet>(std::move(listing.test), num_classes, base + "/test", preprocess);
  d.class_names = std::move(listing.class_names);
  d.info = std::move(listing.info);
  return d;
}

int64_t loader_threads(int64_t workers) {
  if (workers > 0) return workers;
  return std::clamp<int64_t>(static_cast<int64_t>(std::thread::hardware_concurrency()), 1, 4);
}

BatchStream::BatchStream(std::shared_ptr<const ImageSet> set, int64_t batch_size, uint64_t seed, bool augment,
                         int64_t workers, bool load_images)
    : set_(std::move(set)),
      batcher_(set_->size(), batch_size, seed),
      seed_(seed),
      augment_(augment),
      load_images_(load_images),
      depth_(set_->streams() && load_images ? loader_threads(workers) : 0) {}

// The futures of std::async(launch::async) wait in their destructors, so no
// decode outlives the stream; deferred ones are simply dropped.
BatchStream::~BatchStream() = default;

void BatchStream::fill() {
  while (static_cast<int64_t>(pending_.size()) < std::max<int64_t>(1, depth_)) {
    const uint64_t bseed = batch_seed(seed_, batcher_.epoch(), batcher_.cursor());
    const auto indices = batcher_.next();
    Pending p;
    p.epoch = batcher_.epoch();
    p.cursor = batcher_.cursor();
    const auto policy = depth_ > 0 ? std::launch::async : std::launch::deferred;
    p.batch = std::async(policy, [set = set_, indices, augment = augment_, bseed, load = load_images_] {
      return make_batch(*set, indices, augment, bseed, load);
    });
    pending_.push_back(std::move(p));
  }
}

Batch BatchStream::next() {
  fill();
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  const auto asked = std::chrono::steady_clock::now();
  Batch b = p.batch.get();  // rethrows a worker's error
  if (depth_ > 0) waited_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  epoch_ = p.epoch;
  cursor_ = p.cursor;
  if (depth_ > 0) fill();  // keep the workers busy while the network trains
  return b;
}

void BatchStream::restore(int64_t epoch, int64_t cursor) {
  pending_.clear();
  batcher_.restore(epoch, cursor);
  epoch_ = epoch;
  cursor_ = cursor;
}

void for_each_batch(const ImageSet& set, int64_t batch_size, int64_t workers,
                    const std::function<void(const Batch&)>& fn, int64_t limit) {
  const int64_t n = limit >= 0 ? std::min(limit, set.size()) : set.size();
  const int64_t depth = set.streams() ? loader_threads(workers) : 0;
  std::deque<std::future<Batch>> pending;
  int64_t begin = 0;
  auto launch = [&] {
    const int64_t count = std::min(batch_size, n - begin);
    const auto indices = torch::arange(begin, begin + count, torch::kInt64);
    begin += count;
    pending.push_back(std::async(depth > 0 ? std::launch::async : std::launch::deferred,
                                 [&set, indices] { return make_batch(set, indices, false, 0); }));
  };
  // On an exception the futures still pending wait in their destructors.
  while (begin < n && static_cast<int64_t>(pending.size()) < std::max<int64_t>(1, depth)) launch();
  while (!pending.empty()) {
    Batch b = pending.front().get();
    pending.pop_front();
    if (begin < n) launch();
    fn(b);
  }
}

}  // namespace fan::data
