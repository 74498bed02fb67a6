// Mixed precision on CUDA: bfloat16 autocast around forward passes and losses.
#pragma once

namespace fan::train {

// While alive and `on`, CUDA ops autocast to bfloat16 (no loss scaling needed,
// unlike float16); on destruction the previous state returns and the cast
// cache is cleared. Backward passes run outside it. A no-op when `on` is false
// and for CPU tensors (CPU autocast is not enabled).
class AutocastScope {
 public:
  explicit AutocastScope(bool on);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  bool was_enabled_ = false;
};

}  // namespace fan::train
