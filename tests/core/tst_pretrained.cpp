// torchvision ResNet weights: Debian's python3-torchvision writes a randomly initialised resnet18 and
// resnet50 (scripts/export-torchvision-weights) with the pooled features of a fixed input; our encoder
// loads the file and reproduces those features. Plus the errors a wrong file or config gives.
#include "core/io/config_schema.h"
#include "core/models/fan_net.h"
#include "core/models/pretrained.h"
#include "core/util/error.h"
#include "core/test_util.h"

#include <QtTest>

#include <cstdlib>
#include <fstream>

using namespace fan;

namespace {

// Debian's Python (/usr/bin/python3) when it has torchvision, else the first python3 that has it.
std::string python_with_torchvision() {
  for (const std::string p : {"/usr/bin/python3", "python3"})
    if (std::system((p + " -c 'import torchvision' > /dev/null 2>&1").c_str()) == 0) return p;
  return {};
}

torch::Tensor read_floats(const std::filesystem::path& path, std::vector<int64_t> shape) {
  std::ifstream in(path, std::ios::binary);
  int64_t n = 1;
  for (auto s : shape) n *= s;
  std::vector<float> v(static_cast<size_t>(n));
  in.read(reinterpret_cast<char*>(v.data()), n * 4);
  if (!in) throw Error(path.string() + ": short file");
  return torch::from_blob(v.data(), shape, torch::kFloat).clone();
}

std::filesystem::path script() {
  const char* src = std::getenv("FAN_TEST_SOURCE_DIR");
  return std::filesystem::path(src ? src : ".") / "scripts" / "export-torchvision-weights";
}

}  // namespace

class TestPretrained : public QObject {
  Q_OBJECT

 private slots:
  void namesMapOntoTorchvisions() {
    QCOMPARE(models::torchvision_name("stem.0.weight"), std::string("conv1.weight"));
    QCOMPARE(models::torchvision_name("stem.1.running_var"), std::string("bn1.running_var"));
    QCOMPARE(models::torchvision_name("layer3.0.downsample.1.bias"), std::string("layer3.0.downsample.1.bias"));
    QCOMPARE(models::torchvision_name("input_mean"), std::string());
  }

  void reproducesTorchvisionFeatures_data() {
    QTest::addColumn<QString>("arch");
    QTest::newRow("resnet18") << "resnet18";
    QTest::newRow("resnet50") << "resnet50";
  }
  void reproducesTorchvisionFeatures() {
    QFETCH(QString, arch);
    const auto python = python_with_torchvision();
    if (python.empty())
      QSKIP("python3-torchvision is not installed (scripts/setup installs it; apt-get install python3-torchvision)");
    test::ScratchDir dir("fan-pretrained");
    const auto file = dir / (arch.toStdString() + ".pt");
    const auto cmd = python + " '" + script().string() + "' --arch " + arch.toStdString() +
                     " --weights none --seed 3 --size 64 --batch 2 --out '" + file.string() + "' --check '" +
                     (dir / "check").string() + "' > '" + (dir / "log").string() + "' 2>&1";
    QVERIFY2(std::system(cmd.c_str()) == 0, cmd.c_str());

    const auto kind = models::parse_encoder(arch.toStdString());
    models::ResNetEncoder encoder(kind, 3);
    const auto report = models::load_torchvision_resnet(*encoder, file);
    QCOMPARE(report.dropped, int64_t{2});  // fc.weight, fc.bias
    QCOMPARE(report.tensors, static_cast<int64_t>(encoder->named_parameters().size() + encoder->named_buffers().size()));
    encoder->eval();
    torch::NoGradGuard no_grad;
    const auto input = read_floats(dir / "check" / "input.bin", {2, 3, 64, 64});
    const int64_t width = kind == models::EncoderKind::kResNet50 ? 2048 : 512;
    const auto expected = read_floats(dir / "check" / "features.bin", {2, width});
    const auto got = encoder->forward(input);
    QCOMPARE(got.sizes().vec(), expected.sizes().vec());
    const double diff = (got - expected).abs().max().item<double>();
    QVERIFY2(diff < 1e-4, qPrintable(QString("max |ours − torchvision| = %1").arg(diff)));
    QVERIFY(expected.abs().max().item<double>() > 1e-3);  // not a trivially zero output

    // A ResNet-18 file into a ResNet-50 encoder: the error lists what does not fit, by name.
    if (kind == models::EncoderKind::kResNet18) {
      models::ResNetEncoder other(models::EncoderKind::kResNet50, 3);
      const auto e = test::error_of([&] { models::load_torchvision_resnet(*other, file); });
      QVERIFY2(e.contains("does not fit a resnet50 encoder"), qPrintable(e));
      QVERIFY2(e.contains("missing: layer1.0.bn3.bias"), qPrintable(e));
      QVERIFY2(e.contains("shape mismatch: layer1.0.conv1.weight (file [64, 64, 3, 3], encoder [64, 64, 1, 1])"),
               qPrintable(e));
    }
  }

  void badFilesAndConfigsAreClearErrors() {
    test::ScratchDir dir("fan-pretrained-bad");
    test::write_file(dir / "junk.pt", "not a pickle");
    models::ResNetEncoder encoder(models::EncoderKind::kResNet18, 3);
    auto e = test::error_of([&] { models::load_torchvision_resnet(*encoder, dir / "junk.pt"); });
    QVERIFY2(e.startsWith("model.pretrained: " + QString::fromStdString((dir / "junk.pt").string()) +
                          ": not a state dict"), qPrintable(e));
    e = test::error_of([&] { models::load_torchvision_resnet(*encoder, dir / "absent.pt"); });
    QVERIFY2(e.contains("cannot open the file"), qPrintable(e));
    // A file of the wrong kind: one tensor, not a dict.
    {
      const auto bytes = torch::pickle_save(torch::ones({2}));
      std::ofstream(dir / "tensor.pt", std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    e = test::error_of([&] { models::load_torchvision_resnet(*encoder, dir / "tensor.pt"); });
    QVERIFY2(e.contains("expected a dict of tensors"), qPrintable(e));
    // torch.save(model.state_dict()) pickles an OrderedDict: the error says how to convert it.
    const auto python = python_with_torchvision();
    if (!python.empty()) {
      const auto ordered = dir / "ordered.pt";
      const auto cmd = python + " -c \"import torch; torch.save(torch.nn.Linear(2, 2).state_dict(), '" +
                       ordered.string() + "')\"";
      QCOMPARE(std::system(cmd.c_str()), 0);
      e = test::error_of([&] { models::load_torchvision_resnet(*encoder, ordered); });
      QVERIFY2(e.contains("holds an OrderedDict") && e.contains("--convert"), qPrintable(e));
    }

    nlohmann::json config = {{"model", {{"encoder", "lenet"}, {"pretrained", "w.pt"}}}};
    e = test::error_of([&] { io::validate_config(config, "p.json"); });
    QVERIFY2(e.contains("p.json: model.pretrained: torchvision weights are for the ResNet encoders"), qPrintable(e));
    config = {{"model", {{"encoder", "resnet18"}, {"pretrained", "w.pt"}}},
              {"data", {{"channels", 1}, {"image_size", 64}}}};
    e = test::error_of([&] { io::validate_config(config, "p.json"); });
    QVERIFY2(e.contains("data.channels must be 3"), qPrintable(e));
  }

  void imagenetNormalisationIsInsideTheEncoder() {
    torch::manual_seed(0);
    models::ResNetEncoder plain(models::EncoderKind::kResNet18, 3, false);
    models::ResNetEncoder normalised(models::EncoderKind::kResNet18, 3, true);
    torch::NoGradGuard no_grad;
    for (const auto& p : plain->named_parameters()) normalised->named_parameters()[p.key()].copy_(p.value());
    plain->eval();
    normalised->eval();
    const auto x = torch::rand({2, 3, 32, 32});
    const auto mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
    const auto std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
    const double diff = (normalised->forward(x) - plain->forward((x - mean) / std)).abs().max().item<double>();
    QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
  }
};

QTEST_GUILESS_MAIN(TestPretrained)
#include "tst_pretrained.moc"
