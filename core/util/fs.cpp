// File helpers: atomic writes and copies, whole-file (optionally gzip) reads.
#include "core/util/fs.h"

#include "core/util/error.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace fan::util {

std::filesystem::path temp_path_for(const std::filesystem::path& target) {
  static std::atomic<uint64_t> counter{0};
  // pid + counter: two processes (or threads) writing the same target never
  // share a temp file.
  std::string name = "." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter++);
  return target.parent_path() / name;
}

TempPathGuard::~TempPathGuard() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

void ensure_parent(const std::filesystem::path& path) {
  if (!path.has_parent_path()) return;
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    throw Error("cannot write " + path.string() + ": cannot create folder " + path.parent_path().string() +
                ": " + error.message());
  }
}

}  // namespace

void rename_onto(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code error;
  std::filesystem::rename(from, to, error);
  if (error) {
    throw Error("cannot rename " + from.string() + " to " + to.string() + ": " + error.message());
  }
}

void atomic_write(const std::filesystem::path& path, const std::string& bytes) {
  ensure_parent(path);
  TempPathGuard temp(temp_path_for(path));
  {
    std::ofstream out(temp.path(), std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error("cannot write " + path.string() + " (disk full?)");
  }
  rename_onto(temp.path(), path);
  temp.release();
}

void atomic_write_gzip(const std::filesystem::path& path, const std::string& bytes, int level) {
  ensure_parent(path);
  TempPathGuard temp(temp_path_for(path));
  const std::string mode = "wb" + std::to_string(std::clamp(level, 1, 9));
  gzFile file = gzopen(temp.path().c_str(), mode.c_str());
  if (file == nullptr) throw Error("cannot write " + path.string() + ": " + std::strerror(errno));
  gzbuffer(file, 1 << 17);
  size_t done = 0;
  bool ok = true;
  while (ok && done < bytes.size()) {
    // gzwrite takes an unsigned length: write in chunks well below 4 GiB.
    const size_t take = std::min<size_t>(bytes.size() - done, size_t{1} << 26);
    ok = gzwrite(file, bytes.data() + done, static_cast<unsigned>(take)) == static_cast<int>(take);
    done += take;
  }
  ok = (gzclose(file) == Z_OK) && ok;
  if (!ok) throw Error("cannot write " + path.string() + " (disk full?)");
  rename_onto(temp.path(), path);
  temp.release();
}

void atomic_copy(const std::filesystem::path& from, const std::filesystem::path& to) {
  ensure_parent(to);
  TempPathGuard temp(temp_path_for(to));
  std::error_code error;
  std::filesystem::copy_file(from, temp.path(), std::filesystem::copy_options::overwrite_existing, error);
  if (error) {
    throw Error("cannot copy " + from.string() + " to " + to.string() + ": " + error.message());
  }
  rename_onto(temp.path(), to);
  temp.release();
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read " + path.string() + ": " + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("read error in " + path.string());
  return bytes;
}

std::string read_decompressed(const std::filesystem::path& path, uint64_t max_bytes) {
  if (!std::filesystem::is_regular_file(path)) throw Error("no such file: " + path.string());
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw Error("cannot read " + path.string() + ": " + std::strerror(errno));
  gzbuffer(file, 1 << 17);
  std::string bytes;
  std::vector<char> chunk(1 << 18);
  while (true) {
    const int got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) break;  // gzerror below says why
    if (got == 0) break;
    if (bytes.size() + static_cast<size_t>(got) > max_bytes) {
      gzclose(file);
      throw Error(path.string() + " holds more than " + human_bytes(static_cast<int64_t>(max_bytes)) +
                  " of data: not a dataset file of the expected kind");
    }
    bytes.append(chunk.data(), static_cast<size_t>(got));
  }
  int code = Z_OK;
  const std::string message = gzerror(file, &code);
  gzclose(file);
  if (code != Z_OK) {
    throw Error("cannot decompress " + path.string() + ": " + message + " (truncated or corrupt gzip file)");
  }
  return bytes;
}

bool is_gzip(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

std::string human_bytes(int64_t bytes) {
  char text[32];
  if (bytes < 1000) {
    std::snprintf(text, sizeof text, "%lld B", static_cast<long long>(bytes));
  } else if (bytes < 1000 * 1000) {
    std::snprintf(text, sizeof text, "%.1f kB", static_cast<double>(bytes) / 1e3);
  } else if (bytes < int64_t{1000} * 1000 * 1000) {
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2f GB", static_cast<double>(bytes) / 1e9);
  }
  return text;
}

}  // namespace fan::util
