#include "core/util/numerics.h"

#include "core/util/blas_kernels.h"

#include <ATen/Version.h>

#include <dlfcn.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace fan::util {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return trim(line.substr(colon + 1));
    }
  return {};
}

// ATen reports the capability its dispatch uses (ATEN_CPU_CAPABILITY applied) in its build summary.
std::string aten_capability() {
  std::istringstream config(at::show_config());
  const std::string key = "CPU capability usage:";
  for (std::string line; std::getline(config, line);) {
    const auto at = line.find(key);
    if (at != std::string::npos) return trim(line.substr(at + key.size()));
  }
  return "unknown";
}

// LibTorch calls whichever BLAS the system selects (libblas.so.3); OpenBLAS names the kernels it
// chose for this processor (OPENBLAS_CORETYPE applied).
std::string blas_core() {
  const auto name = openblas_core_name();
  return name.empty() ? "not OpenBLAS" : "OpenBLAS " + name;
}

// oneDNN (LibTorch's convolutions on CPU) dispatches by instruction set; ONEDNN_MAX_CPU_ISA caps it.
// The values are dnnl_cpu_isa_t's, those stable across oneDNN 2.x and 3.x named.
std::string onednn_isa() {
  using Isa = int (*)();
  auto* f = reinterpret_cast<Isa>(dlsym(RTLD_DEFAULT, "dnnl_get_effective_cpu_isa"));
  if (!f) return {};
  const int isa = f();
  switch (isa) {
    case 0x0: return "default";
    case 0x1: return "sse41";
    case 0x3: return "avx";
    case 0x7: return "avx2";
    case 0x27: return "avx512_core";
    case 0x67: return "avx512_core_vnni";
    case 0xe7: return "avx512_core_bf16";
    default: {
      char buf[16];
      std::snprintf(buf, sizeof buf, "0x%x", isa);
      return buf;
    }
  }
}

}  // namespace

std::string CpuNumerics::path() const {
  std::string p = aten + " · " + blas;
  if (!onednn.empty()) p += " · oneDNN " + onednn;
  return p;
}

nlohmann::json CpuNumerics::to_json() const {
  nlohmann::json j = {{"model", model}, {"aten", aten}, {"blas", blas}};
  if (!onednn.empty()) j["onednn"] = onednn;
  return j;
}

const CpuNumerics& cpu_numerics() {
  static const CpuNumerics numerics{cpu_model(), aten_capability(), blas_core(), onednn_isa()};
  return numerics;
}

std::string numerics_path(const nlohmann::json& cpu) {
  if (!cpu.is_object()) return {};
  CpuNumerics n;
  n.aten = cpu.value("aten", "");
  n.blas = cpu.value("blas", "");
  n.onednn = cpu.value("onednn", "");
  return n.path();
}

}  // namespace fan::util
