// The fuzz targets' inputs as a regression test: every seed in fuzz/corpus/<target>/
// must load, every input in tests/fuzz_regressions/<target>/ (the crashes the
// fuzzers found) must load or throw fan::Error naming the file, and so must
// truncations of every seed.
#include "core/analysis/points_csv.h"
#include "core/data/idx.h"
#include "core/data/svhn.h"
#include "core/data/usps.h"
#include "core/io/checkpoint.h"
#include "core/io/config.h"
#include "core/test_util.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using fan::test::ScratchDir;
using fan::test::write_file;

namespace {

const char* const kTargets[] = {"fuzz_idx",          "fuzz_usps",     "fuzz_svhn_mat",
                                "fuzz_project_json", "fuzz_tsne_csv", "fuzz_checkpoint"};
// fuzz/fuzz_idx.cpp splits an input holding this into images and labels files.
const std::string kLabelsSeparator = "--FAN-LABELS--";

fs::path source_dir() { return fs::path(qgetenv("FAN_TEST_SOURCE_DIR").toStdString()); }

// What the fuzz target of `target` does with `bytes`, on files under `dir`
// named after `name`. Returns the file name an error message must mention.
std::string run_reader(const std::string& target, const std::string& bytes, const ScratchDir& dir,
                       const std::string& name) {
  if (target == "fuzz_tsne_csv") {
    const auto points = fan::analysis::parse_points_csv(bytes, name);
    if (points.values.size() != static_cast<size_t>(points.rows * points.cols))
      throw std::logic_error("ragged point matrix");
    return name;
  }
  const fs::path input = dir / name;
  if (target == "fuzz_idx") {
    const size_t split = bytes.find(kLabelsSeparator);
    if (split == std::string::npos) {
      write_file(input, bytes);
      fan::data::read_idx(input);
      return input.filename().string();
    }
    const fs::path labels = dir / (name + ".labels");
    write_file(input, bytes.substr(0, split));
    write_file(labels, bytes.substr(split + kLabelsSeparator.size()));
    fan::data::read_idx_dataset(input, labels, "fuzz");
    return name;  // either file's name (both start with it)
  }
  write_file(input, bytes);
  if (target == "fuzz_usps") {
    fan::data::read_usps(input, "fuzz");
  } else if (target == "fuzz_svhn_mat") {
    fan::data::read_svhn_mat(input, "fuzz");
  } else if (target == "fuzz_project_json") {
    const auto raw = fan::io::read_json_file(input);
    fan::io::ExperimentConfig::from_json(fan::io::validate_config(raw, input.string()), input.string());
  } else if (target == "fuzz_checkpoint") {
    fan::io::read_checkpoint_state(input);
  } else {
    throw std::logic_error("unknown target " + target);
  }
  return input.filename().string();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

class FuzzRegressionsTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() { QVERIFY2(!source_dir().empty(), "FAN_TEST_SOURCE_DIR is not set"); }

  void input_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("must_load");
    int seeds = 0;
    for (const char* target : kTargets) {
      for (const auto& file : files_in(source_dir() / "fuzz" / "corpus" / target)) {
        QTest::newRow(("seed " + std::string(target) + "/" + file.filename().string()).c_str())
            << QString(target) << QString::fromStdString(file.string()) << true;
        ++seeds;
      }
      for (const auto& file : files_in(source_dir() / "tests" / "fuzz_regressions" / target)) {
        QTest::newRow(("crash " + std::string(target) + "/" + file.filename().string()).c_str())
            << QString(target) << QString::fromStdString(file.string()) << false;
      }
    }
    QVERIFY2(seeds >= 6, "no seed corpora under fuzz/corpus/");
  }
  void input() {
    QFETCH(QString, target);
    QFETCH(QString, file);
    QFETCH(bool, must_load);
    const std::string bytes = fan::util::read_file(file.toStdString());
    ScratchDir dir("fan-fuzz-regression");
    try {
      run_reader(target.toStdString(), bytes, dir, "input");
    } catch (const fan::Error& error) {
      if (must_load) QFAIL(qPrintable("a seed must load: " + QString(error.what())));
      QVERIFY2(QString(error.what()).contains("input"), error.what());
    } catch (const std::exception& error) {
      QFAIL(qPrintable("not a fan::Error: " + QString(error.what())));
    }
  }

  // Cut every seed at a spread of lengths: each prefix loads or is a fan::Error
  // naming the file (truncated downloads and half-copied files look like this).
  void truncatedSeed_data() {
    QTest::addColumn<QString>("target");
    QTest::addColumn<QString>("file");
    for (const char* target : kTargets) {
      for (const auto& file : files_in(source_dir() / "fuzz" / "corpus" / target)) {
        QTest::newRow((std::string(target) + "/" + file.filename().string()).c_str())
            << QString(target) << QString::fromStdString(file.string());
      }
    }
  }
  void truncatedSeed() {
    QFETCH(QString, target);
    QFETCH(QString, file);
    const std::string bytes = fan::util::read_file(file.toStdString());
    ScratchDir dir("fan-fuzz-truncated");
    constexpr size_t kCuts = 24;
    for (size_t i = 0; i < kCuts; ++i) {
      const size_t length = bytes.size() * i / kCuts;
      try {
        run_reader(target.toStdString(), bytes.substr(0, length), dir, "cut" + std::to_string(length));
      } catch (const fan::Error& error) {
        QVERIFY2(QString(error.what()).contains("cut"), error.what());
      } catch (const std::exception& error) {
        QFAIL(qPrintable(QString("cut at %1 bytes: not a fan::Error: %2").arg(length).arg(error.what())));
      }
    }
  }
};

QTEST_APPLESS_MAIN(FuzzRegressionsTest)
#include "tst_fuzz_regressions.moc"
