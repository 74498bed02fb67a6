// Writes the seed corpora of the fuzz targets: small valid inputs of each format.
// Usage: fuzz_make_seeds <corpus dir> <repository root>
#include "core/data/idx.h"
#include "core/io/checkpoint.h"
#include "core/util/fs.h"

#include <matio.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace data = fan::data;

namespace {

void write_text(const fs::path& path, const std::string& text) { fan::util::atomic_write(path, text); }

std::string usps_lines(int count) {
  std::string text;
  char value[16];
  for (int n = 0; n < count; ++n) {
    text += std::to_string(n % 10) + ".0000";
    for (int i = 0; i < 256; ++i) {
      std::snprintf(value, sizeof value, " %.4f", -1.0 + 2.0 * ((i * 7 + n) % 17) / 16.0);
      text += value;
    }
    text += "\n";
  }
  return text;
}

void write_mat(const fs::path& path, size_t side, size_t channels, size_t count, matio_classes label_class,
               matio_compression compression) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  if (mat == nullptr) throw std::runtime_error("cannot create " + path.string());
  std::vector<uint8_t> pixels(side * side * channels * count);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37);
  size_t x_dims[4] = {side, side, channels, count};
  matvar_t* x = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, x_dims, pixels.data(), MAT_F_DONT_COPY_DATA);
  Mat_VarWrite(mat, x, compression);
  Mat_VarFree(x);
  size_t y_dims[2] = {count, 1};
  std::vector<double> labels_double;
  std::vector<uint8_t> labels_uint8;
  for (size_t i = 0; i < count; ++i) {
    labels_double.push_back(static_cast<double>(i % 10 + 1));
    labels_uint8.push_back(static_cast<uint8_t>(i % 10 + 1));
  }
  matvar_t* y = label_class == MAT_C_DOUBLE ? Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, y_dims,
                                                            labels_double.data(), MAT_F_DONT_COPY_DATA)
                                            : Mat_VarCreate("y", MAT_C_UINT8, MAT_T_UINT8, 2, y_dims,
                                                            labels_uint8.data(), MAT_F_DONT_COPY_DATA);
  Mat_VarWrite(mat, y, compression);
  Mat_VarFree(y);
  Mat_Close(mat);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz_make_seeds <corpus dir> <repository root>\n";
    return 2;
  }
  const fs::path out = argv[1];
  const fs::path root = argv[2];
  for (const char* target :
       {"fuzz_idx", "fuzz_usps", "fuzz_svhn_mat", "fuzz_project_json", "fuzz_tsne_csv", "fuzz_checkpoint"})
    fs::create_directories(out / target);

  // IDX: images (3-D and 4-D), labels, raw and gzip, and images/labels pairs.
  const torch::Tensor images3 =
      torch::arange(0, 5 * 4 * 4).remainder(256).to(torch::kUInt8).reshape({5, 4, 4});
  const torch::Tensor images4 =
      torch::arange(0, 2 * 3 * 3 * 3).remainder(256).to(torch::kUInt8).reshape({2, 3, 3, 3});
  const torch::Tensor labels5 = torch::tensor({3, 0, 9, 1, 3}, torch::kUInt8);
  const torch::Tensor labels2 = torch::tensor({7, 2}, torch::kUInt8);
  const fs::path idx = out / "fuzz_idx";
  data::write_idx(idx / "images3-idx3-ubyte", images3);
  data::write_idx(idx / "images3-idx3-ubyte.gz", images3);
  data::write_idx(idx / "images4-idx4-ubyte.gz", images4);
  data::write_idx(idx / "labels-idx1-ubyte", labels5);
  data::write_idx(idx / "labels-idx1-ubyte.gz", labels5);
  const std::string separator = "--FAN-LABELS--";
  write_text(idx / "pair3", fan::util::read_file(idx / "images3-idx3-ubyte") + separator +
                                fan::util::read_file(idx / "labels-idx1-ubyte"));
  write_text(idx / "pair3.gz", fan::util::read_file(idx / "images3-idx3-ubyte.gz") + separator +
                                   fan::util::read_file(idx / "labels-idx1-ubyte.gz"));
  data::write_idx(idx / "tmp-images4", images4);
  data::write_idx(idx / "tmp-labels2", labels2);
  write_text(idx / "pair4", fan::util::read_file(idx / "tmp-images4") + separator +
                                fan::util::read_file(idx / "tmp-labels2"));
  fs::remove(idx / "tmp-images4");
  fs::remove(idx / "tmp-labels2");

  // USPS: a few digits, plain and gzip.
  write_text(out / "fuzz_usps" / "zip.train", usps_lines(3));
  fan::util::atomic_write_gzip(out / "fuzz_usps" / "zip.train.gz", usps_lines(2));

  // SVHN: X H×W×C×N uint8 and y N×1, plain and zlib-compressed v5.
  const fs::path svhn = out / "fuzz_svhn_mat";
  write_mat(svhn / "svhn_rgb.mat", 4, 3, 2, MAT_C_DOUBLE, MAT_COMPRESSION_NONE);
  write_mat(svhn / "svhn_rgb_zlib.mat", 4, 3, 3, MAT_C_DOUBLE, MAT_COMPRESSION_ZLIB);
  write_mat(svhn / "svhn_grey_uint8_labels.mat", 3, 1, 2, MAT_C_UINT8, MAT_COMPRESSION_NONE);

  // Project JSON: every shipped project, plus the smallest valid one.
  for (const auto& entry : fs::directory_iterator(root / "projects")) {
    if (entry.path().extension() == ".json")
      fs::copy_file(entry.path(), out / "fuzz_project_json" / entry.path().filename(),
                    fs::copy_options::overwrite_existing);
  }
  write_text(out / "fuzz_project_json" / "minimal.json", "{}\n");

  // t-SNE CSV.
  write_text(out / "fuzz_tsne_csv" / "points.csv", "0.5,1,-2\n3e-2,+4,5.25\n\n6,7,8\n");
  write_text(out / "fuzz_tsne_csv" / "points_crlf.csv", "1, 2\r\n 3 ,4\r\n");

  // Checkpoints: what save_checkpoint writes, with a module and an optimizer
  // that has taken a step (so its state holds tensors).
  torch::manual_seed(0);
  torch::nn::Linear layer(torch::nn::LinearOptions(3, 2));
  torch::optim::Adam adam(layer->parameters(), torch::optim::AdamOptions(1e-3));
  layer->forward(torch::ones({1, 3})).sum().backward();
  adam.step();
  const nlohmann::json state = {
      {"stage", 2}, {"iteration", 10}, {"epoch", 1}, {"metrics", {{"accuracy", 0.5}}}};
  fan::io::save_checkpoint(out / "fuzz_checkpoint" / "linear_adam.pt", {{"encoder", layer.get()}},
                           {{"adam", &adam}}, state);
  fan::io::save_checkpoint(out / "fuzz_checkpoint" / "state_only.pt", {}, {}, {{"stage", 1}});
  std::cout << "seeds written under " << out << "\n";
  return 0;
}
