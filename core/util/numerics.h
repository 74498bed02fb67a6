// Which CPU code paths a run's arithmetic takes. The same project, seed and thread count give the same
// numbers only where these match: ATen's vectorised kernels, the BLAS core and oneDNN's instruction set
// are chosen per processor at start-up (an Intel Xeon with AVX-512 and an AMD EPYC with AVX2 round
// differently, and training carries the difference on). results.json records them ("cpu"), the sweep's
// runs.csv shows them per row. Each can be capped before the program starts, the same on two machines:
// ATEN_CPU_CAPABILITY (default | avx2 | avx512), OPENBLAS_CORETYPE (Haswell, SkylakeX, Zen, …),
// ONEDNN_MAX_CPU_ISA (AVX2, AVX512_CORE, …).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fan::util {

struct CpuNumerics {
  std::string model;   // /proc/cpuinfo "model name" ("" where there is none)
  std::string aten;    // ATen's CPU capability in use, in ATen's words: "AVX512", "AVX2", "NO AVX"
  std::string blas;    // "OpenBLAS <core>" (OpenBLAS's kernel set), else "not OpenBLAS"
  std::string onednn;  // oneDNN's instruction set in use: "avx2", "avx512_core", … ("" without oneDNN)

  // "AVX2 · OpenBLAS Zen · oneDNN avx2": the part that decides the numbers, one field of a CSV row.
  std::string path() const;
  nlohmann::json to_json() const;
};

// What this process uses (read once; the libraries fix their choice at their first use).
const CpuNumerics& cpu_numerics();

// path() of a results.json "cpu" object; "" for null (runs made before it was recorded).
std::string numerics_path(const nlohmann::json& cpu);

}  // namespace fan::util
