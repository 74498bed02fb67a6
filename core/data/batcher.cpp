// Shuffled mini-batches over an in-memory set, reproducible from (seed, epoch).
#include "core/data/batcher.h"

#include "core/data/preprocess.h"
#include "core/util/error.h"

#include <algorithm>

namespace fan::data {

Batcher::Batcher(int64_t size, int64_t batch_size, uint64_t seed, bool drop_last)
    : size_(size), batch_size_(std::min(batch_size, size)), seed_(seed), drop_last_(drop_last) {
  if (size < 1) throw Error("Batcher: the data set is empty");
  if (batch_size < 1) throw Error("batch size must be at least 1, not " + std::to_string(batch_size));
  reshuffle();
}

int64_t Batcher::batches_per_epoch() const {
  return drop_last_ ? size_ / batch_size_ : (size_ + batch_size_ - 1) / batch_size_;
}

void Batcher::reshuffle() {
  // The epoch's permutation depends on (seed, epoch) only, never on how many
  // batches were drawn before: that is what makes restore() exact.
  const uint64_t epoch_seed = mix_seed(seed_) ^ mix_seed(0xba7c4e5ULL + static_cast<uint64_t>(epoch_));
  permutation_ = torch::tensor(permutation(size_, epoch_seed), torch::kInt64);
}

torch::Tensor Batcher::next() {
  if (cursor_ >= batches_per_epoch()) {
    ++epoch_;
    cursor_ = 0;
    reshuffle();
  }
  const int64_t start = cursor_ * batch_size_;
  const int64_t length = std::min(batch_size_, size_ - start);
  ++cursor_;
  return permutation_.narrow(0, start, length).clone();
}

void Batcher::restore(int64_t epoch, int64_t cursor) {
  if (epoch < 0 || cursor < 0 || cursor > batches_per_epoch()) {
    throw Error("Batcher::restore: invalid state (epoch " + std::to_string(epoch) + ", cursor " +
                std::to_string(cursor) + ", " + std::to_string(batches_per_epoch()) + " batches per epoch)");
  }
  epoch_ = epoch;
  cursor_ = cursor;
  reshuffle();
}

}  // namespace fan::data
