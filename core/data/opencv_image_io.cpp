// Image files through OpenCV (built only when FAN_WITH_OPENCV is on).
#include "core/data/image_io.h"

#include "core/util/error.h"
#include "core/util/fs.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace fan::data {
namespace {

// Decodes from bytes we read ourselves, so a missing file and an undecodable
// one give distinct messages, and non-ASCII paths need no OpenCV support.
cv::Mat decode(const std::filesystem::path& path, int flags) {
  if (!std::filesystem::is_regular_file(path)) throw Error("no such image file: " + path.string());
  const std::string bytes = util::read_file(path);
  if (bytes.empty()) throw Error(path.string() + ": empty image file");
  const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& error) {
    throw Error(path.string() + ": cannot decode image: " + error.what());
  }
  if (image.empty()) throw Error(path.string() + ": cannot decode image (corrupt or unsupported)");
  return image;
}

}  // namespace

bool image_io_available() { return true; }

torch::Tensor read_image(const std::filesystem::path& path) {
  cv::Mat image = decode(path, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  double scale = 1.0 / 255.0;
  if (image.depth() == CV_16U) {
    scale = 1.0 / 65535.0;
  } else if (image.depth() != CV_8U) {
    throw Error(path.string() + ": unsupported pixel depth (expected 8- or 16-bit)");
  }
  if (image.channels() == 4) {
    cv::cvtColor(image, image, cv::COLOR_BGRA2RGB);
  } else if (image.channels() == 3) {
    cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  } else if (image.channels() != 1) {
    throw Error(path.string() + ": unsupported channel count " + std::to_string(image.channels()));
  }
  cv::Mat as_float;
  image.convertTo(as_float, CV_MAKETYPE(CV_32F, image.channels()), scale);
  const int64_t channels = as_float.channels();
  torch::Tensor hwc =
      torch::from_blob(as_float.data, {as_float.rows, as_float.cols, channels}, torch::kFloat32);
  // A copy, never a view: `as_float` owns the pixels and dies here (for one
  // channel, permute(...).contiguous() would still be that view).
  torch::Tensor chw = torch::empty({channels, as_float.rows, as_float.cols}, torch::kFloat32);
  chw.copy_(hwc.permute({2, 0, 1}));
  return chw;
}

torch::Tensor read_image_rgb8(const std::filesystem::path& path) {
  cv::Mat image = decode(path, cv::IMREAD_COLOR);
  cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  return torch::from_blob(image.data, {image.rows, image.cols, 3}, torch::kUInt8).clone();
}

void write_image(const std::filesystem::path& path, const torch::Tensor& image) {
  torch::Tensor hwc;
  if (image.scalar_type() == torch::kUInt8) {
    hwc = image.dim() == 2 ? image.unsqueeze(2) : image;
  } else if (image.dim() == 3) {
    hwc = image.to(torch::kFloat32).clamp(0, 1).mul(255).round().to(torch::kUInt8).permute({1, 2, 0});
  }
  if (!hwc.defined() || hwc.dim() != 3 || (hwc.size(2) != 1 && hwc.size(2) != 3)) {
    throw Error("write_image " + path.string() + ": expected C×H×W float or H×W×C uint8, C = 1 or 3");
  }
  hwc = hwc.contiguous();
  const auto channels = static_cast<int>(hwc.size(2));
  cv::Mat mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_MAKETYPE(CV_8U, channels),
              hwc.data_ptr<uint8_t>());
  cv::Mat bgr = mat;
  if (channels == 3) cv::cvtColor(mat, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> encoded;
  bool ok = false;
  try {
    ok = cv::imencode(path.extension().string(), bgr, encoded);
  } catch (const cv::Exception& error) {
    throw Error("cannot encode " + path.string() + ": " + error.what());
  }
  if (!ok) throw Error("cannot encode " + path.string() + " (unknown image extension?)");
  util::atomic_write(path, std::string(encoded.begin(), encoded.end()));
}

}  // namespace fan::data
