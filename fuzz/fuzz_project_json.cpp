// Fuzzes project JSON: read_json_file, validate_config and the typed view, the
// path `fan run project.json` and the workbench's File > Open take.
#include "core/io/config.h"
#include "core/util/error.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fan::fuzz::InputFile input("project.json");
  fan::fuzz::write_bytes(input.path, data, size);
  try {
    const nlohmann::json raw = fan::io::read_json_file(input.path);
    const nlohmann::json valid = fan::io::validate_config(raw, input.path.string());
    (void)fan::io::ExperimentConfig::from_json(valid, input.path.string());
  } catch (const fan::Error&) {
  }
  return 0;
}
