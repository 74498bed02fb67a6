// OpenBLAS's kernels for processors newer than the OpenBLAS release. Debian 12's OpenBLAS (0.3.21, built
// with every x86 kernel set, DYNAMIC_ARCH) picks its kernels by the processor's family and model
// number; a model it does not know falls back to "Prescott", its SSE3 kernels, whatever the processor
// can do. On an Intel Xeon of family 6, model 207 (AVX-512) the training steps took 1.3× as long with
// Prescott's kernels as with SkylakeX's (bench/results/blas_kernels.md). OpenBLAS reads
// OPENBLAS_CORETYPE when it loads, before main(), so `fan` and the workbench start themselves again with
// it set. A user's own OPENBLAS_CORETYPE is kept; results.json's "cpu" records the kernels a run used.
#pragma once

#include <string>

namespace fan::util {

struct BlasChoice {
  std::string current;     // openblas_get_corename(): "Prescott", "SkylakeX", … ("" where the BLAS is not OpenBLAS)
  bool user_set = false;   // OPENBLAS_CORETYPE was set before the program started
  bool avx512 = false;     // the processor and the OS support AVX-512 F, BW, DQ and VL (SkylakeX's kernels)
  bool avx2 = false;       // … AVX2 and FMA (Haswell's)
};

// The OPENBLAS_CORETYPE to start again with: "SkylakeX" or "Haswell" where OpenBLAS fell back to
// Prescott on a processor that has the instructions of those kernels; "" where nothing is to be done.
std::string blas_core_to_use(const BlasChoice& choice);

// openblas_get_corename() of the BLAS this process calls ("" where it is not OpenBLAS).
std::string openblas_core_name();

// This process's BlasChoice.
BlasChoice blas_choice();

// Where blas_core_to_use() names a kernel set, sets OPENBLAS_CORETYPE to it and returns true: the
// program must start again for OpenBLAS to read it (a second start sees it set and does nothing).
bool select_suitable_blas_kernels();

// First thing in main(): select_suitable_blas_kernels(), then, where it set one, executes this program
// again with the same arguments (returns only where nothing is to be done, or where the exec failed:
// then the program runs on as it is).
void restart_with_suitable_blas_kernels(char** argv);

}  // namespace fan::util
