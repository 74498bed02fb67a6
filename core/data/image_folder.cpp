// Labelled image folders: one sub-folder per class, optional train/ and test/.
#include "core/data/image_folder.h"

#include "core/data/image_io.h"
#include "core/data/preprocess.h"
#include "core/util/error.h"

#include <algorithm>
#include <string>
#include <vector>

namespace fan::data {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> sorted_entries(const fs::path& folder, bool directories) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    if (directories ? entry.is_directory() : (entry.is_regular_file() && is_image_file(entry.path()))) {
      entries.push_back(entry.path());
    }
  }
  if (error) throw Error("cannot list " + folder.string() + ": " + error.message());
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::vector<LabelledFile> list_split(const fs::path& split_root, const std::vector<std::string>& classes) {
  std::vector<LabelledFile> files;
  for (const fs::path& class_folder : sorted_entries(split_root, true)) {
    const std::string name = class_folder.filename().string();
    const auto found = std::find(classes.begin(), classes.end(), name);
    if (found == classes.end()) {
      throw Error(class_folder.string() + ": class folder not among the training classes");
    }
    const std::vector<fs::path> images = sorted_entries(class_folder, false);
    if (images.empty()) throw Error(class_folder.string() + ": empty class folder (no image files)");
    for (const fs::path& image : images) files.push_back({image, found - classes.begin()});
  }
  return files;
}

Dataset read_files(const std::vector<LabelledFile>& files, int64_t num_classes, int64_t& height, int64_t& width,
                   const std::string& name) {
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  bool any_colour = false;
  for (const LabelledFile& file : files) {
    torch::Tensor image = read_image(file.path);
    if (height == 0) {
      height = image.size(1);
      width = image.size(2);
    }
    image = resize_images(image.unsqueeze(0), height, width);
    any_colour = any_colour || image.size(1) == 3;
    images.push_back(image);
    labels.push_back(file.label);
  }
  if (any_colour) {
    for (torch::Tensor& image : images) image = to_rgb(image);
  }
  Dataset dataset;
  dataset.images = images.empty() ? torch::empty({0, 1, height, width}) : torch::cat(images, 0);
  dataset.labels = torch::tensor(labels, torch::kInt64);
  dataset.num_classes = num_classes;
  dataset.name = name;
  return dataset;
}

}  // namespace

FolderListing list_image_folder(const fs::path& root, double test_fraction) {
  if (!fs::is_directory(root)) throw Error("image folder not found: " + root.string());
  const bool has_splits = fs::is_directory(root / "train") && fs::is_directory(root / "test");
  const fs::path train_root = has_splits ? root / "train" : root;

  FolderListing listing;
  for (const fs::path& folder : sorted_entries(train_root, true)) {
    listing.class_names.push_back(folder.filename().string());
  }
  if (listing.class_names.empty()) {
    throw Error(train_root.string() + ": no class sub-folders (expected one folder of images per class)");
  }
  const auto num_classes = static_cast<int64_t>(listing.class_names.size());

  listing.train = list_split(train_root, listing.class_names);
  if (has_splits) {
    listing.test = list_split(root / "test", listing.class_names);
    listing.info = "train/ and test/ folders";
  } else {
    std::vector<LabelledFile> all = std::move(listing.train);
    listing.train.clear();
    for (int64_t c = 0; c < num_classes; ++c) {
      std::vector<LabelledFile> members;
      for (const LabelledFile& file : all) {
        if (file.label == c) members.push_back(file);
      }
      const auto n = static_cast<int64_t>(members.size());
      // At least one training image per class, even when the class is tiny.
      const int64_t held_out = std::min<int64_t>(n - 1, static_cast<int64_t>(n * test_fraction));
      const std::vector<int64_t> order = permutation(n, kFolderSplitSeed + static_cast<uint64_t>(c));
      std::vector<int64_t> test_rows(order.begin(), order.begin() + held_out);
      std::sort(test_rows.begin(), test_rows.end());
      for (int64_t i = 0; i < n; ++i) {
        const bool is_test = std::binary_search(test_rows.begin(), test_rows.end(), i);
        (is_test ? listing.test : listing.train).push_back(members[static_cast<size_t>(i)]);
      }
    }
    listing.info = "no train/ and test/ folders: each class split " +
                   std::to_string(std::lround(100 * (1 - test_fraction))) + "/" +
                   std::to_string(std::lround(100 * test_fraction)) + " into train/test with fixed seed " +
                   std::to_string(kFolderSplitSeed);
  }
  return listing;
}

DatasetSplits read_image_folder(const fs::path& root, const ImageFolderOptions& options) {
  FolderListing listing = list_image_folder(root, options.test_fraction);
  DatasetSplits splits;
  splits.class_names = std::move(listing.class_names);
  splits.info = std::move(listing.info);
  const auto num_classes = static_cast<int64_t>(splits.class_names.size());
  int64_t height = options.size, width = options.size;
  const std::string base =
      root.filename().string().empty() ? root.parent_path().filename().string() : root.filename().string();
  splits.train = read_files(listing.train, num_classes, height, width, base + "/train");
  splits.test = read_files(listing.test, num_classes, height, width, base + "/test");
  // Channels must agree across splits for the preprocessing that follows.
  if (splits.train.images.size(1) != splits.test.images.size(1) && splits.test.size() > 0) {
    splits.train.images = to_rgb(splits.train.images);
    splits.test.images = to_rgb(splits.test.images);
  }
  return splits;
}

}  // namespace fan::data
