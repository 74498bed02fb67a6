// Shared by the fuzz targets: the input as a file for readers that take a path.
#pragma once
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace fan::fuzz {

// One path per process and name, in /dev/shm so that each run costs no disk
// I/O; rewritten for every input.
inline std::filesystem::path input_path(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  return dir / ("fan_fuzz_" + std::to_string(::getpid()) + "_" + name);
}

inline void write_bytes(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) std::abort();  // the harness itself is broken, not the reader
  if (size > 0 && std::fwrite(data, 1, size, file) != size) std::abort();
  std::fclose(file);
}

// Removes the input file when the process exits normally.
struct InputFile {
  explicit InputFile(const std::string& name) : path(input_path(name)) {}
  ~InputFile() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  std::filesystem::path path;
};

}  // namespace fan::fuzz
