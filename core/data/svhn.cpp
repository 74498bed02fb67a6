// SVHN cropped digits (train_32x32.mat / test_32x32.mat, MATLAB v5) through matio.
#include "core/data/svhn.h"

#include "core/util/error.h"

#include <fcntl.h>
#ifdef FAN_WITH_MATIO
#include <matio.h>
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace fan::data {

#ifdef FAN_WITH_MATIO
namespace {

// The largest variable we let matio allocate (bytes). SVHN's biggest file
// (extra_32x32.mat) holds 531,131 × 3,072 bytes ≈ 1.6 GB of X.
constexpr uint64_t kMaxVariableBytes = uint64_t{1} << 32;
// zlib cannot expand data more than about 1032:1, so a compressed variable
// that claims more than this many bytes per file byte is lying.
constexpr uint64_t kMaxDeflateRatio = 1032;

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

// MAT-file v5 layout (MathWorks, "MAT-File Format", ch. 1): a 128-byte
// header, then top-level data elements, each an 8-byte tag (type, byte count)
// and its data, padded to 8 bytes. A variable is a miMATRIX element (array
// flags, dims, name, data) or a miCOMPRESSED one holding a zlib-deflated
// miMATRIX.
constexpr size_t kMatHeaderBytes = 128;
constexpr uint32_t kMiInt8 = 1, kMiInt32 = 5, kMiUint32 = 6, kMiMatrix = 14, kMiCompressed = 15;
// How much of a compressed variable we inflate to see its header (flags, dims,
// name): real headers take well under a hundred bytes.
constexpr size_t kCompressedHeaderPeek = 4096;

// Reads little- or big-endian words from a byte span, as the header says.
struct MatBytes {
  const uint8_t* data;
  uint64_t size;
  bool swapped;
  uint32_t u32(uint64_t offset) const {
    uint32_t v;
    std::memcpy(&v, data + offset, 4);
    return swapped ? __builtin_bswap32(v) : v;
  }
};

// One element's tag at `offset`: its type, byte count and where its data starts.
// Small-data elements pack type and count into the first four bytes.
struct MatTag {
  uint32_t type = 0;
  uint64_t bytes = 0;
  uint64_t data = 0;
  uint64_t next = 0;  // the following element (padded to 8)
};

MatTag read_tag(const MatBytes& in, uint64_t offset, uint64_t end,
                const std::function<Error(std::string)>& corrupt) {
  if (end < offset || end - offset < 8) throw corrupt("truncated element tag");
  MatTag tag;
  const uint32_t first = in.u32(offset);
  if ((first >> 16) != 0) {
    tag.type = first & 0xffff;
    tag.bytes = first >> 16;
    if (tag.bytes > 4) throw corrupt("bad small element");
    tag.data = offset + 4;
    tag.next = offset + 8;
    return tag;
  }
  tag.type = first;
  tag.bytes = in.u32(offset + 4);
  tag.data = offset + 8;
  if (end - tag.data < tag.bytes)
    throw corrupt("element of " + std::to_string(tag.bytes) + " bytes past its end");
  const uint64_t padded = (tag.bytes + 7) / 8 * 8;
  tag.next = end - tag.data < padded ? end : tag.data + padded;
  return tag;
}

// Bytes per element of a MAT numeric data type, 0 for anything else.
uint64_t mi_type_size(uint32_t type) {
  switch (type) {
    case 1:
    case 2:
      return 1;  // miINT8, miUINT8
    case 3:
    case 4:
      return 2;  // miINT16, miUINT16
    case 5:
    case 6:
    case 7:
      return 4;  // miINT32, miUINT32, miSINGLE
    case 9:
    case 12:
    case 13:
      return 8;  // miDOUBLE, miINT64, miUINT64
    default:
      return 0;
  }
}

// Checks a miMATRIX element's sub-elements in [offset, end): array flags,
// dims, name and the real data, which must hold exactly one value per element.
// Numeric real arrays only (SVHN holds nothing else). Tags are read only below
// `readable` (for a compressed variable, the part we inflated); sizes are
// checked against `end`.
void check_matrix(const MatBytes& in, uint64_t offset, uint64_t end, uint64_t readable,
                  const std::function<Error(std::string)>& corrupt) {
  const uint64_t tag_end = std::min(end, readable);
  const MatTag flags = read_tag(in, offset, tag_end, corrupt);
  if (flags.type != kMiUint32 || flags.bytes != 8) throw corrupt("bad array flags");
  const uint32_t flag_word = in.u32(flags.data);
  const uint32_t matrix_class = flag_word & 0xff;
  if (matrix_class < MAT_C_DOUBLE || matrix_class > MAT_C_UINT64)
    throw corrupt("a variable of MATLAB class " + std::to_string(matrix_class) +
                  " (only numeric arrays expected)");
  if ((flag_word & 0x0800) != 0) throw corrupt("a complex variable (only real arrays expected)");
  const MatTag dims = read_tag(in, flags.next, tag_end, corrupt);
  if (dims.type != kMiInt32 || dims.bytes < 8 || dims.bytes % 4 != 0) throw corrupt("bad dimensions");
  const uint64_t max_elements = end - offset;  // at least one byte each
  uint64_t elements = 1;
  for (uint64_t i = 0; i < dims.bytes / 4; ++i) {
    const auto dim = static_cast<int32_t>(in.u32(dims.data + 4 * i));
    if (dim < 0) throw corrupt("negative dimension");
    elements =
        dim == 0 ? 0
                 : (elements > max_elements / static_cast<uint64_t>(dim) ? max_elements + 1 : elements * dim);
  }
  if (elements > max_elements) throw corrupt("a variable claims more elements than the file holds");
  const MatTag name = read_tag(in, dims.next, tag_end, corrupt);
  if (name.type != kMiInt8) throw corrupt("bad variable name");
  if (name.next >= tag_end || tag_end - name.next < 8) throw corrupt("a variable without data");
  // Only the data's tag need be readable here; its byte count is checked
  // against the whole element.
  const uint32_t first = in.u32(name.next);
  const bool small = (first >> 16) != 0;
  const uint32_t values_type = small ? first & 0xffff : first;
  const uint64_t values_bytes = small ? first >> 16 : in.u32(name.next + 4);
  const uint64_t values_data = name.next + (small ? 4 : 8);
  if (values_bytes > end - values_data || (small && values_bytes > 4))
    throw corrupt("data past the end of its variable");
  const uint64_t size = mi_type_size(values_type);
  if (size == 0 || values_bytes != elements * size)
    throw corrupt("a variable's data does not match its " + std::to_string(elements) + " elements");
}

// Walks the file's elements before matio does: matio trusts the byte counts,
// dims and name lengths it reads and allocates what they claim, so a corrupt
// file must be turned away here.
void check_mat_structure(const std::filesystem::path& path) {
  const std::string where = path.string();
  const auto corrupt = [&](const std::string& what) {
    return Error(where + ": not a readable MATLAB v5 .mat file (" + what + ")");
  };
  // Mapped, not read: SVHN's extra set is a 1.3 GB file and we look at a few
  // hundred bytes of it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot read " + where + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    throw Error("cannot read " + where + ": " + std::strerror(errno));
  }
  const auto file_size = static_cast<uint64_t>(info.st_size);
  if (file_size < kMatHeaderBytes) {
    ::close(fd);
    throw corrupt("no 128-byte header");
  }
  void* mapped = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) throw Error("cannot map " + where + ": " + std::strerror(errno));
  const std::unique_ptr<void, std::function<void(void*)>> unmap(
      mapped, [file_size](void* p) { ::munmap(p, file_size); });
  const auto* data = static_cast<const uint8_t*>(mapped);
  const std::string_view bytes(static_cast<const char*>(mapped), file_size);
  const bool little = data[126] == 'I' && data[127] == 'M';
  const bool big = data[126] == 'M' && data[127] == 'I';
  if (!little && !big) throw corrupt("no endian indicator; v7.3 (HDF5) and v4 files are not supported");
  const MatBytes in{data, bytes.size(), big};
  const uint32_t version =
      big ? (uint32_t{data[124]} << 8 | data[125]) : (uint32_t{data[125]} << 8 | data[124]);
  if (version != 0x0100) throw corrupt("version " + std::to_string(version) + ", expected 0x0100 (v5)");
  uint64_t offset = kMatHeaderBytes;
  std::vector<uint8_t> peek(kCompressedHeaderPeek);
  while (offset < bytes.size()) {
    if (bytes.size() - offset < 8) throw corrupt("trailing bytes after the last variable");
    const MatTag element = read_tag(in, offset, bytes.size(), corrupt);
    if (element.type == kMiMatrix) {
      check_matrix(in, element.data, element.data + element.bytes, element.data + element.bytes, corrupt);
    } else if (element.type == kMiCompressed) {
      z_stream z{};
      if (inflateInit(&z) != Z_OK) throw corrupt("zlib init failed");
      z.next_in = const_cast<Bytef*>(data + element.data);
      z.avail_in = static_cast<uInt>(element.bytes);
      z.next_out = peek.data();
      z.avail_out = static_cast<uInt>(peek.size());
      const int status = inflate(&z, Z_SYNC_FLUSH);
      const uint64_t got = peek.size() - z.avail_out;
      inflateEnd(&z);
      if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
        throw corrupt("bad compressed data");
      const MatBytes inner{peek.data(), got, big};
      const MatTag matrix = read_tag(inner, 0, got < 8 ? got : ~uint64_t{0} >> 1, corrupt);
      if (matrix.type != kMiMatrix) throw corrupt("compressed element holds no array");
      const uint64_t inflated_limit = element.bytes * kMaxDeflateRatio;
      if (matrix.bytes > inflated_limit) throw corrupt("compressed array claims more than its data can hold");
      // The header and the data's tag must lie in the inflated prefix (in real
      // files they take well under a hundred bytes).
      check_matrix(inner, matrix.data, matrix.data + matrix.bytes, got, corrupt);
    } else {
      throw corrupt("unexpected element type " + std::to_string(element.type));
    }
    // Compressed elements are not padded; the others are, to 8 bytes.
    offset = element.type == kMiCompressed ? element.data + element.bytes : element.next;
  }
}

// Bytes that `var` (read with Mat_VarReadInfo, no data yet) claims; UINT64_MAX
// when the product of its dims overflows.
uint64_t claimed_bytes(const matvar_t* var) {
  uint64_t bytes = std::max<uint64_t>(Mat_SizeOfClass(var->class_type), 1);
  for (int i = 0; i < var->rank; ++i) {
    const uint64_t dim = var->dims[i];
    if (dim != 0 && bytes > UINT64_MAX / dim) return UINT64_MAX;
    bytes *= dim;
  }
  return var->isComplex ? (bytes > UINT64_MAX / 2 ? UINT64_MAX : 2 * bytes) : bytes;
}

// Reads variable `name` after checking what its header claims against the
// cap and the file's size, so that a corrupt header is an error and never an
// allocation of the size it claims.
MatVar read_variable(mat_t* mat, const char* name, uint64_t file_bytes, const std::string& where) {
  MatVar info(Mat_VarReadInfo(mat, name));
  if (!info) return nullptr;
  if (info->rank < 0 || (info->rank > 0 && info->dims == nullptr))
    throw Error(where + ": variable " + name + " has a corrupt header");
  const uint64_t claimed = claimed_bytes(info.get());
  const uint64_t limit = std::min(kMaxVariableBytes, file_bytes * kMaxDeflateRatio);
  if (claimed > limit) {
    throw Error(where + ": variable " + name + " claims " + dims_text(info.get()) +
                " elements, more than the file can hold: corrupt header");
  }
  info.reset();
  // Mat_VarReadInfo advanced the file; Mat_VarRead searches from the start again.
  return MatVar(Mat_VarRead(mat, name));
}

// Bytes of data matio actually holds for a variable.
uint64_t data_bytes(const matvar_t* var) { return var->data == nullptr ? 0 : var->nbytes; }

}  // namespace

Dataset read_svhn_mat(const std::filesystem::path& path, const std::string& name) {
  const std::string where = path.string();
  if (!std::filesystem::is_regular_file(path)) throw Error("no such file: " + where);
  const uint64_t file_bytes = std::filesystem::file_size(path);
  check_mat_structure(path);
  MatFile mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) throw Error(where + ": not a MATLAB .mat file (or unreadable)");

  MatVar x = read_variable(mat.get(), "X", file_bytes, where);
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

  // What matio read must be all of X: count·channels·width·height bytes.
  uint64_t x_elements = 1;
  for (int i = 0; i < 4; ++i) x_elements *= x->dims[i];  // below the cap: read_variable checked it
  if (x->data_size != 1 || data_bytes(x.get()) != x_elements) {
    throw Error(where + ": X holds " + std::to_string(data_bytes(x.get())) + " bytes of data for " +
                dims_text(x.get()) + " elements: corrupt file");
  }

  MatVar y = read_variable(mat.get(), "y", file_bytes, where);
  if (!y) throw Error(where + ": no variable y (the labels, N×1)");
  if (y->rank != 2 || y->isComplex || y->data == nullptr ||
      static_cast<int64_t>(y->dims[0] * y->dims[1]) != count || (y->dims[0] != 1 && y->dims[1] != 1)) {
    throw Error(where + ": y is " + dims_text(y.get()) + ", expected " + std::to_string(count) +
                "×1 labels (one per image of X)");
  }

  const size_t label_size = Mat_SizeOfClass(y->class_type);
  if (label_size == 0 || data_bytes(y.get()) / label_size < static_cast<uint64_t>(count)) {
    throw Error(where + ": y holds " + std::to_string(data_bytes(y.get())) + " bytes of data for " +
                std::to_string(count) + " labels: corrupt file");
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

#else

Dataset read_svhn_mat(const std::filesystem::path& path, const std::string&) {
  throw Error(path.string() + ": this fan was built without matio (-DFAN_WITH_MATIO=OFF), so it cannot read "
              "SVHN .mat files; rebuild with libmatio-dev installed");
}

#endif  // FAN_WITH_MATIO

}  // namespace fan::data
