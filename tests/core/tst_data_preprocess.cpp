// Protocols, the batcher and preprocessing (channels, resizing, MNIST framing).
#include "core/data/batcher.h"
#include "core/data/domain.h"
#include "core/data/preprocess.h"
#include "core/test_util.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <QtTest/QtTest>

#include <cmath>
#include <set>
#include <string>
#include <vector>

using fan::test::ScratchDir;
using fan::test::error_of;
namespace data = fan::data;

namespace {

std::vector<int64_t> to_vector(const torch::Tensor& tensor) {
  const torch::Tensor contiguous = tensor.to(torch::kInt64).contiguous();
  return {contiguous.data_ptr<int64_t>(), contiguous.data_ptr<int64_t>() + contiguous.numel()};
}

// A set whose class c holds counts[c] images; image i is filled with i.
data::Dataset labelled_set(const std::vector<int64_t>& counts) {
  std::vector<int64_t> labels;
  for (size_t c = 0; c < counts.size(); ++c)
    labels.insert(labels.end(), static_cast<size_t>(counts[c]), static_cast<int64_t>(c));
  data::Dataset dataset;
  const auto n = static_cast<int64_t>(labels.size());
  dataset.images = torch::arange(n, torch::kFloat32).reshape({n, 1, 1, 1}).expand({n, 1, 2, 2}).contiguous();
  dataset.labels = torch::tensor(labels, torch::kInt64);
  dataset.num_classes = static_cast<int64_t>(counts.size());
  dataset.name = "toy/train";
  return dataset;
}

}  // namespace

class DataPreprocessTest : public QObject {
  Q_OBJECT

 private slots:
  void parseProtocol_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("protocol");
    QTest::newRow("full") << "full" << static_cast<int>(data::Protocol::kFull);
    QTest::newRow("sampled") << "sampled" << static_cast<int>(data::Protocol::kSampled);
    QTest::newRow("fraction") << "fraction" << static_cast<int>(data::Protocol::kFraction);
  }
  void parseProtocol() {
    QFETCH(QString, name);
    QFETCH(int, protocol);
    QCOMPARE(static_cast<int>(data::parse_protocol(name.toStdString())), protocol);
    QCOMPARE(data::to_string(data::parse_protocol(name.toStdString())), name.toStdString());
  }
  void parseProtocolUnknown() {
    QVERIFY(error_of([] { data::parse_protocol("some"); }).contains("\"some\""));
  }

  void sampledDeterministic_data() {
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("count");
    QTest::newRow("2000 of 60000") << 60000 << 2000;
    QTest::newRow("1800 of 7291") << 7291 << 1800;
    QTest::newRow("all") << 50 << 50;
  }
  void sampledDeterministic() {
    QFETCH(int, size);
    QFETCH(int, count);
    const std::vector<int64_t> first = to_vector(data::sample_indices(size, count, 7));
    QCOMPARE(first, to_vector(data::sample_indices(size, count, 7)));
    QCOMPARE(static_cast<int>(std::set<int64_t>(first.begin(), first.end()).size()), count);
    QVERIFY(std::is_sorted(first.begin(), first.end()));
    QVERIFY(first.front() >= 0 && first.back() < size);
    if (count < size) QVERIFY(first != to_vector(data::sample_indices(size, count, 8)));
  }
  void sampledTooMany() {
    QVERIFY(error_of([] { data::sample_indices(100, 101, 0); }).contains("only 100"));
    QVERIFY(!error_of([] { data::sample_indices(100, 0, 0); }).isEmpty());
    data::DomainSpec spec;
    spec.protocol = data::Protocol::kSampled;
    spec.samples = 11;
    QVERIFY(!error_of([&] { data::apply_protocol(labelled_set({5, 5}), spec, 1); }).isEmpty());
  }

  void fractionPerClass_data() {
    QTest::addColumn<double>("fraction");
    QTest::addColumn<std::vector<int64_t>>("counts");
    QTest::addColumn<std::vector<int64_t>>("expected");
    QTest::newRow("10 %") << 0.1 << std::vector<int64_t>{100, 40, 3, 0} << std::vector<int64_t>{10, 4, 1, 0};
    QTest::newRow("50 %") << 0.5 << std::vector<int64_t>{100, 41, 3, 1} << std::vector<int64_t>{50, 21, 2, 1};
    QTest::newRow("100 %") << 1.0 << std::vector<int64_t>{7, 1} << std::vector<int64_t>{7, 1};
    QTest::newRow("tiny, at least 1") << 0.001 << std::vector<int64_t>{30, 2} << std::vector<int64_t>{1, 1};
  }
  void fractionPerClass() {
    QFETCH(double, fraction);
    QFETCH(std::vector<int64_t>, counts);
    QFETCH(std::vector<int64_t>, expected);
    const data::Dataset train = labelled_set(counts);
    data::DomainSpec spec;
    spec.protocol = data::Protocol::kFraction;
    spec.fraction = fraction;
    const data::Dataset drawn = data::apply_protocol(train, spec, 3);
    QCOMPARE(drawn.class_counts(), expected);
    QVERIFY(torch::equal(drawn.images, data::apply_protocol(train, spec, 3).images));
    // The images travel with their labels (image i is filled with i).
    const torch::Tensor origin = drawn.images.amax({1, 2, 3}).to(torch::kInt64);
    QVERIFY(torch::equal(drawn.labels, train.labels.index_select(0, origin)));
  }
  void fractionSeeds() {
    const data::Dataset train = labelled_set({200, 200});
    const auto draw = [&](uint64_t seed) { return to_vector(data::fraction_indices(train, 0.25, seed)); };
    QCOMPARE(draw(1), draw(1));
    QVERIFY(draw(1) != draw(2));
    QVERIFY(!error_of([&] { data::fraction_indices(train, 0.0, 1); }).isEmpty());
    QVERIFY(!error_of([&] { data::fraction_indices(train, 1.5, 1); }).isEmpty());
  }
  void fullProtocolKeepsAll() {
    const data::Dataset train = labelled_set({3, 4});
    QVERIFY(torch::equal(data::apply_protocol(train, data::DomainSpec{}, 0).labels, train.labels));
  }

  void batcherCoversEpoch_data() {
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("batch");
    QTest::addColumn<bool>("dropLast");
    QTest::addColumn<int>("batches");
    QTest::newRow("even") << 12 << 4 << true << 3;
    QTest::newRow("tail dropped") << 10 << 4 << true << 2;
    QTest::newRow("tail kept") << 10 << 4 << false << 3;
    QTest::newRow("batch larger than set") << 5 << 128 << true << 1;
  }
  void batcherCoversEpoch() {
    QFETCH(int, size);
    QFETCH(int, batch);
    QFETCH(bool, dropLast);
    QFETCH(int, batches);
    data::Batcher batcher(size, batch, 42, dropLast);
    QCOMPARE(batcher.batches_per_epoch(), batches);
    QCOMPARE(batcher.batch_size(), std::min(size, batch));
    std::vector<int64_t> seen;
    for (int i = 0; i < batches; ++i) {
      const std::vector<int64_t> indices = to_vector(batcher.next());
      seen.insert(seen.end(), indices.begin(), indices.end());
    }
    QCOMPARE(batcher.epoch(), 0);
    std::sort(seen.begin(), seen.end());
    QVERIFY(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    QCOMPARE(static_cast<int>(seen.size()), dropLast ? batches * std::min(size, batch) : size);
    batcher.next();
    QCOMPARE(batcher.epoch(), 1);
    QCOMPARE(batcher.cursor(), 1);
  }
  void batcherRestore() {
    data::Batcher straight(100, 16, 9);
    std::vector<std::vector<int64_t>> stream;
    for (int i = 0; i < 20; ++i) stream.push_back(to_vector(straight.next()));
    // Epochs are different permutations.
    QVERIFY(stream[0] != stream[6]);
    // Stop after batch 8 (epoch 1, cursor 2), resume in a fresh batcher.
    data::Batcher first(100, 16, 9);
    for (int i = 0; i < 8; ++i) first.next();
    QCOMPARE(first.epoch(), 1);
    QCOMPARE(first.cursor(), 2);
    data::Batcher resumed(100, 16, 9);
    resumed.restore(first.epoch(), first.cursor());
    for (int i = 8; i < 20; ++i) QCOMPARE(to_vector(resumed.next()), stream[static_cast<size_t>(i)]);
    // End-of-epoch state restores too.
    data::Batcher at_end(100, 16, 9);
    at_end.restore(0, 6);
    QCOMPARE(to_vector(at_end.next()), stream[6]);
    QVERIFY(to_vector(data::Batcher(100, 16, 10).next()) != stream[0]);
    QVERIFY(!error_of([] { data::Batcher(10, 4, 0).restore(0, 3); }).isEmpty());
    QVERIFY(!error_of([] { data::Batcher(0, 4, 0); }).isEmpty());
  }

  void grey() {
    torch::Tensor images = torch::zeros({3, 3, 1, 1});
    images[0][0].fill_(1);
    images[1][1].fill_(1);
    images[2][2].fill_(1);
    const torch::Tensor grey = data::to_grey(images);
    QCOMPARE(grey.sizes().vec(), (std::vector<int64_t>{3, 1, 1, 1}));
    QCOMPARE(grey[0].item<float>(), 0.299f);
    QCOMPARE(grey[1].item<float>(), 0.587f);
    QCOMPARE(grey[2].item<float>(), 0.114f);
    QVERIFY(torch::allclose(data::to_grey(torch::ones({1, 3, 2, 2})), torch::ones({1, 1, 2, 2})));
    const torch::Tensor rgb = data::to_rgb(grey);
    QCOMPARE(rgb.size(1), 3);
    QVERIFY(torch::equal(rgb.select(1, 2), grey.select(1, 0)));
  }

  void resize_data() {
    QTest::addColumn<int>("from");
    QTest::addColumn<QString>("framing");
    QTest::addColumn<bool>("tight");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("boxStart");  // first row of the digit box; 0 = straight resize
    QTest::addColumn<int>("boxSide");
    QTest::newRow("USPS 16→28, mnist framing") << 16 << "mnist" << true << 28 << 4 << 20;
    QTest::newRow("USPS 16→28, stretch") << 16 << "stretch" << true << 28 << 0 << 28;
    QTest::newRow("USPS 16→32, mnist framing") << 16 << "mnist" << true << 32 << 4 << 23;
    QTest::newRow("SVHN 32→28") << 32 << "mnist" << false << 28 << 0 << 28;
    QTest::newRow("MNIST 28→32 (already framed)") << 28 << "mnist" << false << 32 << 0 << 32;
    QTest::newRow("MNIST 28→28") << 28 << "mnist" << false << 28 << 0 << 28;
  }
  void resize() {
    QFETCH(int, from);
    QFETCH(QString, framing);
    QFETCH(bool, tight);
    QFETCH(int, size);
    QFETCH(int, boxStart);
    QFETCH(int, boxSide);
    data::Dataset raw;
    raw.images = torch::ones({2, 1, from, from});  // flat: bilinear keeps 1 everywhere inside
    raw.labels = torch::zeros({2}, torch::kInt64);
    data::Preprocess preprocess;
    preprocess.size = size;
    preprocess.framing = framing.toStdString();
    const data::Dataset out = data::preprocess(raw, preprocess, tight);
    QCOMPARE(out.images.sizes().vec(), (std::vector<int64_t>{2, 1, size, size}));
    // Bilinear weights sum to 1 up to float rounding.
    QVERIFY(std::abs(out.images.sum().item<double>() - 2.0 * boxSide * boxSide) < 1e-2);
    QVERIFY(torch::allclose(out.images[0][0].narrow(0, boxStart, boxSide).narrow(1, boxStart, boxSide),
                            torch::ones({boxSide, boxSide}), 0, 1e-6));
  }
  void resizeMatchesInterpolate() {
    // Bilinear, align_corners = false, no antialias: the same as torch's own.
    const torch::Tensor images = torch::rand({3, 1, 32, 32}, torch::TensorOptions().dtype(torch::kFloat32));
    namespace F = torch::nn::functional;
    const torch::Tensor expected = F::interpolate(images, F::InterpolateFuncOptions()
                                                              .size(std::vector<int64_t>{28, 28})
                                                              .mode(torch::kBilinear)
                                                              .align_corners(false));
    QVERIFY(torch::allclose(data::resize_images(images, 28, 28), expected.clamp(0, 1)));
  }
  void preprocessChannels_data() {
    QTest::addColumn<int>("inChannels");
    QTest::addColumn<int>("outChannels");
    QTest::newRow("RGB → grey") << 3 << 1;
    QTest::newRow("grey → RGB") << 1 << 3;
    QTest::newRow("RGB → RGB") << 3 << 3;
    QTest::newRow("grey → grey") << 1 << 1;
  }
  void preprocessChannels() {
    QFETCH(int, inChannels);
    QFETCH(int, outChannels);
    data::Dataset raw;
    raw.images = torch::rand({5, inChannels, 32, 32});
    raw.labels = torch::zeros({5}, torch::kInt64);
    data::Preprocess preprocess;
    preprocess.channels = outChannels;
    const data::Dataset out = data::preprocess(raw, preprocess, false);
    QCOMPARE(out.images.sizes().vec(), (std::vector<int64_t>{5, outChannels, 28, 28}));
    QVERIFY(out.images.min().item<float>() >= 0.0f && out.images.max().item<float>() <= 1.0f);
    QCOMPARE(out.images.scalar_type(), torch::kFloat32);
  }
  void preprocessBadOptions() {
    data::Dataset raw;
    raw.images = torch::rand({1, 1, 16, 16});
    raw.labels = torch::zeros({1}, torch::kInt64);
    data::Preprocess bad;
    bad.framing = "crop";
    QVERIFY(error_of([&] { data::preprocess(raw, bad, true); }).contains("framing"));
    bad = {};
    bad.channels = 2;
    QVERIFY(error_of([&] { data::preprocess(raw, bad, true); }).contains("channels"));
  }

  void loadDomainPipeline() {
    // A USPS domain on a scratch root: protocol on train, full test, 28×28 grey.
    ScratchDir dir;
    std::string text;
    for (int i = 0; i < 20; ++i) {
      text += std::to_string(i % 10);
      for (int p = 0; p < 256; ++p) text += " 1";
      text += "\n";
    }
    fan::util::atomic_write_gzip(dir / "usps/zip.train.gz", text);
    fan::util::atomic_write_gzip(dir / "usps/zip.test.gz", text.substr(0, text.size() / 2));
    data::DomainSpec spec;
    spec.dataset = "usps";
    spec.protocol = data::Protocol::kSampled;
    spec.samples = 6;
    const data::DatasetSplits splits = data::load_domain(spec, data::Preprocess{}, dir.path(), 5);
    QCOMPARE(splits.train.size(), 6);
    QCOMPARE(splits.test.size(), 10);
    QCOMPARE(splits.train.images.sizes().vec(), (std::vector<int64_t>{6, 1, 28, 28}));
    QVERIFY(std::abs(splits.test.images.sum().item<double>() - 10.0 * 20 * 20) < 1e-2);  // MNIST framing
    QCOMPARE(splits.train.name, std::string("usps/train"));
    const data::DatasetSplits again = data::load_domain(spec, data::Preprocess{}, dir.path(), 5);
    QVERIFY(torch::equal(splits.train.labels, again.train.labels));
  }

  void dataRoot() {
    const QByteArray saved_data = qgetenv("FAN_DATA");
    const QByteArray saved_cache = qgetenv("XDG_CACHE_HOME");
    QCOMPARE(data::resolve_data_root("/some/where"), std::filesystem::path("/some/where"));
    qputenv("FAN_DATA", "/from/env");
    QCOMPARE(data::resolve_data_root(), std::filesystem::path("/from/env"));
    qunsetenv("FAN_DATA");
    qputenv("XDG_CACHE_HOME", "/cache");
    QCOMPARE(data::resolve_data_root(), std::filesystem::path("/cache/fan-workbench/data"));
    qunsetenv("XDG_CACHE_HOME");
    QVERIFY(data::resolve_data_root().string().find(".cache/fan-workbench/data") != std::string::npos);
    if (!saved_data.isEmpty()) qputenv("FAN_DATA", saved_data);
    if (!saved_cache.isEmpty()) qputenv("XDG_CACHE_HOME", saved_cache);
  }
};

QTEST_APPLESS_MAIN(DataPreprocessTest)
#include "tst_data_preprocess.moc"
