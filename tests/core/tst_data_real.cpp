// The real datasets under $FAN_DATA: counts, class counts, MNIST-M synthesis (skipped without them).
#include "core/data/domain.h"
#include "core/data/idx.h"
#include "core/data/image_io.h"
#include "core/data/mnistm.h"
#include "core/test_util.h"

#include <QtTest/QtTest>

#include <string>
#include <vector>

namespace data = fan::data;
using fan::test::real_data_root;

class DataRealTest : public QObject {
  Q_OBJECT

 private slots:
  void counts_data() {
    QTest::addColumn<QString>("dataset");
    QTest::addColumn<int>("train");
    QTest::addColumn<int>("test");
    QTest::addColumn<int>("side");
    QTest::addColumn<std::vector<int64_t>>("trainClasses");  // empty: not checked
    QTest::addColumn<std::vector<int64_t>>("testClasses");
    QTest::newRow("mnist") << "mnist" << 60000 << 10000 << 28
                           << std::vector<int64_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
                           << std::vector<int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    QTest::newRow("usps") << "usps" << 7291 << 2007 << 16
                          << std::vector<int64_t>{1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644}
                          << std::vector<int64_t>{359, 264, 198, 166, 200, 160, 170, 147, 166, 177};
  }
  void counts() {
    QFETCH(QString, dataset);
    QFETCH(int, train);
    QFETCH(int, test);
    QFETCH(int, side);
    QFETCH(std::vector<int64_t>, trainClasses);
    QFETCH(std::vector<int64_t>, testClasses);
    const std::filesystem::path root = real_data_root(dataset.toStdString());
    if (root.empty()) QSKIP("FAN_DATA does not hold this dataset");
    const data::DatasetSplits splits = data::load_raw(dataset.toStdString(), root);
    QCOMPARE(splits.train.size(), train);
    QCOMPARE(splits.test.size(), test);
    QCOMPARE(splits.train.images.sizes().vec(), (std::vector<int64_t>{train, 1, side, side}));
    QCOMPARE(splits.train.class_counts(), trainClasses);
    QCOMPARE(splits.test.class_counts(), testClasses);
    QVERIFY(splits.train.images.min().item<float>() >= 0.0f);
    QCOMPARE(splits.train.images.max().item<float>(), 1.0f);
    // The background is the minimum: 0 for both (USPS −1 maps to 0).
    QCOMPARE(splits.test.images.min().item<float>(), 0.0f);
  }

  void protocols() {
    const std::filesystem::path mnist_root = real_data_root("mnist");
    const std::filesystem::path usps_root = real_data_root("usps");
    if (mnist_root.empty() || usps_root.empty()) QSKIP("FAN_DATA does not hold mnist and usps");
    // FAN-SPEC "Data protocols": 2,000 MNIST and 1,800 USPS, full test sets, 1×28×28.
    data::DomainSpec mnist{"mnist", {}, data::Protocol::kSampled, 2000, 1.0};
    data::DomainSpec usps{"usps", {}, data::Protocol::kSampled, 1800, 1.0};
    const data::DatasetSplits source = data::load_domain(mnist, data::Preprocess{}, mnist_root, 0);
    const data::DatasetSplits target = data::load_domain(usps, data::Preprocess{}, usps_root, 0);
    QCOMPARE(source.train.images.sizes().vec(), (std::vector<int64_t>{2000, 1, 28, 28}));
    QCOMPARE(source.test.size(), 10000);
    QCOMPARE(target.train.images.sizes().vec(), (std::vector<int64_t>{1800, 1, 28, 28}));
    QCOMPARE(target.test.images.sizes().vec(), (std::vector<int64_t>{2007, 1, 28, 28}));
    // MNIST framing: USPS ink stays inside the central 20×20 box.
    QCOMPARE(target.test.images.narrow(2, 0, 4).sum().item<float>(), 0.0f);
    QCOMPARE(target.test.images.narrow(3, 24, 4).sum().item<float>(), 0.0f);
    const data::DatasetSplits again = data::load_domain(usps, data::Preprocess{}, usps_root, 0);
    QVERIFY(torch::equal(target.train.images, again.train.images));
    const data::DatasetSplits other = data::load_domain(usps, data::Preprocess{}, usps_root, 1);
    QVERIFY(!torch::equal(target.train.labels, other.train.labels));
  }

  void mnistmSubset() {
    const std::filesystem::path root = real_data_root("mnist");
    if (root.empty() || !std::filesystem::is_directory(root / "bsds500")) {
      QSKIP("FAN_DATA does not hold mnist and bsds500");
    }
    if (!data::image_io_available()) QSKIP("built without OpenCV");
    const torch::Tensor digits =
        data::read_idx(data::mnist_file(root, "t10k-images-idx3-ubyte")).narrow(0, 0, 500);
    std::vector<torch::Tensor> photos;
    const std::vector<std::filesystem::path> files = data::bsds_photo_files(root);
    QCOMPARE(files.size(), size_t{200});
    for (size_t i = 0; i < 8; ++i) photos.push_back(data::read_image_rgb8(files[i]));
    const torch::Tensor first = data::blend_mnistm(digits, photos, data::kMnistmSeed);
    QVERIFY(torch::equal(first, data::blend_mnistm(digits, photos, data::kMnistmSeed)));
    QVERIFY(!torch::equal(first, data::blend_mnistm(digits, photos, data::kMnistmSeed + 1)));
    const torch::Tensor images = first.permute({0, 3, 1, 2}).to(torch::kFloat32) / 255.0f;
    QCOMPARE(images.sizes().vec(), (std::vector<int64_t>{500, 3, 28, 28}));
    QVERIFY(images.min().item<float>() >= 0.0f && images.max().item<float>() <= 1.0f);
    // Colour, not grey: channels differ somewhere, and the digit is still visible:
    // where the digit is full ink (255), the result is 255 − crop.
    QVERIFY(!torch::equal(images.select(1, 0), images.select(1, 1)));
    const torch::Tensor ink = digits.eq(255).unsqueeze(3).expand_as(first);
    QVERIFY(ink.any().item<bool>());
    QVERIFY(images.std().item<float>() > 0.1f);
  }
};

QTEST_APPLESS_MAIN(DataRealTest)
#include "tst_data_real.moc"
