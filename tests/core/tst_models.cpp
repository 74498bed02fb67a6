// Networks and losses: shapes per variant, loss values on known inputs, gradient routing, checkpoints.
#include "core/test_util.h"

#include "core/io/checkpoint.h"
#include "core/io/config.h"
#include "core/models/discriminator.h"
#include "core/models/fan_net.h"
#include "core/train/losses.h"
#include "core/util/error.h"

#include <QtTest>

#include <cmath>

using namespace fan;

namespace {
models::FanNet make_net(const QString& variant, int64_t channels, int64_t size = 28) {
  models::FanNetOptions o;
  o.variant = models::parse_variant(variant.toStdString());
  o.in_channels = channels;
  o.image_size = size;
  return models::FanNet(o);
}

bool has_nonzero_grad(torch::nn::Module& m) {
  for (auto& p : m.parameters())
    if (p.grad().defined() && p.grad().abs().sum().item<double>() > 0) return true;
  return false;
}
}  // namespace

class TestModels : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::manual_seed(0); }

  void outputShapes_data() {
    QTest::addColumn<QString>("variant");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("hd");  // expected |hd| (0: undefined)
    QTest::addColumn<int>("ht");
    QTest::addColumn<bool>("reconstructs");
    for (int c : {1, 3}) {
      const auto tag = [c](const char* v) { return QByteArray(v) + "/" + QByteArray::number(c); };
      QTest::newRow(tag("full")) << "full" << c << 50 << 50 << true;
      QTest::newRow(tag("concatenation")) << "concatenation" << c << 50 << 50 << true;
      QTest::newRow(tag("separation")) << "separation" << c << 50 << 50 << true;
      QTest::newRow(tag("joint")) << "joint" << c << 100 << 100 << true;
      QTest::newRow(tag("adda")) << "adda" << c << 0 << 100 << false;
    }
  }
  void outputShapes() {
    QFETCH(QString, variant);
    QFETCH(int, channels);
    QFETCH(int, hd);
    QFETCH(int, ht);
    QFETCH(bool, reconstructs);
    auto net = make_net(variant, channels);
    const auto x = torch::rand({4, channels, 28, 28});
    const auto out = net->forward(x);
    QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t>{4, 10}));
    QCOMPARE(out.task_specific.size(1), int64_t(ht));
    QCOMPARE(out.domain_specific.defined(), hd > 0);
    if (hd > 0) QCOMPARE(out.domain_specific.size(1), int64_t(hd));
    QCOMPARE(out.reconstruction.defined(), reconstructs);
    if (reconstructs) QCOMPARE(out.reconstruction.sizes().vec(), x.sizes().vec());
    QCOMPARE(net->classify(x).sizes().vec(), out.logits.sizes().vec());
  }

  void otherImageSizes() {
    auto net = make_net("full", 1, 32);
    QCOMPARE(net->forward(torch::rand({2, 1, 32, 32})).reconstruction.sizes().vec(),
             (std::vector<int64_t>{2, 1, 32, 32}));
    QVERIFY_THROWS_EXCEPTION(Error, make_net("full", 1, 12));
  }

  // data.normalize "image": the encoder sees each image's channels standardised, so a per-image,
  // per-channel change of brightness and contrast (x → a·x + b, a > 0) changes nothing the encoder,
  // split and classifier compute from it.
  void imageStandardizationIgnoresBrightnessAndContrast() {
    models::FanNetOptions o;
    o.in_channels = 3;
    o.image_standardization = true;
    models::FanNet net(o);
    net->eval();
    const auto x = torch::rand({4, 3, 28, 28});
    const auto a = torch::rand({4, 3, 1, 1}) * 2 + 0.25;
    const auto b = torch::rand({4, 3, 1, 1}) - 0.5;
    const auto plain = net->features(x), changed = net->features(a * x + b);
    QVERIFY(torch::allclose(plain.logits, changed.logits, 1e-4, 1e-4));
    QVERIFY(torch::allclose(plain.domain_specific, changed.domain_specific, 1e-4, 1e-4));
    QVERIFY(torch::allclose(net->classify(x), net->classify(a * x + b), 1e-4, 1e-4));
    // A flat image stays finite (it becomes all zeros, not 0/0).
    QVERIFY(torch::isfinite(net->classify(torch::full({2, 3, 28, 28}, 0.7))).all().item<bool>());
    // Without it the same change does move the logits: the test above is not vacuous.
    o.image_standardization = false;
    models::FanNet plain_net(o);
    plain_net->eval();
    QVERIFY(!torch::allclose(plain_net->classify(x), plain_net->classify(a * x + b), 1e-4, 1e-4));
    // The project field reaches the network; the default leaves inputs as they are.
    const auto on = io::ExperimentConfig::from_json(
        nlohmann::json::parse(R"({"data": {"normalize": "image", "channels": 3}})"));
    QVERIFY(on.net_options(10).image_standardization);
    QVERIFY(!on.net_options(10).imagenet_normalization);
    QVERIFY(!io::ExperimentConfig::from_json(nlohmann::json::object()).net_options(10).image_standardization);
  }

  void discriminatorShape() {
    for (bool bn : {true, false}) {
      models::Discriminator d(10, 500, bn);
      QCOMPARE(d->forward(torch::rand({6, 10})).sizes().vec(), (std::vector<int64_t>{6}));
    }
  }

  void mutualInformationByHand() {
    // Rows: (1,2)·(3,4) = 11 → 121; (0,1)·(2,5) = 5 → 25; mean 73.
    const auto hd = torch::tensor({{1.0, 2.0}, {0.0, 1.0}});
    const auto ht = torch::tensor({{3.0, 4.0}, {2.0, 5.0}});
    QCOMPARE(train::mutual_information_loss(hd, ht).item<double>(), 73.0);
    // Per unit: (11/2)² = 30.25 and (5/2)² = 6.25, mean 18.25.
    QCOMPARE(train::mutual_information_loss(hd, ht, /*per_unit=*/true).item<double>(), 18.25);
    // Orthogonal halves give zero.
    QCOMPARE(train::mutual_information_loss(torch::tensor({{1.0, 0.0}}), torch::tensor({{0.0, 7.0}})).item<double>(), 0.0);
  }

  void lossValuesOnKnownInputs() {
    const auto x = torch::zeros({2, 1, 2, 2});
    const auto xhat = torch::full({2, 1, 2, 2}, 0.5);
    QCOMPARE(train::reconstruction_loss(x, xhat).item<double>(), 0.25);
    // Uniform logits over 10 classes: cross-entropy ln 10.
    QVERIFY(std::abs(train::classification_loss(torch::zeros({3, 10}), torch::tensor({0L, 4L, 9L})).item<double>() -
                     std::log(10.0)) < 1e-6);
    // D at chance (score 0 → probability ½): L_advD = 2 ln 2, L_advM = ln 2.
    const auto zero = torch::zeros({5});
    QVERIFY(std::abs(train::discriminator_loss(zero, zero).item<double>() - 2 * std::log(2.0)) < 1e-6);
    QVERIFY(std::abs(train::adversarial_loss(zero).item<double>() - std::log(2.0)) < 1e-6);
    // A confident, correct D has a small loss; the generator's loss is then large.
    const auto big = torch::full({5}, 20.0);
    QVERIFY(train::discriminator_loss(big, -big).item<double>() < 1e-6);
    QVERIFY(train::adversarial_loss(-big).item<double>() > 19.0);
    // Information maximisation: uniform predictions 0 (H = ln 10 both ways); confident and spread over
    // the 10 classes −ln 10; confident but all one class 0; a step down it spreads a collapsed batch.
    QVERIFY(std::abs(train::information_maximization_loss(torch::zeros({4, 10})).item<double>()) < 1e-6);
    const auto spread = 50 * torch::eye(10);
    QVERIFY(std::abs(train::information_maximization_loss(spread).item<double>() + std::log(10.0)) < 1e-5);
    auto collapsed = torch::zeros({10, 10});
    collapsed.select(1, 3).fill_(50);
    QVERIFY(std::abs(train::information_maximization_loss(collapsed).item<double>()) < 1e-5);
    auto logits = (torch::randn({20, 10}) * 0.1 + torch::one_hot(torch::full({20}, 2L), 10) * 2).set_requires_grad(true);
    const double before = train::information_maximization_loss(logits).item<double>();
    train::information_maximization_loss(logits).backward();
    const auto stepped = (logits - 5 * logits.grad()).detach();
    QVERIFY(train::information_maximization_loss(stepped).item<double>() < before);
  }

  void classificationLossSkipsDecoder() {
    auto net = make_net("full", 1);
    const auto out = net->forward(torch::rand({8, 1, 28, 28}));
    train::classification_loss(out.logits, torch::randint(10, {8}, torch::kLong)).backward();
    QVERIFY(!has_nonzero_grad(*net->decoder));
    QVERIFY(has_nonzero_grad(*net->encoder));
    QVERIFY(has_nonzero_grad(*net->logit_map));
  }

  void reconstructionLossReachesEncoderAndDecoder() {
    auto net = make_net("full", 1);
    const auto x = torch::rand({8, 1, 28, 28});
    train::reconstruction_loss(x, net->forward(x).reconstruction).backward();
    QVERIFY(has_nonzero_grad(*net->decoder));
    QVERIFY(has_nonzero_grad(*net->encoder));
  }

  void separationDecoderSeesOnlyDomainSpecific() {
    // With the decoder on hd alone, Lr cannot reach the logit map.
    auto net = make_net("separation", 1);
    const auto x = torch::rand({8, 1, 28, 28});
    train::reconstruction_loss(x, net->forward(x).reconstruction).backward();
    QVERIFY(!has_nonzero_grad(*net->logit_map));
    QVERIFY(has_nonzero_grad(*net->decoder));
  }

  void mutualInformationReachesOnlyEncoder() {
    auto net = make_net("full", 1);
    const auto out = net->forward(torch::rand({8, 1, 28, 28}));
    train::mutual_information_loss(out.domain_specific, out.task_specific).backward();
    QVERIFY(has_nonzero_grad(*net->encoder));
    QVERIFY(!has_nonzero_grad(*net->decoder));
    QVERIFY(!has_nonzero_grad(*net->logit_map));
  }

  void fullVariantNeedsEqualHalves() {
    models::FanNetOptions o;
    o.domain_specific_dim = 30;
    QVERIFY_THROWS_EXCEPTION(Error, (void)models::FanNet(o));
    o.variant = models::Variant::kConcatenation;
    QCOMPARE(models::FanNet(o)->forward(torch::rand({2, 1, 28, 28})).task_specific.size(1), int64_t(70));
  }

  void checkpointRoundTrip() {
    test::ScratchDir dir;
    auto a = make_net("full", 1);
    auto b = make_net("full", 1);
    // Move a's batch-norm statistics away from their initial values.
    a->train();
    a->forward(torch::rand({16, 1, 28, 28}) * 3);
    a->eval();
    const auto x = torch::rand({4, 1, 28, 28});
    b->eval();
    QVERIFY(!torch::equal(a->forward(x).logits, b->forward(x).logits));
    const auto path = dir / "c.pt";
    io::save_checkpoint(path, {{"net", a.get()}}, {}, {{"stage", 2}, {"step", 17}});
    QVERIFY(!std::filesystem::exists(dir / "c.pt.tmp"));
    const auto state = io::load_checkpoint(path, {{"net", b.get()}}, {});
    QCOMPARE(state["step"].get<int>(), 17);
    QVERIFY(torch::equal(a->forward(x).logits, b->forward(x).logits));
    QVERIFY(torch::equal(a->forward(x).reconstruction, b->forward(x).reconstruction));
  }

  void corruptCheckpointIsAClearError() {
    test::ScratchDir dir;
    test::write_file(dir / "bad.pt", "this is not a checkpoint");
    auto net = make_net("full", 1);
    try {
      io::load_checkpoint(dir / "bad.pt", {{"net", net.get()}}, {});
      QFAIL("expected an error");
    } catch (const Error& e) {
      QVERIFY(QString(e.what()).contains("bad.pt"));
    }
    QVERIFY_THROWS_EXCEPTION(Error, io::read_checkpoint_state(dir / "missing.pt"));
  }
};

QTEST_APPLESS_MAIN(TestModels)
#include "tst_models.moc"
