// Fuzzes checkpoint reading: read_checkpoint_state on any bytes (a torch zip
// archive when valid), as `fan resume` and the workbench's run browser do.
#include "core/io/checkpoint.h"
#include "core/util/error.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fan::fuzz::InputFile input("checkpoint.pt");
  fan::fuzz::write_bytes(input.path, data, size);
  try {
    (void)fan::io::read_checkpoint_state(input.path);
  } catch (const fan::Error&) {
  }
  return 0;
}
