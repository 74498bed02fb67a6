// Image-file helpers that need no OpenCV, and stand-ins when it is absent.
#include "core/data/image_io.h"

#include "core/util/error.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace fan::data {

bool is_image_file(const std::filesystem::path& path) {
  static const std::array<std::string, 11> kExtensions = {".png",  ".jpg", ".jpeg", ".bmp", ".tif", ".tiff",
                                                          ".webp", ".pgm", ".ppm",  ".pbm", ".pnm"};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

#ifndef FAN_WITH_OPENCV
namespace {
[[noreturn]] void no_opencv(const std::filesystem::path& path) {
  throw Error(path.string() + ": cannot read or write images: fan was built without OpenCV " +
              "(configure with -DFAN_WITH_OPENCV=ON)");
}
}  // namespace

bool image_io_available() { return false; }
torch::Tensor read_image(const std::filesystem::path& path) { no_opencv(path); }
torch::Tensor read_image_rgb8(const std::filesystem::path& path) { no_opencv(path); }
void write_image(const std::filesystem::path& path, const torch::Tensor&) { no_opencv(path); }
#endif

}  // namespace fan::data
