// Dataset readers on bytes the tests write themselves: IDX, USPS, SVHN .mat, image folders, MNIST-M.
#include "core/data/domain.h"
#include "core/data/idx.h"
#include "core/data/image_folder.h"
#include "core/data/image_io.h"
#include "core/data/mnistm.h"
#include "core/data/svhn.h"
#include "core/data/usps.h"
#include "core/test_util.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <matio.h>
#include <QtTest/QtTest>

#include <string>
#include <vector>

using fan::test::ScratchDir;
using fan::test::write_file;
using fan::test::error_of;
namespace data = fan::data;

namespace {

std::string be32(uint32_t value) {
  std::string bytes;
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>((value >> shift) & 0xff));
  return bytes;
}

// An IDX file by hand: magic, dims, then `payload` bytes 0, 1, 2, ...
std::string idx_bytes(uint32_t magic, const std::vector<uint32_t>& dims, size_t payload) {
  std::string bytes = be32(magic);
  for (uint32_t dim : dims) bytes += be32(dim);
  for (size_t i = 0; i < payload; ++i) bytes.push_back(static_cast<char>(i % 251));
  return bytes;
}

// USPS-format line: label then 256 values.
std::string usps_line(int label, const std::vector<double>& values) {
  std::string line = std::to_string(label) + ".0000";
  char text[32];
  for (double v : values) {
    std::snprintf(text, sizeof text, " %.4f", v);
    line += text;
  }
  return line + "\n";
}

// Writes a MATLAB v5 file with the given variables (name, class, dims, data).
struct MatVariable {
  std::string name;
  matio_classes class_type;
  matio_types data_type;
  std::vector<size_t> dims;
  std::vector<uint8_t> bytes;
};

void write_mat(const std::filesystem::path& path, const std::vector<MatVariable>& variables) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  QVERIFY(mat != nullptr);
  for (const MatVariable& variable : variables) {
    std::vector<size_t> dims = variable.dims;
    matvar_t* var = Mat_VarCreate(variable.name.c_str(), variable.class_type, variable.data_type,
                                  static_cast<int>(dims.size()), dims.data(),
                                  const_cast<uint8_t*>(variable.bytes.data()), MAT_F_DONT_COPY_DATA);
    QVERIFY(var != nullptr);
    QCOMPARE(Mat_VarWrite(mat, var, MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(var);
  }
  Mat_Close(mat);
}

std::vector<uint8_t> doubles_as_bytes(const std::vector<double>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(double));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// X(h, w, c, n) = h + H·w + H·W·c + H·W·C·n, column-major as MATLAB stores it.
MatVariable svhn_x(size_t height, size_t width, size_t channels, size_t count) {
  MatVariable x{"X", MAT_C_UINT8, MAT_T_UINT8, {height, width, channels, count}, {}};
  for (size_t i = 0; i < height * width * channels * count; ++i) x.bytes.push_back(static_cast<uint8_t>(i));
  return x;
}

}  // namespace

class DataReadersTest : public QObject {
  Q_OBJECT

 private slots:
  void idxRoundTrip_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("rank");
    QTest::newRow("raw 3-D") << "images-idx3-ubyte" << 3;
    QTest::newRow("gzip 3-D") << "images-idx3-ubyte.gz" << 3;
    QTest::newRow("gzip 4-D channels last") << "images-idx4-ubyte.gz" << 4;
  }
  void idxRoundTrip() {
    QFETCH(QString, file);
    QFETCH(int, rank);
    ScratchDir dir;
    const std::vector<int64_t> shape =
        rank == 3 ? std::vector<int64_t>{5, 3, 4} : std::vector<int64_t>{5, 3, 4, 3};
    const torch::Tensor pixels = torch::arange(0, torch::tensor(shape).prod().item<int64_t>())
                                     .remainder(256)
                                     .to(torch::kUInt8)
                                     .reshape(shape);
    const torch::Tensor labels = torch::tensor({3, 0, 9, 1, 3}, torch::kUInt8);
    data::write_idx(dir / file.toStdString(), pixels);
    data::write_idx(dir / "labels-idx1-ubyte.gz", labels);
    QCOMPARE(fan::util::is_gzip(dir / file.toStdString()), file.endsWith(".gz"));

    const data::Dataset dataset =
        data::read_idx_dataset(dir / file.toStdString(), dir / "labels-idx1-ubyte.gz", "t");
    QCOMPARE(dataset.size(), 5);
    QCOMPARE(dataset.images.dim(), 4);
    QCOMPARE(dataset.images.size(1), rank == 3 ? 1 : 3);
    const torch::Tensor expected =
        (rank == 3 ? pixels.unsqueeze(1) : pixels.permute({0, 3, 1, 2})).to(torch::kFloat32) / 255.0f;
    QVERIFY(torch::equal(dataset.images, expected));
    QVERIFY(torch::equal(dataset.labels, labels.to(torch::kInt64)));
    QCOMPARE(dataset.class_counts(), (std::vector<int64_t>{1, 1, 0, 2, 0, 0, 0, 0, 0, 1}));
  }

  void idxHandWritten() {
    // Bytes laid out by the format's definition, not by our writer.
    ScratchDir dir;
    write_file(dir / "a-idx3-ubyte", idx_bytes(0x00000803, {2, 2, 3}, 12));
    const torch::Tensor array = data::read_idx(dir / "a-idx3-ubyte");
    QCOMPARE(array.sizes().vec(), (std::vector<int64_t>{2, 2, 3}));
    QCOMPARE(array[1][0][2].item<int64_t>(), 8);  // row-major: 1·6 + 0·3 + 2
  }

  void idxBad_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("gzip");
    QTest::addColumn<QString>("expected");
    const auto row = [](const char* name, const std::string& bytes, bool gzip, const char* expected) {
      QTest::newRow(name) << QByteArray::fromStdString(bytes) << gzip << QString(expected);
    };
    row("truncated payload", idx_bytes(0x803, {2, 3, 3}, 17), false, "truncated");
    row("truncated payload, gzip", idx_bytes(0x803, {2, 3, 3}, 10), true, "truncated");
    row("truncated header", idx_bytes(0x803, {2}, 0), false, "truncated");
    row("empty file", "", false, "truncated");
    row("wrong magic", idx_bytes(0x12340803, {1, 1, 1}, 1), false, "not an IDX file");
    row("rank 0", idx_bytes(0x800, {}, 0), false, "not an IDX file");
    row("float elements", idx_bytes(0x0d03, {1, 1, 1}, 4), false, "not supported");
    row("10^12 images claimed", idx_bytes(0x803, {1000000000u, 1000u, 1u}, 64), false, "cap");
    row("10^12 images claimed, gzip", idx_bytes(0x803, {1000000u, 1000000u, 1u}, 64), true, "cap");
    row("trailing bytes", idx_bytes(0x801, {3}, 5), false, "after the");
  }
  void idxBad() {
    QFETCH(QByteArray, bytes);
    QFETCH(bool, gzip);
    QFETCH(QString, expected);
    ScratchDir dir;
    const std::filesystem::path path = dir / (gzip ? "bad-idx-ubyte.gz" : "bad-idx-ubyte");
    if (gzip) {
      fan::util::atomic_write_gzip(path, bytes.toStdString());
    } else {
      write_file(path, bytes.toStdString());
    }
    const QString message = error_of([&] { data::read_idx(path); });
    QVERIFY2(message.contains(QString::fromStdString(path.string())), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  void idxCorruptGzip() {
    ScratchDir dir;
    const std::filesystem::path whole = dir / "whole.gz";
    fan::util::atomic_write_gzip(whole, idx_bytes(0x803, {10, 28, 28}, 7840));
    std::string bytes = fan::util::read_file(whole);
    bytes.resize(bytes.size() / 2);  // a download cut short
    write_file(dir / "cut.gz", bytes);
    const QString message = error_of([&] { data::read_idx(dir / "cut.gz"); });
    QVERIFY2(message.contains(QString::fromStdString((dir / "cut.gz").string())), qPrintable(message));
  }

  void idxWrongDims_data() {
    QTest::addColumn<QByteArray>("images");
    QTest::addColumn<QByteArray>("labels");
    QTest::addColumn<QString>("blamed");  // which file the message must name
    const auto row = [](const char* name, const std::string& images, const std::string& labels,
                        const char* blamed) {
      QTest::newRow(name) << QByteArray::fromStdString(images) << QByteArray::fromStdString(labels)
                          << QString(blamed);
    };
    const std::string good_images = idx_bytes(0x803, {3, 2, 2}, 12);
    const std::string good_labels = idx_bytes(0x801, {3}, 3);
    row("labels as images", good_labels, good_labels, "images");
    row("images as labels", good_images, good_images, "labels");
    row("count mismatch", good_images, idx_bytes(0x801, {4}, 4), "labels");
    row("2-D images", idx_bytes(0x802, {3, 4}, 12), good_labels, "images");
    row("label 11", good_images, be32(0x801) + be32(3) + std::string("\x01\x0b\x02", 3), "labels");
  }
  void idxWrongDims() {
    QFETCH(QByteArray, images);
    QFETCH(QByteArray, labels);
    QFETCH(QString, blamed);
    ScratchDir dir;
    write_file(dir / "images", images.toStdString());
    write_file(dir / "labels", labels.toStdString());
    const QString message = error_of([&] { data::read_idx_dataset(dir / "images", dir / "labels", "t"); });
    QVERIFY2(message.contains(QString::fromStdString((dir / blamed.toStdString()).string())),
             qPrintable(message));
  }

  void usps() {
    ScratchDir dir;
    std::vector<double> first(256, -1.0), second(256, 1.0);
    first[0] = 0.0;     // → 0.5
    first[17] = 0.5;    // row 1, column 1 → 0.75
    first[255] = 1.0;   // → 1
    second[16] = -0.5;  // row 1, column 0 → 0.25
    fan::util::atomic_write_gzip(dir / "zip.train.gz", usps_line(7, first) + usps_line(0, second));
    const data::Dataset dataset = data::read_usps(dir / "zip.train.gz", "usps/train");
    QCOMPARE(dataset.size(), 2);
    QCOMPARE(dataset.images.sizes().vec(), (std::vector<int64_t>{2, 1, 16, 16}));
    QVERIFY(torch::equal(dataset.labels, torch::tensor({7, 0}, torch::kInt64)));
    const torch::Tensor image = dataset.images[0][0];
    QCOMPARE(image[0][0].item<float>(), 0.5f);
    QCOMPARE(image[1][1].item<float>(), 0.75f);
    QCOMPARE(image[15][15].item<float>(), 1.0f);
    QCOMPARE(image[0][1].item<float>(), 0.0f);
    QCOMPARE(dataset.images[1][0][1][0].item<float>(), 0.25f);
    QCOMPARE(dataset.images[1][0][5][5].item<float>(), 1.0f);
    QCOMPARE(image.sum().item<float>(), 0.5f + 0.75f + 1.0f);
  }

  void uspsBad_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    const std::string good = usps_line(1, std::vector<double>(256, -1.0));
    const std::string short_line = usps_line(2, std::vector<double>(255, -1.0));
    const std::string long_line = usps_line(2, std::vector<double>(257, -1.0));
    QTest::newRow("255 values on line 2")
        << QString::fromStdString(good + short_line) << ":2: expected the label and 256";
    QTest::newRow("257 values on line 3") << QString::fromStdString(good + good + long_line) << ":3:";
    QTest::newRow("not a number") << QString::fromStdString(good + "3.0 abc\n") << ":2: not a number";
    QTest::newRow("label 12") << QString::fromStdString("12" + good.substr(1)) << ":1: label";
    QTest::newRow("empty") << QString() << "no USPS digits";
  }
  void uspsBad() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    ScratchDir dir;
    fan::util::atomic_write_gzip(dir / "zip.test.gz", text.toStdString());
    const QString message = error_of([&] { data::read_usps(dir / "zip.test.gz", "usps/test"); });
    QVERIFY2(message.contains(QString::fromStdString((dir / "zip.test.gz").string())), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  void svhn() {
    ScratchDir dir;
    const size_t height = 4, width = 5, channels = 3, count = 2;
    write_mat(dir / "train_32x32.mat",
              {svhn_x(height, width, channels, count),
               {"y", MAT_C_DOUBLE, MAT_T_DOUBLE, {count, 1}, doubles_as_bytes({10.0, 3.0})}});
    const data::Dataset dataset = data::read_svhn_mat(dir / "train_32x32.mat", "svhn/train");
    QCOMPARE(dataset.images.sizes().vec(), (std::vector<int64_t>{2, 3, 4, 5}));
    QVERIFY(torch::equal(dataset.labels, torch::tensor({0, 3}, torch::kInt64)));  // 10 is the digit 0
    for (size_t n = 0; n < count; ++n) {
      for (size_t c = 0; c < channels; ++c) {
        for (size_t h = 0; h < height; ++h) {
          for (size_t w = 0; w < width; ++w) {
            const auto stored = static_cast<float>((h + height * (w + width * (c + channels * n))) % 256);
            QCOMPARE(dataset.images
                         .index({static_cast<int64_t>(n), static_cast<int64_t>(c), static_cast<int64_t>(h),
                                 static_cast<int64_t>(w)})
                         .item<float>(),
                     stored / 255.0f);
          }
        }
      }
    }
  }

  void svhnUint8Labels() {
    ScratchDir dir;
    write_mat(dir / "test_32x32.mat",
              {svhn_x(2, 2, 3, 3), {"y", MAT_C_UINT8, MAT_T_UINT8, {3, 1}, {1, 10, 9}}});
    const data::Dataset dataset = data::read_svhn_mat(dir / "test_32x32.mat", "svhn/test");
    QVERIFY(torch::equal(dataset.labels, torch::tensor({1, 0, 9}, torch::kInt64)));
  }

  void svhnBad_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("expected");
    QTest::newRow("no X") << 0 << "no variable X";
    QTest::newRow("no y") << 1 << "no variable y";
    QTest::newRow("3-D X") << 2 << "4-D uint8";
    QTest::newRow("double X") << 3 << "4-D uint8";
    QTest::newRow("y count differs") << 4 << "expected 2×1 labels";
    QTest::newRow("2 channels") << 5 << "3 colour channels";
    QTest::newRow("label 11") << 6 << "not a label";
    QTest::newRow("not a .mat file") << 7 << "";  // matio may take it for v4: any message naming the file
  }
  void svhnBad() {
    QFETCH(int, which);
    QFETCH(QString, expected);
    ScratchDir dir;
    const std::filesystem::path path = dir / "bad.mat";
    const MatVariable y{"y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, doubles_as_bytes({1.0, 2.0})};
    switch (which) {
      case 0:
        write_mat(path, {y});
        break;
      case 1:
        write_mat(path, {svhn_x(2, 2, 3, 2)});
        break;
      case 2:
        write_mat(path, {{"X", MAT_C_UINT8, MAT_T_UINT8, {2, 2, 6}, std::vector<uint8_t>(24, 1)}, y});
        break;
      case 3:
        write_mat(
            path,
            {{"X", MAT_C_DOUBLE, MAT_T_DOUBLE, {1, 1, 3, 2}, doubles_as_bytes(std::vector<double>(6, 0.5))},
             y});
        break;
      case 4:
        write_mat(path, {svhn_x(2, 2, 3, 2),
                         {"y", MAT_C_DOUBLE, MAT_T_DOUBLE, {3, 1}, doubles_as_bytes({1, 2, 3})}});
        break;
      case 5:
        write_mat(path, {svhn_x(2, 2, 2, 2), y});
        break;
      case 6:
        write_mat(path,
                  {svhn_x(2, 2, 3, 2), {"y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 1}, doubles_as_bytes({1, 11})}});
        break;
      default:
        write_file(path, "this is not MATLAB data, just text long enough to be read as a header" +
                             std::string(200, 'x'));
    }
    const QString message = error_of([&] { data::read_svhn_mat(path, "svhn/train"); });
    QVERIFY2(message.contains(QString::fromStdString(path.string())), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  void imageFolderWithSplits() {
    if (!data::image_io_available()) QSKIP("built without OpenCV");
    ScratchDir dir;
    // Class "b" sorts before "cat": labels follow sorted folder names.
    const auto grey = [](int value) { return torch::full({3, 2}, value, torch::kUInt8); };
    data::write_image(dir / "train/cat/x.png", grey(10));
    data::write_image(dir / "train/cat/y.png", grey(20));
    data::write_image(dir / "train/b/z.png", grey(30));
    data::write_image(dir / "test/b/w.png", grey(40));
    write_file(dir / "train/cat/notes.txt", "not an image: ignored");
    const data::DatasetSplits splits = data::read_image_folder(dir.path());
    QCOMPARE(splits.class_names, (std::vector<std::string>{"b", "cat"}));
    QCOMPARE(splits.train.size(), 3);
    QCOMPARE(splits.test.size(), 1);
    QCOMPARE(splits.train.num_classes, 2);
    QCOMPARE(splits.train.images.sizes().vec(), (std::vector<int64_t>{3, 1, 3, 2}));
    QVERIFY(torch::equal(splits.train.labels, torch::tensor({0, 1, 1}, torch::kInt64)));
    QCOMPARE(splits.train.images[0].max().item<float>(), 30.0f / 255.0f);
    QCOMPARE(splits.train.images[2].min().item<float>(), 20.0f / 255.0f);
    QCOMPARE(splits.test.images[0][0][2][1].item<float>(), 40.0f / 255.0f);
  }

  void imageFolderColourAndSizes() {
    if (!data::image_io_available()) QSKIP("built without OpenCV");
    ScratchDir dir;
    torch::Tensor colour = torch::zeros({2, 2, 3}, torch::kUInt8);
    colour.select(2, 0).fill_(200);  // red
    colour.select(2, 2).fill_(50);   // blue
    data::write_image(dir / "train/a/1.png", colour);
    data::write_image(dir / "train/a/2.png", torch::full({4, 4}, 100, torch::kUInt8));  // grey, larger
    data::write_image(dir / "test/a/3.png", colour);
    const data::DatasetSplits splits = data::read_image_folder(dir.path());
    // The first image's size and colour win; grey is replicated.
    QCOMPARE(splits.train.images.sizes().vec(), (std::vector<int64_t>{2, 3, 2, 2}));
    QCOMPARE(splits.train.images[0][0][0][0].item<float>(), 200.0f / 255.0f);  // RGB order
    QCOMPARE(splits.train.images[0][2][1][1].item<float>(), 50.0f / 255.0f);
    QCOMPARE(splits.train.images[1][1][1][0].item<float>(), 100.0f / 255.0f);
    const data::DatasetSplits sized = data::read_image_folder(dir.path(), {/*size=*/5, 0.2});
    QCOMPARE(sized.test.images.sizes().vec(), (std::vector<int64_t>{1, 3, 5, 5}));
  }

  void imageFolderAutoSplit() {
    if (!data::image_io_available()) QSKIP("built without OpenCV");
    ScratchDir dir;
    for (int i = 0; i < 10; ++i) {
      data::write_image(dir / "one" / (std::to_string(i) + ".png"), torch::full({2, 2}, i, torch::kUInt8));
      data::write_image(dir / "two" / (std::to_string(i) + ".png"),
                        torch::full({2, 2}, 100 + i, torch::kUInt8));
    }
    data::write_image(dir / "three/only.png", torch::full({2, 2}, 250, torch::kUInt8));
    const data::DatasetSplits splits = data::read_image_folder(dir.path());
    QCOMPARE(splits.train.class_counts(), (std::vector<int64_t>{8, 1, 8}));  // one, three, two
    QCOMPARE(splits.test.class_counts(), (std::vector<int64_t>{2, 0, 2}));
    QVERIFY2(QString::fromStdString(splits.info).contains("80/20"), splits.info.c_str());
    const data::DatasetSplits again = data::read_image_folder(dir.path());
    QVERIFY(torch::equal(splits.test.images, again.test.images));
    // No image is in both splits.
    const torch::Tensor train_values = splits.train.images.amax({1, 2, 3});
    for (int64_t i = 0; i < splits.test.size(); ++i) {
      QVERIFY(!train_values.eq(splits.test.images[i].max()).any().item<bool>());
    }
  }

  void imageFolderBad_data() {
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("blamed");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty class folder") << 0 << "b"
                                        << "empty class folder";
    QTest::newRow("unreadable image") << 1 << "a/broken.png"
                                      << "cannot decode";
    QTest::newRow("empty image file") << 2 << "a/empty.png"
                                      << "empty image";
    QTest::newRow("missing root") << 3 << "nowhere"
                                  << "not found";
    QTest::newRow("no class folders") << 4 << ""
                                      << "no class sub-folders";
  }
  void imageFolderBad() {
    if (!data::image_io_available()) QSKIP("built without OpenCV");
    QFETCH(int, which);
    QFETCH(QString, blamed);
    QFETCH(QString, expected);
    ScratchDir dir;
    if (which != 4) data::write_image(dir / "a/good.png", torch::zeros({2, 2}, torch::kUInt8));
    if (which == 0) std::filesystem::create_directories(dir / "b");
    if (which == 1) write_file(dir / "a/broken.png", "\x89PNG but then nothing sensible follows");
    if (which == 2) write_file(dir / "a/empty.png", "");
    if (which == 4) write_file(dir / "loose.png", "x");
    const std::filesystem::path root = which == 3 ? dir / "nowhere" : dir.path();
    const QString message = error_of([&] { data::read_image_folder(root); });
    const std::filesystem::path named = blamed.isEmpty() ? dir.path() : dir / blamed.toStdString();
    QVERIFY2(message.contains(QString::fromStdString(named.string())), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  void missingDataRoot_data() {
    QTest::addColumn<QString>("dataset");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("fetch");
    QTest::newRow("mnist") << "mnist"
                           << "mnist/train-images-idx3-ubyte.gz"
                           << "fan data fetch mnist";
    QTest::newRow("usps") << "usps"
                          << "usps/zip.train.gz"
                          << "fan data fetch usps";
    QTest::newRow("svhn") << "svhn"
                          << "svhn/train_32x32.mat"
                          << "fan data fetch svhn";
    QTest::newRow("mnistm") << "mnistm"
                            << "mnist/train-images-idx3-ubyte.gz"
                            << "fan data fetch mnist";
  }
  void missingDataRoot() {
    QFETCH(QString, dataset);
    QFETCH(QString, file);
    QFETCH(QString, fetch);
    ScratchDir dir;
    const std::filesystem::path root = dir / "no-such-root";
    const QString message = error_of([&] { data::load_raw(dataset.toStdString(), root); });
    QVERIFY2(message.contains(QString::fromStdString((root / file.toStdString()).string())),
             qPrintable(message));
    QVERIFY2(message.contains(fetch), qPrintable(message));
  }

  void unknownDataset() {
    const QString message = error_of([] { data::load_raw("cifar", "/tmp"); });
    QVERIFY2(message.contains("cifar") && message.contains("mnist, usps"), qPrintable(message));
  }

  void mnistmCache() {
    if (!data::image_io_available()) QSKIP("built without OpenCV");
    ScratchDir dir;
    // A tiny MNIST (raw IDX names) and two small photos stand in for the real ones.
    const torch::Tensor digits =
        torch::arange(0, 6 * 28 * 28).remainder(256).to(torch::kUInt8).reshape({6, 28, 28});
    data::write_idx(dir / "mnist/train-images-idx3-ubyte", digits);
    data::write_idx(dir / "mnist/train-labels-idx1-ubyte", torch::tensor({0, 1, 2, 3, 4, 5}, torch::kUInt8));
    data::write_idx(dir / "mnist/t10k-images-idx3-ubyte", digits.narrow(0, 0, 2));
    data::write_idx(dir / "mnist/t10k-labels-idx1-ubyte", torch::tensor({7, 8}, torch::kUInt8));
    data::write_image(dir / "bsds500/train/1.png",
                      torch::full({40, 30, 3}, 7, torch::kUInt8));  // not .jpg: ignored
    QVERIFY(error_of([&] { data::load_raw("mnistm", dir.path()); }).contains("fan data fetch bsds500"));
    torch::Tensor photo = torch::full({40, 30, 3}, 100, torch::kUInt8);
    photo.select(2, 1).fill_(255);
    data::write_image(dir / "bsds500/train/a.jpg", photo);

    const data::DatasetSplits made = data::load_raw("mnistm", dir.path());
    for (const auto& file : data::mnistm_cache_files(dir.path()))
      QVERIFY(std::filesystem::is_regular_file(file));
    const data::DatasetSplits cached = data::load_raw("mnistm", dir.path());
    QVERIFY(QString::fromStdString(cached.info).contains("cache"));
    QCOMPARE(made.train.images.sizes().vec(), (std::vector<int64_t>{6, 3, 28, 28}));
    QCOMPARE(made.test.size(), 2);
    QVERIFY(torch::equal(made.train.images, cached.train.images));
    QVERIFY(torch::equal(cached.test.labels, torch::tensor({7, 8}, torch::kInt64)));
    // A flat green channel near 255 turns into about 255 − digit (JPEG may move a flat colour a little).
    const torch::Tensor expected_green = (255 - digits.to(torch::kFloat32)) / 255.0f;
    QVERIFY(torch::allclose(made.train.images.select(1, 1), expected_green, 0, 4.0 / 255));
  }

  void mnistmBlend() {
    const torch::Tensor digits = torch::tensor({0, 128, 255, 30}, torch::kUInt8).reshape({1, 2, 2});
    torch::Tensor photo = torch::empty({3, 3, 3}, torch::kUInt8);
    photo.select(2, 0).fill_(0);
    photo.select(2, 1).fill_(100);
    photo.select(2, 2).fill_(255);
    const torch::Tensor blended = data::blend_mnistm(digits, {photo}, 1);
    QCOMPARE(blended.sizes().vec(), (std::vector<int64_t>{1, 2, 2, 3}));
    QVERIFY(torch::equal(blended.select(3, 0), digits));
    QVERIFY(torch::equal(blended.select(3, 1),
                         torch::tensor({100, 28, 155, 70}, torch::kUInt8).reshape({1, 2, 2})));
    QVERIFY(torch::equal(blended.select(3, 2),
                         torch::tensor({255, 127, 0, 225}, torch::kUInt8).reshape({1, 2, 2})));
    QVERIFY(!error_of([&] {
               data::blend_mnistm(digits, {torch::zeros({1, 1, 3}, torch::kUInt8)}, 1);
             }).isEmpty());
  }
};

QTEST_APPLESS_MAIN(DataReadersTest)
#include "tst_data_readers.moc"
