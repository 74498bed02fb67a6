// Fuzzes the USPS text reader (plain or gzip).
#include "core/data/usps.h"
#include "core/util/error.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fan::fuzz::InputFile input("usps");
  fan::fuzz::write_bytes(input.path, data, size);
  try {
    (void)fan::data::read_usps(input.path, "fuzz");
  } catch (const fan::Error&) {
  }
  return 0;
}
