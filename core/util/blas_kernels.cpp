#include "core/util/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace fan::util {

std::string blas_core_to_use(const BlasChoice& choice) {
  if (choice.user_set || choice.current != "Prescott") return {};
  // SkylakeX is the kernel set OpenBLAS itself picks on the Intel Xeons with AVX-512 it knows, so these
  // runs share its code path (and numbers) with theirs.
  if (choice.avx512) return "SkylakeX";
  if (choice.avx2) return "Haswell";
  return {};
}

std::string openblas_core_name() {
  using CoreName = char* (*)();
  auto* f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = f ? f() : nullptr;
  return name ? name : "";
}

BlasChoice blas_choice() {
  BlasChoice c;
  c.current = openblas_core_name();
  c.user_set = std::getenv("OPENBLAS_CORETYPE") != nullptr;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // libgcc's answers include the OS's support (XCR0) for the vector registers.
  c.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  c.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return c;
}

bool select_suitable_blas_kernels() {
  const auto core = blas_core_to_use(blas_choice());
  if (core.empty()) return false;
  ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  return true;
}

void restart_with_suitable_blas_kernels(char** argv) {
  if (select_suitable_blas_kernels()) ::execv("/proc/self/exe", argv);  // only returns on failure
}

}  // namespace fan::util
