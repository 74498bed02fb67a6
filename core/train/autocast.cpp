// Mixed precision scope.
#include "core/train/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

// LibTorch 2.4 gave autocast per-device-type calls and deprecated the CUDA-only ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define FAN_AUTOCAST_PER_DEVICE 1
#endif

namespace fan::train {

namespace {

bool cuda_autocast_enabled() {
#ifdef FAN_AUTOCAST_PER_DEVICE
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

void set_cuda_autocast(bool on) {
#ifdef FAN_AUTOCAST_PER_DEVICE
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, on);
#else
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(on);
#endif
}

}  // namespace

AutocastScope::AutocastScope(bool on) : on_(on) {
  if (!on_) return;
  was_enabled_ = cuda_autocast_enabled();
  set_cuda_autocast(true);
}

AutocastScope::~AutocastScope() {
  if (!on_) return;
  set_cuda_autocast(was_enabled_);
  if (!was_enabled_) at::autocast::clear_cache();
}

}  // namespace fan::train
