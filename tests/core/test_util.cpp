// Helpers shared by the core tests.
#include "core/test_util.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

namespace fan::test {

ScratchDir::ScratchDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
  path_ = std::filesystem::temp_directory_path() /
          (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(stamp) + "-" +
           std::to_string(counter++));
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

nlohmann::json tiny_project(const std::filesystem::path& root) {
  return {{"name", "tiny"},
          {"source", {{"dataset", "mnist"}, {"protocol", "full"}}},
          {"target", {{"dataset", "usps"}, {"protocol", "full"}}},
          {"data", {{"root", root.string()}, {"framing", "stretch"}}},
          {"stage1", {{"epochs", 3}, {"batch_size", 32}, {"lr", 1e-3}}},
          {"stage2", {{"iterations", 24}, {"batch_size", 32}}},
          {"eval", {{"every", 8}, {"batch_size", 100}}},
          {"run", {{"log_every", 1}, {"checkpoint_every", 5}, {"preview_every", 10}}},
          {"seed", 3},
          {"threads", 1}};
}

std::filesystem::path real_data_root(const std::string& dataset) {
  const char* root = std::getenv("FAN_DATA");
  if (root == nullptr || *root == '\0') return {};
  const std::filesystem::path path(root);
  if (!std::filesystem::is_directory(path / dataset)) return {};
  return path;
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace fan::test
