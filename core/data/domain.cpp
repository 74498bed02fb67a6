// Loading a domain: dataset by name, protocol, preprocessing; the data root.
#include "core/data/domain.h"

#include "core/data/idx.h"
#include "core/data/image_folder.h"
#include "core/data/mnistm.h"
#include "core/data/preprocess.h"
#include "core/data/svhn.h"
#include "core/data/usps.h"
#include "core/util/error.h"

#include <cstdlib>

namespace fan::data {
namespace {

namespace fs = std::filesystem;

// The validation hold-out's seed stream, apart from the protocol's.
constexpr uint64_t kValidationSalt = 0x76616C6964ULL;
// The order in which images the protocol left unused are held out.
constexpr uint64_t kUnusedSalt = 0x756E75736564ULL;

[[noreturn]] void missing(const fs::path& file, const std::string& dataset) {
  throw Error(dataset + " data file not found: " + file.string() + " (run `fan data fetch " + dataset +
              "`, or copy the files into " + file.parent_path().string() + ")");
}

fs::path require(const fs::path& file, const std::string& dataset) {
  if (!fs::is_regular_file(file)) missing(file, dataset);
  return file;
}

}  // namespace

Protocol parse_protocol(const std::string& name) {
  if (name == "full") return Protocol::kFull;
  if (name == "sampled") return Protocol::kSampled;
  if (name == "fraction") return Protocol::kFraction;
  throw Error("unknown protocol \"" + name + "\" (expected full, sampled or fraction)");
}

std::string to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::kFull:
      return "full";
    case Protocol::kSampled:
      return "sampled";
    case Protocol::kFraction:
      return "fraction";
  }
  return "full";
}

std::vector<std::string> dataset_names() { return {"mnist", "usps", "svhn", "mnistm", "folder"}; }

fs::path mnist_file(const fs::path& data_root, const std::string& base) {
  const fs::path compressed = data_root / "mnist" / (base + ".gz");
  if (fs::is_regular_file(compressed)) return compressed;
  const fs::path plain = data_root / "mnist" / base;
  if (fs::is_regular_file(plain)) return plain;
  missing(compressed, "mnist");
}

fs::path resolve_folder(const std::string& folder, const fs::path& data_root) {
  if (folder.empty()) throw Error("dataset \"folder\" needs a folder (the image-folder root)");
  const fs::path path(folder);
  if (path.is_absolute() || fs::exists(path)) return path;
  return data_root / path;
}

std::vector<fs::path> dataset_files(const std::string& dataset, const fs::path& data_root,
                                    const std::string& folder) {
  if (dataset == "mnist") {
    std::vector<fs::path> files;
    for (const char* base : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                             "t10k-labels-idx1-ubyte"}) {
      const fs::path plain = data_root / "mnist" / base;
      files.push_back(fs::is_regular_file(plain) && !fs::is_regular_file(plain.string() + ".gz")
                          ? plain
                          : fs::path(plain.string() + ".gz"));
    }
    return files;
  }
  if (dataset == "usps") return {data_root / "usps" / "zip.train.gz", data_root / "usps" / "zip.test.gz"};
  if (dataset == "svhn") {
    return {data_root / "svhn" / "train_32x32.mat", data_root / "svhn" / "test_32x32.mat"};
  }
  if (dataset == "mnistm") return mnistm_cache_files(data_root);
  if (dataset == "folder") return {resolve_folder(folder, data_root)};
  throw Error("unknown dataset \"" + dataset + "\" (expected mnist, usps, svhn, mnistm or folder)");
}

DatasetSplits load_raw(const std::string& dataset, const fs::path& data_root, const std::string& folder) {
  DatasetSplits splits;
  if (dataset == "mnist") {
    // One statement per file: the first missing file is the one reported.
    const fs::path train_images = mnist_file(data_root, "train-images-idx3-ubyte");
    const fs::path train_labels = mnist_file(data_root, "train-labels-idx1-ubyte");
    const fs::path test_images = mnist_file(data_root, "t10k-images-idx3-ubyte");
    const fs::path test_labels = mnist_file(data_root, "t10k-labels-idx1-ubyte");
    splits.train = read_idx_dataset(train_images, train_labels, "mnist/train");
    splits.test = read_idx_dataset(test_images, test_labels, "mnist/test");
  } else if (dataset == "usps") {
    splits.train = read_usps(require(data_root / "usps" / "zip.train.gz", "usps"), "usps/train");
    splits.test = read_usps(require(data_root / "usps" / "zip.test.gz", "usps"), "usps/test");
  } else if (dataset == "svhn") {
    splits.train = read_svhn_mat(require(data_root / "svhn" / "train_32x32.mat", "svhn"), "svhn/train");
    splits.test = read_svhn_mat(require(data_root / "svhn" / "test_32x32.mat", "svhn"), "svhn/test");
  } else if (dataset == "mnistm") {
    splits = load_mnistm(data_root);
  } else if (dataset == "folder") {
    splits = read_image_folder(resolve_folder(folder, data_root));
  } else {
    throw Error("unknown dataset \"" + dataset + "\" (expected mnist, usps, svhn, mnistm or folder)");
  }
  return splits;
}

DatasetSplits load_domain(const DomainSpec& spec, const Preprocess& preprocess_options,
                          const fs::path& data_root, uint64_t seed) {
  DatasetSplits raw = load_raw(spec.dataset, data_root, spec.folder);
  // Digits that fill their frame (USPS) are the ones MNIST framing applies to.
  const bool tight = spec.dataset == "usps";
  DatasetSplits out;
  if (spec.validation > 0) {
    if (spec.validation >= raw.train.size())
      throw Error("validation: " + std::to_string(spec.validation) + " images asked, but " + spec.dataset +
                  "'s training set holds only " + std::to_string(raw.train.size()));
    const auto order = torch::tensor(permutation(raw.train.size(), mix_seed(seed ^ kValidationSalt)), torch::kInt64);
    out.validation = preprocess(raw.train.subset(std::get<0>(order.narrow(0, 0, spec.validation).sort())), preprocess_options, tight);
    raw.train = raw.train.subset(std::get<0>(order.narrow(0, spec.validation, raw.train.size() - spec.validation).sort()));
  }
  const auto chosen = protocol_indices(raw.train, raw.train.size(), spec, seed);
  if (spec.unused_held_out > 0 && chosen.defined()) {
    // The images the protocol left out, in a seeded order of their own.
    std::vector<bool> used(static_cast<size_t>(raw.train.size()), false);
    const auto c = chosen.contiguous();
    for (int64_t i = 0; i < c.numel(); ++i) used[static_cast<size_t>(c.data_ptr<int64_t>()[i])] = true;
    std::vector<int64_t> unused;
    for (int64_t i = 0; i < raw.train.size(); ++i)
      if (!used[static_cast<size_t>(i)]) unused.push_back(i);
    const auto order = permutation(static_cast<int64_t>(unused.size()), mix_seed(seed ^ kUnusedSalt));
    const auto keep = std::min<int64_t>(spec.unused_held_out, static_cast<int64_t>(unused.size()));
    std::vector<int64_t> held;
    for (int64_t k = 0; k < keep; ++k) held.push_back(unused[static_cast<size_t>(order[static_cast<size_t>(k)])]);
    std::sort(held.begin(), held.end());
    if (!held.empty()) out.held_out = preprocess(raw.train.subset(torch::tensor(held, torch::kInt64)), preprocess_options, tight);
  }
  out.train = preprocess(chosen.defined() ? raw.train.subset(chosen) : raw.train, preprocess_options, tight);
  out.test = preprocess(raw.test, preprocess_options, tight);
  out.class_names = std::move(raw.class_names);
  out.info = std::move(raw.info);
  return out;
}

fs::path resolve_data_root(const std::string& explicit_root) {
  if (!explicit_root.empty()) return fs::path(explicit_root);
  const char* env = std::getenv("FAN_DATA");
  if (env != nullptr && *env != '\0') return fs::path(env);
  const char* cache = std::getenv("XDG_CACHE_HOME");
  if (cache != nullptr && *cache != '\0') return fs::path(cache) / "fan-workbench" / "data";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return fs::path(home) / ".cache" / "fan-workbench" / "data";
  return fs::path(".cache") / "fan-workbench" / "data";
}

}  // namespace fan::data
