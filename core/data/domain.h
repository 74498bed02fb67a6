// A domain as an experiment sees it: dataset + protocol + preprocessing.
#pragma once
#include "core/data/dataset.h"

#include <filesystem>
#include <string>
#include <vector>

namespace fan::data {

// How a domain's training set is drawn (FAN-SPEC "Data protocols").
enum class Protocol {
  kFull,      // every training image
  kSampled,   // `samples` random training images (seeded)
  kFraction,  // `fraction` of each class of the training set (seeded)
};
Protocol parse_protocol(const std::string& name);  // "full" | "sampled" | "fraction"
std::string to_string(Protocol protocol);

struct DomainSpec {
  std::string dataset;       // "mnist" | "usps" | "svhn" | "mnistm" | "folder"
  std::string folder;        // image-folder root, for dataset == "folder"
  Protocol protocol = Protocol::kFull;
  int64_t samples = 0;       // for kSampled
  double fraction = 1.0;     // for kFraction, in (0, 1]
  // Labelled training images held out before the protocol draws (seeded),
  // never trained or adapted on: a validation set for choosing settings.
  int64_t validation = 0;
  // Labelled training images held out from those the protocol leaves unused (seeded), so the
  // protocol's draw stays as it is: held-out source images for the DEV validator. At most what
  // is left; 0 with the full protocol.
  int64_t unused_held_out = 0;
};

// The common format both domains are brought to.
struct Preprocess {
  int64_t channels = 1;  // 1: RGB→grey; 3: grey→RGB (replicated)
  int64_t size = 28;     // output H = W
  // How a smaller digit image (USPS 16×16) becomes `size`×`size`:
  // "mnist": resized into a 20×20 box and centred in 28×28 (the way MNIST was made,
  //          scaled to `size`); "stretch": resized straight to size×size.
  std::string framing = "mnist";
  // Large images: resize to resize×resize, then crop size×size (random crop in
  // training when streamed, centre crop otherwise); 0: resize straight to size.
  int64_t resize = 0;
  bool flip = false;  // random horizontal flips of streamed training images
};

// Loads the domain from the data root, holds out `spec.validation` training
// images (DatasetSplits::validation), applies the protocol to the rest of the
// training split (the test split is always complete) and the preprocessing to all.
DatasetSplits load_domain(const DomainSpec& spec, const Preprocess& preprocess,
                          const std::filesystem::path& data_root, uint64_t seed);

// The raw splits of a named dataset as stored (no protocol, native size/channels).
DatasetSplits load_raw(const std::string& dataset, const std::filesystem::path& data_root,
                       const std::string& folder = {});

// Data root: `explicit_root` if non-empty, else $FAN_DATA, else
// $XDG_CACHE_HOME/fan-workbench/data, else ~/.cache/fan-workbench/data.
std::filesystem::path resolve_data_root(const std::string& explicit_root = {});

// The dataset names load_raw accepts: mnist, usps, svhn, mnistm, folder.
std::vector<std::string> dataset_names();

// The files load_raw reads for `dataset` under `data_root` (whether or not they
// exist yet); for "folder", the folder itself.
std::vector<std::filesystem::path> dataset_files(const std::string& dataset,
                                                 const std::filesystem::path& data_root,
                                                 const std::string& folder = {});

// MNIST's file `base` (e.g. "train-images-idx3-ubyte") under data_root/mnist:
// `base`.gz or the uncompressed `base`. Neither is a fan::Error naming the
// file and telling to run `fan data fetch mnist`.
std::filesystem::path mnist_file(const std::filesystem::path& data_root, const std::string& base);

// Where a "folder" domain's images are: `folder` itself when absolute or
// present relative to the working directory, else data_root/folder.
std::filesystem::path resolve_folder(const std::string& folder,
                                     const std::filesystem::path& data_root);

}  // namespace fan::data
