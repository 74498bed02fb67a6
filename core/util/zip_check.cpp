// Bounds and CRC checks of a ZIP archive's structure, so that a parser downstream only sees intact records.
#include "core/util/zip_check.h"

#include "core/util/error.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace fan::util {
namespace {
// ZIP record signatures and sizes (PKWARE APPNOTE 4.3), as torch's writer emits them.
constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndSize = 22;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kMaxCommentSize = 0xffff;
constexpr uint64_t kStored = 0, kDeflated = 8;  // ZIP compression methods
// zlib cannot expand data more than about 1032:1.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint64_t read_le(const std::string& bytes, uint64_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[offset + i]);
  return value;
}

// A raw-deflate record of `compressed` bytes, inflated to at most `size` bytes
// (what the directory claims); empty on any zlib error.
std::string inflate_record(const Bytef* data, uint64_t compressed, uint64_t size) {
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return {};
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(std::min<uint64_t>(compressed, UINT32_MAX));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(std::min<uint64_t>(size, UINT32_MAX));
  const int status = inflate(&z, Z_FINISH);
  const uint64_t produced = z.total_out;
  inflateEnd(&z);
  if (status != Z_STREAM_END) return {};
  out.resize(produced);
  return out;
}

}  // namespace

void check_zip_structure(const std::string& bytes, const std::string& name, const std::string& kind) {
  const auto corrupt = [&](const std::string& what) {
    return Error(name + ": not a readable " + kind + " (" + what + "; truncated or corrupt file?)");
  };
  if (bytes.size() < kLocalHeaderSize + kEndSize || read_le(bytes, 0, 4) != kLocalHeaderSignature)
    throw corrupt("no ZIP header");
  // The end record sits in the last 22 bytes plus at most a 64 KiB comment.
  uint64_t end = bytes.size() - kEndSize;
  const uint64_t lowest =
      bytes.size() > kEndSize + kMaxCommentSize ? bytes.size() - kEndSize - kMaxCommentSize : 0;
  while (read_le(bytes, end, 4) != kEndSignature) {
    if (end == lowest) throw corrupt("no ZIP end record");
    --end;
  }
  if (read_le(bytes, end + 4, 2) != 0 || read_le(bytes, end + 6, 2) != 0) throw corrupt("multi-part ZIP");
  uint64_t entries = read_le(bytes, end + 10, 2);
  uint64_t directory_size = read_le(bytes, end + 12, 4);
  uint64_t directory_offset = read_le(bytes, end + 16, 4);
  uint64_t directory_limit = end;  // the central directory ends before this
  if (entries == 0xffff || directory_size == 0xffffffff || directory_offset == 0xffffffff) {
    if (end < kZip64LocatorSize || read_le(bytes, end - kZip64LocatorSize, 4) != kZip64LocatorSignature)
      throw corrupt("ZIP64 end locator missing");
    const uint64_t zip64_end = read_le(bytes, end - kZip64LocatorSize + 8, 8);
    if (zip64_end > end - kZip64LocatorSize || end - kZip64LocatorSize - zip64_end < kZip64EndSize ||
        read_le(bytes, zip64_end, 4) != kZip64EndSignature)
      throw corrupt("ZIP64 end record missing");
    entries = read_le(bytes, zip64_end + 32, 8);
    directory_size = read_le(bytes, zip64_end + 40, 8);
    directory_offset = read_le(bytes, zip64_end + 48, 8);
    directory_limit = zip64_end;
  }
  if (directory_offset > directory_limit || directory_size > directory_limit - directory_offset)
    throw corrupt("ZIP directory outside the file");
  if (entries == 0 || entries > directory_size / kCentralHeaderSize) throw corrupt("bad ZIP entry count");

  uint64_t cursor = directory_offset;
  const uint64_t directory_end = directory_offset + directory_size;
  for (uint64_t i = 0; i < entries; ++i) {
    if (directory_end - cursor < kCentralHeaderSize || read_le(bytes, cursor, 4) != kCentralHeaderSignature)
      throw corrupt("bad ZIP directory entry");
    const uint64_t flags = read_le(bytes, cursor + 8, 2);
    const uint64_t method = read_le(bytes, cursor + 10, 2);
    const uint64_t crc = read_le(bytes, cursor + 16, 4);
    uint64_t compressed = read_le(bytes, cursor + 20, 4);
    uint64_t size = read_le(bytes, cursor + 24, 4);
    const uint64_t name_length = read_le(bytes, cursor + 28, 2);
    const uint64_t extra_length = read_le(bytes, cursor + 30, 2);
    const uint64_t comment_length = read_le(bytes, cursor + 32, 2);
    uint64_t local = read_le(bytes, cursor + 42, 4);
    const uint64_t variable = name_length + extra_length + comment_length;
    if (directory_end - cursor - kCentralHeaderSize < variable) throw corrupt("bad ZIP directory entry");
    // ZIP64 sizes and offset live in extra field 0x0001, in this order, each
    // present only when its 32-bit field is saturated.
    if (size == 0xffffffff || compressed == 0xffffffff || local == 0xffffffff) {
      uint64_t extra = cursor + kCentralHeaderSize + name_length;
      const uint64_t extra_end = extra + extra_length;
      bool found = false;
      while (!found && extra_end - extra >= 4) {
        const uint64_t id = read_le(bytes, extra, 2);
        const uint64_t length = read_le(bytes, extra + 2, 2);
        if (extra_end - extra - 4 < length) throw corrupt("bad ZIP extra field");
        if (id == 0x0001) {
          uint64_t field = extra + 4;
          const uint64_t field_end = field + length;
          for (uint64_t* value : {&size, &compressed, &local}) {
            if (*value != 0xffffffff) continue;
            if (field_end - field < 8) throw corrupt("bad ZIP64 extra field");
            *value = read_le(bytes, field, 8);
            field += 8;
          }
          found = true;
        }
        extra += 4 + length;
      }
      if (!found) throw corrupt("ZIP64 sizes missing");
    }
    // Torch stores tensors uncompressed and deflates its TorchScript code
    // records; nothing is encrypted.
    if ((flags & 1) != 0 || (method != kStored && method != kDeflated) ||
        (method == kStored && compressed != size))
      throw corrupt("ZIP record stored with method " + std::to_string(method));
    if (method == kDeflated && size / kMaxDeflateRatio > compressed)
      throw corrupt("ZIP record claims too much");
    if (local > directory_offset || directory_offset - local < kLocalHeaderSize ||
        read_le(bytes, local, 4) != kLocalHeaderSignature)
      throw corrupt("bad ZIP local header");
    const uint64_t data =
        local + kLocalHeaderSize + read_le(bytes, local + 26, 2) + read_le(bytes, local + 28, 2);
    if (data > directory_offset || directory_offset - data < compressed)
      throw corrupt("ZIP record outside the file");
    const auto* record = reinterpret_cast<const Bytef*>(bytes.data() + data);
    std::string inflated;
    if (method == kDeflated) {
      inflated = inflate_record(record, compressed, size);
      if (inflated.size() != size) throw corrupt("bad deflated ZIP record");
      record = reinterpret_cast<const Bytef*>(inflated.data());
    }
    uLong actual = crc32(0L, Z_NULL, 0);
    for (uint64_t done = 0; done < size;) {
      const auto chunk = static_cast<uInt>(std::min<uint64_t>(size - done, uint64_t{1} << 30));
      actual = crc32(actual, record + done, chunk);
      done += chunk;
    }
    if (actual != crc) throw corrupt("ZIP record CRC mismatch");
    cursor += kCentralHeaderSize + variable;
  }
}

}  // namespace fan::util
