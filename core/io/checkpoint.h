// Checkpoints: modules, optimizers and a JSON state in one file, written atomically.
#pragma once
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace fan::io {

using ModuleMap = std::map<std::string, torch::nn::Module*>;
using OptimizerMap = std::map<std::string, torch::optim::Optimizer*>;

// Writes to `path`.tmp, then renames: a reader never sees a half-written file.
void save_checkpoint(const std::filesystem::path& path, const ModuleMap& modules,
                     const OptimizerMap& optimizers, const nlohmann::json& state);

// Restores what save_checkpoint wrote and returns the state. A missing,
// truncated or foreign file is a fan::Error naming the file.
nlohmann::json load_checkpoint(const std::filesystem::path& path, const ModuleMap& modules,
                               const OptimizerMap& optimizers);

// Only the JSON state (no tensors restored), e.g. to see where a run stopped.
nlohmann::json read_checkpoint_state(const std::filesystem::path& path);

}  // namespace fan::io
