// Image files through OpenCV, behind a torch-only interface (OpenCV is optional).
#pragma once
#include <torch/types.h>

#include <filesystem>

namespace fan::data {

// True when fan_core was built with OpenCV; without it every function below
// throws fan::Error("... built without OpenCV ...").
bool image_io_available();

// Reads an image file as C×H×W float32 in [0, 1]: C = 1 for grey files, 3 (RGB
// order) for colour ones; alpha is dropped; 16-bit files are scaled by 65535.
// An unreadable or undecodable file is a fan::Error naming the path.
torch::Tensor read_image(const std::filesystem::path& path);

// Reads an image as H×W×3 uint8, RGB order (grey files are replicated).
torch::Tensor read_image_rgb8(const std::filesystem::path& path);

// Writes C×H×W float in [0, 1] (C = 1 or 3, RGB order) or H×W / H×W×C uint8,
// encoded by the file's extension (.png is lossless), atomically.
void write_image(const std::filesystem::path& path, const torch::Tensor& image);

// The file extensions image folders read (lower case, with the dot).
bool is_image_file(const std::filesystem::path& path);

}  // namespace fan::data
