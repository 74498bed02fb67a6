// Mixed precision scope.
#include "core/train/autocast.h"

#include <ATen/autocast_mode.h>

namespace fan::train {

AutocastScope::AutocastScope(bool on) : on_(on) {
  if (!on_) return;
  was_enabled_ = at::autocast::is_enabled();
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  at::autocast::set_enabled(true);
}

AutocastScope::~AutocastScope() {
  if (!on_) return;
  at::autocast::set_enabled(was_enabled_);
  if (!was_enabled_) at::autocast::clear_cache();
}

}  // namespace fan::train
