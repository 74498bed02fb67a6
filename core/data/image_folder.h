// Labelled image folders: one sub-folder per class, optional train/ and test/.
#pragma once
#include "core/data/dataset.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fan::data {

// Seed of the fixed 80/20 split of folders without train/ and test/.
constexpr uint64_t kFolderSplitSeed = 20180604;

struct ImageFolderOptions {
  int64_t size = 0;            // resize every image to size×size; 0: to the first image's size
  double test_fraction = 0.2;  // share of each class held out when there are no split folders
};

struct LabelledFile {
  std::filesystem::path path;
  int64_t label = 0;
};

// The files of an image folder and their classes, split as read_image_folder
// splits them; nothing is decoded (streamed domains decode batch by batch).
struct FolderListing {
  std::vector<LabelledFile> train, test;
  std::vector<std::string> class_names;  // sorted sub-folder names; labels index them
  std::string info;
};
FolderListing list_image_folder(const std::filesystem::path& root, double test_fraction = 0.2);

// Reads ROOT/CLASS/*.png|jpg|... or ROOT/{train,test}/CLASS/*. Class names
// (DatasetSplits::class_names) are the sorted sub-folder names; labels index
// them. Without split folders each class is split 80/20 with a fixed seed, and
// `info` says so. Grey and colour files may mix (all become RGB then), and
// sizes may differ (resized bilinearly). An empty class folder, an undecodable
// image or a missing root is a fan::Error naming the path.
DatasetSplits read_image_folder(const std::filesystem::path& root, const ImageFolderOptions& options = {});

}  // namespace fan::data
