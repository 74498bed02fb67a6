// File helpers: atomic writes and copies, whole-file (optionally gzip) reads.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

namespace fan::util {

// A name in `target`'s own directory for a temporary file: renaming it onto
// `target` is then atomic (same filesystem).
std::filesystem::path temp_path_for(const std::filesystem::path& target);

// Removes a temporary file or folder when it goes out of scope, unless released:
// a failed write or download leaves nothing behind.
class TempPathGuard {
 public:
  explicit TempPathGuard(std::filesystem::path path) : path_(std::move(path)) {}
  ~TempPathGuard();
  TempPathGuard(const TempPathGuard&) = delete;
  TempPathGuard& operator=(const TempPathGuard&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::filesystem::path path_;
};

// Writes `bytes` to a temp file next to `path`, then renames it onto `path`:
// readers see the old file or the whole new one, never a partial one. Creates
// parent folders. Throws fan::Error naming `path` on failure.
void atomic_write(const std::filesystem::path& path, const std::string& bytes);
// The same, gzip-compressed (level 1..9).
void atomic_write_gzip(const std::filesystem::path& path, const std::string& bytes, int level = 6);
// Copies `from` to `to` atomically (temp file + rename).
void atomic_copy(const std::filesystem::path& from, const std::filesystem::path& to);
// Renames `from` onto `to` (replacing it); throws fan::Error naming both.
void rename_onto(const std::filesystem::path& from, const std::filesystem::path& to);

// The whole file as bytes. Throws fan::Error naming the file.
std::string read_file(const std::filesystem::path& path);
// The whole content, gzip-decompressed when the file is gzip (plain files are
// read as they are). More than `max_bytes` of content is an error, so a
// corrupt or hostile file cannot exhaust memory.
std::string read_decompressed(const std::filesystem::path& path, uint64_t max_bytes = uint64_t{1} << 34);
// True when the file starts with the gzip magic bytes.
bool is_gzip(const std::filesystem::path& path);

// "12.3 MB" style size for messages.
std::string human_bytes(int64_t bytes);

}  // namespace fan::util
