// Checkpoints: modules, optimizers and a JSON state in one file.
#include "core/io/checkpoint.h"

#include "core/util/error.h"

#include <fstream>
#include "core/util/fs.h"
#include "core/util/zip_check.h"

#include <torch/serialize.h>

#include <cstdint>

namespace fan::io {
namespace {
constexpr const char* kStateKey = "fan_state";
constexpr const char* kFormatKey = "fan_checkpoint_format";
// Bumped when the layout of a checkpoint changes.
constexpr int64_t kFormatVersion = 1;

void open_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error(path.string() + ": checkpoint not found");
  // Before LibTorch's reader and unpickler see the bytes: a truncated or
  // corrupt file is then a fan::Error from our own bounds checks, and torch
  // only ever parses intact records.
  util::check_zip_structure(util::read_file(path), path.string(), "checkpoint");
  c10::IValue format;
  try {
    archive.load_from(path.string());
    if (!archive.try_read(kFormatKey, format)) format = c10::IValue();
  } catch (const std::exception& e) {
    throw Error(path.string() + ": not a readable checkpoint (truncated or corrupt file?)");
  }
  if (!format.isInt() || format.toInt() != kFormatVersion)
    throw Error(path.string() + ": not a FAN Workbench checkpoint of format " +
                std::to_string(kFormatVersion));
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
  // Serialised in memory first: LibTorch's file writer throws from its
  // destructor when the disk is full, which would end the program.
  std::string bytes;
  archive.save_to([&bytes](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  auto tmp = path;
  tmp += ".tmp";
  bool written = false;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    written = static_cast<bool>(out);
  }
  std::error_code ec;
  if (written) std::filesystem::rename(tmp, path, ec);
  if (!written || ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw Error(path.string() + ": cannot write the checkpoint (disk full or no permission?)");
  }
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
  bool found = false;
  try {
    found = archive.try_read(kStateKey, state);
  } catch (const std::exception& e) {
    found = false;
  }
  if (!found || !state.isString()) throw Error(path.string() + ": checkpoint has no state record");
  const auto parsed = nlohmann::json::parse(state.toStringRef(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object())
    throw Error(path.string() + ": checkpoint state is corrupt");
  return parsed;
}

}  // namespace fan::io
