// Unpacking downloaded dataset archives (through the system's `tar`) and checking what they held.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace fan::data::detail {

// Runs `tar -xzf archive -C folder members...` without a shell (no quoting).
// Throws fan::Error when tar cannot be run or fails.
void extract_tar(const std::filesystem::path& archive, const std::filesystem::path& folder,
                 const std::vector<std::string>& members);

// The number of .jpg files directly in `folder`; 0 when it does not exist.
size_t count_jpgs(const std::filesystem::path& folder);

}  // namespace fan::data::detail
