// Checkpoints: modules, optimizers and a JSON state in one file.
#include "core/io/checkpoint.h"

#include "core/util/error.h"

#include <torch/serialize.h>

namespace fan::io {
namespace {
constexpr const char* kStateKey = "fan_state";
constexpr const char* kFormatKey = "fan_checkpoint_format";
// Bumped when the layout of a checkpoint changes.
constexpr int64_t kFormatVersion = 1;

void open_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error(path.string() + ": checkpoint not found");
  try {
    archive.load_from(path.string());
  } catch (const std::exception& e) {
    throw Error(path.string() + ": not a readable checkpoint (truncated or corrupt file?)");
  }
  c10::IValue format;
  if (!archive.try_read(kFormatKey, format) || !format.isInt() || format.toInt() != kFormatVersion)
    throw Error(path.string() + ": not a FAN Workbench checkpoint of format " + std::to_string(kFormatVersion));
}
}  // namespace

void save_checkpoint(const std::filesystem::path& path, const ModuleMap& modules,
                     const OptimizerMap& optimizers, const nlohmann::json& state) {
  torch::serialize::OutputArchive archive;
  archive.write(kFormatKey, c10::IValue(kFormatVersion));
  archive.write(kStateKey, c10::IValue(state.dump()));
  for (const auto& [name, module] : modules) {
    torch::serialize::OutputArchive sub;
    module->save(sub);
    archive.write("module." + name, sub);
  }
  for (const auto& [name, optimizer] : optimizers) {
    torch::serialize::OutputArchive sub;
    optimizer->save(sub);
    archive.write("optimizer." + name, sub);
  }
  auto tmp = path;
  tmp += ".tmp";
  try {
    archive.save_to(tmp.string());
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw Error(path.string() + ": cannot write the checkpoint (disk full or no permission?)");
  }
  std::filesystem::rename(tmp, path);
}

nlohmann::json load_checkpoint(const std::filesystem::path& path, const ModuleMap& modules,
                               const OptimizerMap& optimizers) {
  torch::serialize::InputArchive archive;
  open_archive(archive, path);
  try {
    for (const auto& [name, module] : modules) {
      torch::serialize::InputArchive sub;
      archive.read("module." + name, sub);
      module->load(sub);
    }
    for (const auto& [name, optimizer] : optimizers) {
      torch::serialize::InputArchive sub;
      archive.read("optimizer." + name, sub);
      optimizer->load(sub);
    }
  } catch (const c10::Error& e) {
    throw Error(path.string() + ": the checkpoint does not match this experiment's networks (" +
                e.msg().substr(0, 200) + ")");
  }
  return read_checkpoint_state(path);
}

nlohmann::json read_checkpoint_state(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  open_archive(archive, path);
  c10::IValue state;
  if (!archive.try_read(kStateKey, state) || !state.isString())
    throw Error(path.string() + ": checkpoint has no state record");
  const auto parsed = nlohmann::json::parse(state.toStringRef(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) throw Error(path.string() + ": checkpoint state is corrupt");
  return parsed;
}

}  // namespace fan::io
