// SVHN cropped digits (train_32x32.mat / test_32x32.mat, MATLAB v5) through matio.
#include "core/data/svhn.h"

#include "core/util/error.h"

#include <matio.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace fan::data {
namespace {

struct MatCloser {
  void operator()(mat_t* mat) const { Mat_Close(mat); }
};
struct VarFreer {
  void operator()(matvar_t* var) const { Mat_VarFree(var); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

std::string dims_text(const matvar_t* var) {
  std::string text;
  for (int i = 0; i < var->rank; ++i) text += (i ? "×" : "") + std::to_string(var->dims[i]);
  return text;
}

// y is stored as double in the official files; accept any real numeric class.
double label_at(const matvar_t* var, size_t i) {
  switch (var->class_type) {
    case MAT_C_DOUBLE:
      return static_cast<const double*>(var->data)[i];
    case MAT_C_SINGLE:
      return static_cast<const float*>(var->data)[i];
    case MAT_C_UINT8:
      return static_cast<const uint8_t*>(var->data)[i];
    case MAT_C_INT8:
      return static_cast<const int8_t*>(var->data)[i];
    case MAT_C_UINT16:
      return static_cast<const uint16_t*>(var->data)[i];
    case MAT_C_INT16:
      return static_cast<const int16_t*>(var->data)[i];
    case MAT_C_UINT32:
      return static_cast<const uint32_t*>(var->data)[i];
    case MAT_C_INT32:
      return static_cast<const int32_t*>(var->data)[i];
    case MAT_C_INT64:
      return static_cast<double>(static_cast<const int64_t*>(var->data)[i]);
    case MAT_C_UINT64:
      return static_cast<double>(static_cast<const uint64_t*>(var->data)[i]);
    default:
      return std::nan("");
  }
}

}  // namespace

Dataset read_svhn_mat(const std::filesystem::path& path, const std::string& name) {
  const std::string where = path.string();
  if (!std::filesystem::is_regular_file(path)) throw Error("no such file: " + where);
  MatFile mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) throw Error(where + ": not a MATLAB .mat file (or unreadable)");

  MatVar x(Mat_VarRead(mat.get(), "X"));
  if (!x) throw Error(where + ": no variable X (the images, 32×32×3×N uint8)");
  if (x->rank != 4 || x->isComplex || x->class_type != MAT_C_UINT8 || x->data == nullptr) {
    throw Error(where + ": X must be a real 4-D uint8 array H×W×C×N, found rank " + std::to_string(x->rank) +
                " (" + dims_text(x.get()) + ")" + (x->class_type != MAT_C_UINT8 ? ", not uint8" : ""));
  }
  const auto height = static_cast<int64_t>(x->dims[0]);
  const auto width = static_cast<int64_t>(x->dims[1]);
  const auto channels = static_cast<int64_t>(x->dims[2]);
  const auto count = static_cast<int64_t>(x->dims[3]);
  if (channels != 3 && channels != 1) {
    throw Error(where + ": X is " + dims_text(x.get()) + ", expected H×W×3×N (3 colour channels)");
  }

  MatVar y(Mat_VarRead(mat.get(), "y"));
  if (!y) throw Error(where + ": no variable y (the labels, N×1)");
  if (y->rank != 2 || y->isComplex || y->data == nullptr ||
      static_cast<int64_t>(y->dims[0] * y->dims[1]) != count || (y->dims[0] != 1 && y->dims[1] != 1)) {
    throw Error(where + ": y is " + dims_text(y.get()) + ", expected " + std::to_string(count) +
                "×1 labels (one per image of X)");
  }

  std::vector<int64_t> labels(static_cast<size_t>(count));
  for (size_t i = 0; i < labels.size(); ++i) {
    const double label = label_at(y.get(), i);
    if (!(label >= 0 && label <= 10) || label != std::floor(label)) {
      throw Error(where + ": y(" + std::to_string(i + 1) + ") = " + std::to_string(label) +
                  " is not a label 1..10");
    }
    // SVHN writes the digit 0 as label 10.
    labels[i] = static_cast<int64_t>(label) % 10;
  }

  // Column-major X(h, w, c, n) is row-major [n][c][w][h]: swap the last two.
  torch::Tensor raw = torch::from_blob(x->data, {count, channels, width, height}, torch::kUInt8);
  Dataset dataset;
  dataset.images = raw.transpose(2, 3).to(torch::kFloat32).div_(255.0f).contiguous();
  dataset.labels = torch::from_blob(labels.data(), {count}, torch::kInt64).clone();
  dataset.num_classes = 10;
  dataset.name = name;
  return dataset;
}

}  // namespace fan::data
