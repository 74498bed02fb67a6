// Shuffled mini-batches over an in-memory set, reproducible from (seed, epoch).
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace fan::data {

// An endless stream of index batches. Each epoch is a fresh permutation drawn
// from (seed, epoch) alone, so the state is just (epoch, cursor): a resumed run
// that restores it sees exactly the batches an uninterrupted run would.
class Batcher {
 public:
  // drop_last: an epoch's tail smaller than batch_size is skipped (training);
  // the batch size is clamped to `size` for tiny sets.
  Batcher(int64_t size, int64_t batch_size, uint64_t seed, bool drop_last = true);

  torch::Tensor next();  // int64 indices, length batch_size (or the tail)
  int64_t epoch() const { return epoch_; }
  int64_t cursor() const { return cursor_; }
  int64_t batches_per_epoch() const;
  int64_t batch_size() const { return batch_size_; }
  void restore(int64_t epoch, int64_t cursor);

 private:
  void reshuffle();
  int64_t size_;
  int64_t batch_size_;
  uint64_t seed_;
  bool drop_last_;
  int64_t epoch_ = 0;
  int64_t cursor_ = 0;
  torch::Tensor permutation_;
};

}  // namespace fan::data
