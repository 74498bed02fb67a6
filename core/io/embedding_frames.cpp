// The live embedding's frames on disk.
#include "core/io/embedding_frames.h"

#include "core/util/error.h"
#include "core/util/fs.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <regex>

namespace fan::io {
namespace {

// File magic and format version: "FANEMB" + version 1 (little-endian host order, as the checkpoints).
constexpr char kMagic[8] = {'F', 'A', 'N', 'E', 'M', 'B', '0', '1'};
// Frames larger than this are refused on read (a corrupt header must not allocate gigabytes).
constexpr int64_t kMaxValues = int64_t{1} << 28;

std::string frame_name(int stage, int64_t step) {
  char name[64];
  std::snprintf(name, sizeof name, "frame-s%d-%06lld.bin", stage, static_cast<long long>(step));
  return name;
}

template <typename T>
void put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}
template <typename T>
void put_all(std::string& out, const std::vector<T>& values) {
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

class Reader {
 public:
  Reader(const std::string& bytes, const std::filesystem::path& file) : bytes_(bytes), file_(file) {}
  template <typename T>
  T get() {
    T value;
    take(&value, sizeof(T));
    return value;
  }
  template <typename T>
  std::vector<T> get_all(int64_t count) {
    if (count < 0 || count > kMaxValues) fail("implausible size " + std::to_string(count));
    std::vector<T> values(static_cast<size_t>(count));
    take(values.data(), values.size() * sizeof(T));
    return values;
  }
  bool at_end() const { return at_ == bytes_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw Error(file_.string() + ": not a live-embedding frame (" + why + ")");
  }

 private:
  void take(void* to, size_t n) {
    if (bytes_.size() - at_ < n) fail("the file ends early: torn or truncated");
    std::memcpy(to, bytes_.data() + at_, n);
    at_ += n;
  }
  const std::string& bytes_;
  const std::filesystem::path& file_;
  size_t at_ = 0;
};

struct FrameFile {
  int stage;
  int64_t step;
  std::filesystem::path path;
};

std::vector<FrameFile> frame_files(const std::filesystem::path& run_dir) {
  std::vector<FrameFile> files;
  const auto dir = embedding_dir(run_dir);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  static const std::regex pattern(R"(frame-s(\d)-(\d+)\.bin)");
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::smatch m;
    const auto name = entry.path().filename().string();
    if (std::regex_match(name, m, pattern)) files.push_back({std::stoi(m[1]), std::stoll(m[2]), entry.path()});
  }
  std::sort(files.begin(), files.end(),
            [](const FrameFile& a, const FrameFile& b) { return std::tie(a.stage, a.step) < std::tie(b.stage, b.step); });
  return files;
}

// index.json: what the frames hold, rewritten with every frame (the files themselves are the truth).
void write_index(const std::filesystem::path& run_dir, const events::EmbeddingFrameEvent& last) {
  nlohmann::json frames = nlohmann::json::array();
  for (const auto& f : frame_files(run_dir))
    frames.push_back({{"stage", f.stage}, {"step", f.step}, {"file", f.path.filename().string()}});
  const nlohmann::json index = {{"format", "fan live embedding, one frame per file"},
                                {"rows", last.rows},
                                {"logit_cols", last.logit_cols},
                                {"hd_cols", last.hd_cols},
                                {"frames", frames}};
  util::atomic_write(embedding_dir(run_dir) / "index.json", index.dump(1) + "\n");
}

}  // namespace

std::filesystem::path embedding_dir(const std::filesystem::path& run_dir) { return run_dir / "embedding"; }

void write_embedding_frame(const std::filesystem::path& run_dir, const events::EmbeddingFrameEvent& f) {
  const auto rows = static_cast<size_t>(f.rows);
  if (f.logits.size() != rows * static_cast<size_t>(f.logit_cols) || f.hd.size() != rows * static_cast<size_t>(f.hd_cols) ||
      f.domain.size() != rows || f.label.size() != rows || f.index.size() != rows)
    throw Error("live embedding: a frame's arrays do not match its rows and columns (step " + std::to_string(f.step) + ")");
  std::string bytes(kMagic, sizeof kMagic);
  put<int32_t>(bytes, f.stage);
  put<int64_t>(bytes, f.step);
  put<int64_t>(bytes, f.rows);
  put<int64_t>(bytes, f.logit_cols);
  put<int64_t>(bytes, f.hd_cols);
  put_all(bytes, f.logits);
  put_all(bytes, f.hd);
  put_all(bytes, f.domain);
  put_all(bytes, f.label);
  put_all(bytes, f.index);
  util::atomic_write(embedding_dir(run_dir) / frame_name(f.stage, f.step), bytes);
  write_index(run_dir, f);
}

events::EmbeddingFrameEvent read_embedding_frame(const std::filesystem::path& file) {
  const auto bytes = util::read_file(file);
  Reader in(bytes, file);
  char magic[sizeof kMagic];
  for (char& c : magic) c = in.get<char>();
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) in.fail("wrong magic");
  events::EmbeddingFrameEvent f;
  f.stage = in.get<int32_t>();
  f.step = in.get<int64_t>();
  f.rows = in.get<int64_t>();
  f.logit_cols = in.get<int64_t>();
  f.hd_cols = in.get<int64_t>();
  if (f.rows < 0 || f.logit_cols < 0 || f.hd_cols < 0 || f.logit_cols > kMaxValues || f.hd_cols > kMaxValues)
    in.fail("negative or implausible sizes");
  f.logits = in.get_all<float>(f.rows * f.logit_cols);
  f.hd = in.get_all<float>(f.rows * f.hd_cols);
  f.domain = in.get_all<int32_t>(f.rows);
  f.label = in.get_all<int32_t>(f.rows);
  f.index = in.get_all<int32_t>(f.rows);
  if (!in.at_end()) in.fail("trailing bytes");
  return f;
}

std::vector<events::EmbeddingFrameEvent> read_embedding_frames(const std::filesystem::path& run_dir,
                                                               std::vector<std::string>* skipped) {
  std::vector<events::EmbeddingFrameEvent> frames;
  for (const auto& file : frame_files(run_dir)) {
    try {
      frames.push_back(read_embedding_frame(file.path));
    } catch (const Error& e) {
      if (!skipped) throw;
      skipped->push_back(e.what());
    }
  }
  return frames;
}

void drop_embedding_frames_after(const std::filesystem::path& run_dir, int64_t stage2_step) {
  bool dropped = false;
  for (const auto& file : frame_files(run_dir)) {
    if (stage2_step >= 0 && !(file.stage == 2 && file.step > stage2_step)) continue;
    std::error_code ec;
    std::filesystem::remove(file.path, ec);
    if (ec) throw Error(file.path.string() + ": cannot remove a frame past the checkpoint (" + ec.message() + ")");
    dropped = true;
  }
  if (dropped) {
    std::error_code ec;
    std::filesystem::remove(embedding_dir(run_dir) / "index.json", ec);
  }
}

}  // namespace fan::io
