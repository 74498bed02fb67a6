// Fuzzes the SVHN .mat reader (matio underneath).
#include "core/data/svhn.h"
#include "core/util/error.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fan::fuzz::InputFile input("svhn.mat");
  fan::fuzz::write_bytes(input.path, data, size);
  try {
    (void)fan::data::read_svhn_mat(input.path, "fuzz");
  } catch (const fan::Error&) {
  }
  return 0;
}
