// MD5 digests (RFC 1321) of strings and files, for dataset checksums.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace fan::util {

// Incremental MD5: feed bytes with update(), read the digest once with hex_digest().
class Md5 {
 public:
  Md5();
  void update(const void* data, size_t size);
  void update(const std::string& bytes) { update(bytes.data(), bytes.size()); }
  // 32 lower-case hex digits. Finalises: call update() no more afterwards.
  std::string hex_digest();

 private:
  void transform(const uint8_t* block);
  std::array<uint32_t, 4> state_;
  uint64_t length_ = 0;  // bytes so far
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
};

std::string md5_hex(const std::string& bytes);
// MD5 of a file's bytes as stored. Throws fan::Error when it cannot be read.
std::string md5_file(const std::filesystem::path& path);
// MD5 of a file's content after gzip decompression; a file that is not gzip
// is read as it is (zlib passes it through), so raw and .gz copies compare equal.
std::string md5_file_decompressed(const std::filesystem::path& path);

}  // namespace fan::util
