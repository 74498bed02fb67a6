// The large-image configuration: ResNet encoders, the DCGAN decoder, the large
// discriminator, partial weight sharing, streamed image folders, top-5.
#include "core/test_util.h"

#include "core/data/image_io.h"
#include "core/data/image_set.h"
#include "core/io/config.h"
#include "core/models/discriminator.h"
#include "core/models/fan_net.h"
#include "core/models/resnet.h"
#include "core/train/evaluation.h"
#include "core/train/experiment.h"
#include "core/train/source_trainer.h"
#include "core/train/target_adapter.h"

#include <QtTest>

#include <set>

using namespace fan;
namespace fs = std::filesystem;

namespace {

models::FanNetOptions resnet_options(models::EncoderKind kind, int64_t size, int64_t classes = 5) {
  models::FanNetOptions o;
  o.encoder = kind;
  o.latent_dim = models::encoder_width(kind, 0);
  o.domain_specific_dim = o.latent_dim / 2;
  o.in_channels = 3;
  o.image_size = size;
  o.num_classes = classes;
  o.decoder_size = 64;
  return o;
}

// Class c: a coloured square whose position depends on c; the target domain
// draws it on a light background in another colour (the domain shift).
torch::Tensor folder_image(int64_t c, int64_t k, bool target, int64_t size) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(c * 100 + k + (target ? 7 : 0)));
  auto image = torch::full({3, size, size}, target ? 0.8 : 0.1) + torch::rand({3, size, size}, gen) * 0.1;
  const int64_t side = size / 3;
  const int64_t top = (c % 2) * (size - side), left = (c / 2) * (size - side) / 2;
  auto square = image.narrow(1, top, side).narrow(2, left, side);
  square[target ? 2 : 0].fill_(target ? 0.1 : 0.95);
  return image.clamp(0, 1);
}

// root/{train,test}/c<k>/*.png with `classes` classes.
void write_folder(const fs::path& root, bool target, int64_t classes, int64_t train, int64_t test, int64_t size) {
  for (int64_t c = 0; c < classes; ++c) {
    for (int64_t k = 0; k < train + test; ++k) {
      const auto split = k < train ? "train" : "test";
      data::write_image(root / split / ("c" + std::to_string(c)) / (std::to_string(k) + ".png"),
                        folder_image(c, k, target, size));
    }
  }
}

bool same_tensor(const torch::Tensor& a, const torch::Tensor& b) {
  return a.unsafeGetTensorImpl() == b.unsafeGetTensorImpl();
}

// An image folder as a streamed RGB domain: resize² then crops of size².
data::StreamedDomain stream_domain(const fs::path& folder, int64_t size, int64_t resize, bool flip = false,
                                   double fraction = 1.0) {
  data::Preprocess p;
  p.channels = 3;
  p.size = size;
  p.resize = resize;
  p.flip = flip;
  data::DomainSpec spec;
  spec.dataset = "folder";
  spec.folder = folder.string();
  if (fraction < 1.0) {
    spec.protocol = data::Protocol::kFraction;
    spec.fraction = fraction;
  }
  return data::stream_folder_domain(spec, p, {}, 0);
}

nlohmann::json tiny_project(const fs::path& source, const fs::path& target) {
  return {
      {"name", "tiny_folders"},
      {"source", {{"dataset", "folder"}, {"folder", source.string()}, {"protocol", "full"}}},
      {"target", {{"dataset", "folder"}, {"folder", target.string()}, {"protocol", "full"}}},
      {"data", {{"channels", 3}, {"image_size", 32}, {"resize", 40}, {"flip", true}, {"loader", "stream"}, {"workers", 2}}},
      {"model", {{"encoder", "resnet18"}, {"decoder_size", 16}, {"discriminator_hidden", 64},
                 {"discriminator_hidden2", 128}, {"discriminator_batch_norm", true}}},
      {"loss", {{"alpha", 5.0}, {"beta", 1.0}, {"mu", 2.0}, {"nu", 1.0}}},
      {"stage1", {{"epochs", 3}, {"batch_size", 8}, {"lr", 1e-3}}},
      {"stage2", {{"iterations", 4}, {"batch_size", 8}}},
      {"eval", {{"every", 2}, {"batch_size", 16}}},
      {"run", {{"log_every", 1}, {"checkpoint_every", 3}, {"preview_every", 2}}},
      {"threads", 1}};
}

}  // namespace

class TestLargeImages : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::manual_seed(0); }

  void resnet50At224() {
    models::FanNet net(resnet_options(models::EncoderKind::kResNet50, 224));
    const auto out = net->forward(torch::rand({2, 3, 224, 224}));
    QCOMPARE(out.domain_specific.sizes().vec(), (std::vector<int64_t>{2, 1024}));
    QCOMPARE(out.task_specific.sizes().vec(), (std::vector<int64_t>{2, 1024}));
    QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t>{2, 5}));
    // The DCGAN decoder reconstructs the input downscaled to 64×64.
    QCOMPARE(out.reconstruction.sizes().vec(), (std::vector<int64_t>{2, 3, 64, 64}));
    QCOMPARE(net->reconstruction_target(torch::rand({2, 3, 224, 224})).sizes().vec(),
             (std::vector<int64_t>{2, 3, 64, 64}));
    QCOMPARE(net->logit_map->options.in_features(), int64_t(1024));
  }

  void lighterResNetsAtSmallSize() {
    for (auto kind : {models::EncoderKind::kResNet18, models::EncoderKind::kResNet34}) {
      auto o = resnet_options(kind, 64);
      o.decoder_size = 32;
      models::FanNet net(o);
      const auto out = net->forward(torch::rand({2, 3, 64, 64}));
      QCOMPARE(out.task_specific.size(1), int64_t(256));
      QCOMPARE(out.reconstruction.sizes().vec(), (std::vector<int64_t>{2, 3, 32, 32}));
    }
    // ResNet-34 has [3, 4, 6, 3] basic blocks, ResNet-18 [2, 2, 2, 2].
    models::ResNetEncoder r34(models::EncoderKind::kResNet34, 3);
    QCOMPARE(r34->stages[3]->size(), size_t(6));
    models::ResNetEncoder r18(models::EncoderKind::kResNet18, 3);
    QCOMPARE(r18->stages[3]->size(), size_t(2));
    QCOMPARE(r18->width, int64_t(512));
  }

  void dcganDecoderLayers() {
    auto net = models::FanNet(resnet_options(models::EncoderKind::kResNet18, 64));
    std::vector<int64_t> filters;
    for (const auto& m : net->decoder->modules(false))
      if (auto* t = m->as<torch::nn::ConvTranspose2dImpl>()) filters.push_back(t->options.out_channels());
    QCOMPARE(filters, (std::vector<int64_t>{256, 256, 128, 64, 3}));
    auto bad = resnet_options(models::EncoderKind::kResNet18, 64);
    bad.decoder_size = 40;
    QVERIFY(test::error_of([&] { models::FanNet n(bad); }).contains("multiple of 16"));
    bad = resnet_options(models::EncoderKind::kResNet18, 32);  // a 64×64 decoder for 32×32 inputs
    QVERIFY(test::error_of([&] { models::FanNet n(bad); }).contains("at most data.image_size"));
    bad = resnet_options(models::EncoderKind::kResNet18, 64);
    bad.latent_dim = 100;
    QVERIFY(test::error_of([&] { models::FanNet n(bad); }).contains("model.latent_dim"));
  }

  void largeDiscriminator() {
    models::Discriminator d(5, std::vector<int64_t>{1024, 2048}, true);
    std::vector<int64_t> widths;
    int64_t norms = 0;
    for (const auto& m : d->modules(false)) {
      if (auto* l = m->as<torch::nn::LinearImpl>()) widths.push_back(l->options.out_features());
      if (m->as<torch::nn::BatchNorm1dImpl>()) ++norms;
    }
    QCOMPARE(widths, (std::vector<int64_t>{1024, 2048, 1}));
    QCOMPARE(norms, int64_t(2));
    QCOMPARE(d->forward(torch::rand({6, 5})).sizes().vec(), (std::vector<int64_t>{6}));
  }

  void sharedStagesAreOneModuleAndFrozenInStage2() {
    auto o = resnet_options(models::EncoderKind::kResNet18, 32);
    o.decoder_size = 16;
    models::FanNet source(o), target(o);
    target->share_encoder_stages(*source, 3);  // stem, layer1, layer2
    QCOMPARE(target->shared_encoder_stages(), int64_t(3));
    auto* s = dynamic_cast<models::ResNetEncoderImpl*>(source->encoder.get());
    auto* t = dynamic_cast<models::ResNetEncoderImpl*>(target->encoder.get());
    for (size_t i = 0; i < 5; ++i) {
      const auto sp = s->stages[i]->parameters(), tp = t->stages[i]->parameters();
      QCOMPARE(same_tensor(sp.front(), tp.front()), i < 3);
    }
    // A shallow LeNet network stays untied.
    models::FanNet lenet_s{models::FanNetOptions{}}, lenet_t{models::FanNetOptions{}};
    lenet_t->share_encoder_stages(*lenet_s, 3);
    QCOMPARE(lenet_t->shared_encoder_stages(), int64_t(0));

    // Stage 1 moves the source's statistics, then stage 2 starts from it.
    source->train();
    source->forward(torch::rand({4, 3, 32, 32}));
    models::copy_state(*source, *target);
    train::TargetAdapterOptions a;
    a.lr = 1e-2;
    train::TargetAdapter adapter(source, target, models::Discriminator(5, std::vector<int64_t>{16, 16}, true), a);
    QCOMPARE(adapter.target_optimizer().param_groups()[0].params().size(), target->own_parameters().size());
    QVERIFY(target->own_parameters().size() < target->parameters().size());

    std::map<std::string, torch::Tensor> before;
    for (const auto& p : target->named_parameters()) before[p.key()] = p.value().clone();
    for (const auto& b : target->named_buffers()) before[b.key()] = b.value().clone();
    for (int i = 0; i < 2; ++i) {
      const auto xs = torch::rand({4, 3, 32, 32}), xt = torch::rand({4, 3, 32, 32}) * 0.5;
      const auto losses = adapter.step_with_logits(adapter.source_logits_of(xs), xt);
      QVERIFY(std::isfinite(losses.at("total")));
    }
    for (const auto& p : target->named_parameters()) {
      const bool shared = p.key().rfind("encoder.stem", 0) == 0 || p.key().rfind("encoder.layer1", 0) == 0 ||
                          p.key().rfind("encoder.layer2", 0) == 0;
      if (shared) QVERIFY2(torch::equal(p.value(), before[p.key()]), p.key().c_str());
    }
    for (const auto& b : target->named_buffers()) {
      if (b.key().rfind("encoder.stem", 0) == 0 || b.key().rfind("encoder.layer2", 0) == 0)
        QVERIFY2(torch::equal(b.value(), before[b.key()]), b.key().c_str());  // eval mode: statistics kept
    }
    QVERIFY(!torch::equal(target->named_parameters()["encoder.layer3.0.conv1.weight"],
                          before["encoder.layer3.0.conv1.weight"]));
    QVERIFY(!torch::equal(target->named_parameters()["logit_map.weight"], before["logit_map.weight"]));
  }

  void topFiveByHand() {
    // Sample 0: label 6 ranks 1st; sample 1: label 0 ranks 5th; sample 2: label 1 ranks 6th.
    const auto logits = torch::tensor({{0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 9.0, 7.0},
                                       {3.0, 4.0, 5.0, 6.0, 7.0, 0.0, 1.0, 2.0},
                                       {8.0, 0.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0}});
    const auto e = train::evaluate_logits(logits, torch::tensor({6L, 0L, 1L}), 8);
    QCOMPARE(e.top1, 1.0 / 3);
    QCOMPARE(e.top5, 2.0 / 3);
  }

  void streamIsDeterministicAndResumable() {
    test::ScratchDir dir;
    write_folder(dir / "src", false, 3, 5, 2, 24);
    const auto domain = stream_domain(dir / "src", 16, 24, /*flip=*/true);
    QCOMPARE(domain.train->size(), int64_t(15));
    QCOMPARE(domain.test->size(), int64_t(6));
    data::BatchStream a(domain.train, 4, 7, true, 2), b(domain.train, 4, 7, true, 0);
    std::vector<data::Batch> seen;
    for (int i = 0; i < 6; ++i) {
      seen.push_back(a.next());
      const auto other = b.next();
      QVERIFY(torch::equal(seen.back().images, other.images));  // threads or not, the same batches
      QCOMPARE(seen.back().images.sizes().vec(), (std::vector<int64_t>{4, 3, 16, 16}));
    }
    // A stream restored to the position after batch 2 continues with batch 3.
    data::BatchStream c(domain.train, 4, 7, true, 2);
    for (int i = 0; i < 3; ++i) c.next();
    data::BatchStream d(domain.train, 4, 7, true, 2);
    d.restore(c.epoch(), c.cursor());
    for (int i = 3; i < 6; ++i) QVERIFY(torch::equal(d.next().images, seen[static_cast<size_t>(i)].images));
    // Training views are random crops; the test view is the centre crop.
    const auto first = seen[0].indices;
    const auto centre = domain.train->images(first, false, 0);
    QVERIFY(!torch::equal(centre, seen[0].images));
    QVERIFY(torch::equal(centre, domain.train->images(first, false, 99)));
    // Fraction protocol on files: round(0.4 · 5) = 2 per class.
    QCOMPARE(stream_domain(dir / "src", 16, 24, true, 0.4).train->size(), int64_t(6));
  }

  void sourceStepLowersTheLossOnAStreamedFolder() {
    test::ScratchDir dir;
    write_folder(dir / "src", false, 3, 4, 1, 40);
    const auto domain = stream_domain(dir / "src", 32, 40);
    data::BatchStream stream(domain.train, 12, 0, true, 2);
    const auto batch = stream.next();
    auto o = resnet_options(models::EncoderKind::kResNet18, 32, 3);
    o.decoder_size = 16;
    train::SourceTrainerOptions s;
    s.alpha = 5;
    s.lr = 1e-3;
    train::SourceTrainer trainer(models::FanNet(o), s);
    const auto before = trainer.net()->named_parameters()["encoder.layer4.1.conv2.weight"].clone();
    const double first = trainer.step(batch.images, batch.labels).at("total");
    double last = first;
    for (int i = 0; i < 5; ++i) last = trainer.step(batch.images, batch.labels).at("total");
    QVERIFY2(last < first, qPrintable(QString("%1 → %2").arg(first).arg(last)));
    QVERIFY(!torch::equal(before, trainer.net()->named_parameters()["encoder.layer4.1.conv2.weight"]));
  }

  void experimentOnATinyFolderPair() {
    test::ScratchDir dir;
    write_folder(dir / "src", false, 3, 6, 2, 40);
    write_folder(dir / "tgt", true, 3, 6, 2, 40);
    auto config = io::ExperimentConfig::from_json(tiny_project(dir / "src", dir / "tgt"));
    QCOMPARE(config.latent_dim, int64_t(512));
    QCOMPARE(config.domain_specific_dim, int64_t(256));
    train::Experiment experiment(config, dir / "run");
    const auto r = io::to_json(experiment.run());
    QCOMPARE(r["status"].get<std::string>(), std::string("finished"));
    QCOMPARE(r["encoder"].get<std::string>(), std::string("resnet18"));
    QCOMPARE(r["stage1_steps"].get<int>(), 6);  // 18 images, batch 8: 2 per epoch
    QCOMPARE(r["stage2_steps"].get<int>(), 4);
    const double top1 = r["adapted"]["top1"], top5 = r["adapted"]["top5"];
    QVERIFY(top1 >= 0 && top1 <= top5 && top5 == 1.0);  // 3 classes: top-5 covers them all
    QVERIFY(fs::exists(dir / "run" / "checkpoint.pt"));
  }

  void folderErrorsAreClear() {
    test::ScratchDir dir;
    write_folder(dir / "src", false, 3, 3, 1, 24);
    write_folder(dir / "tgt", true, 3, 3, 1, 24);
    fs::remove_all(dir / "tgt" / "train" / "c2");
    fs::remove_all(dir / "tgt" / "test" / "c2");
    auto project = tiny_project(dir / "src", dir / "tgt");
    auto message = test::error_of([&] { train::Experiment(io::ExperimentConfig::from_json(project), dir / "r1").run(); });
    QVERIFY2(message.contains("different class counts"), qPrintable(message));
    // Same count, a class named differently.
    fs::create_directories(dir / "tgt" / "train" / "zz");
    data::write_image(dir / "tgt" / "train" / "zz" / "0.png", folder_image(2, 0, true, 24));
    message = test::error_of([&] { train::Experiment(io::ExperimentConfig::from_json(project), dir / "r2").run(); });
    QVERIFY2(message.contains("missing: c2"), qPrintable(message));
    // An unreadable file surfaces from the loader thread, naming the file.
    test::write_file(dir / "src" / "train" / "c0" / "broken.png", "not a png");
    const auto domain = stream_domain(dir / "src", 16, 0);
    message = test::error_of([&] {
      data::BatchStream stream(domain.train, 10, 0, true, 2);
      stream.next();
    });
    QVERIFY2(message.contains("broken.png"), qPrintable(message));
  }

  void configRules() {
    auto project = tiny_project("/a", "/b");
    project["model"]["latent_dim"] = 100;
    QVERIFY(test::error_of([&] { io::validate_config(project); }).contains("model.latent_dim"));
    project = tiny_project("/a", "/b");
    project["source"]["dataset"] = "mnist";
    QVERIFY(test::error_of([&] { io::validate_config(project); }).contains("data.loader"));
    project = tiny_project("/a", "/b");
    project["data"]["resize"] = 20;
    QVERIFY(test::error_of([&] { io::validate_config(project); }).contains("data.resize"));
    project = tiny_project("/a", "/b");
    project["model"]["decoder_size"] = 40;
    QVERIFY(test::error_of([&] { io::validate_config(project); }).contains("model.decoder_size"));
    project["model"]["decoder_size"] = 48;  // a multiple of 16, but above image_size 32
    QVERIFY(test::error_of([&] { io::validate_config(project); }).contains("at most data.image_size"));
    // LeNet's 0 means 100 / 50, as before.
    const auto lenet = io::ExperimentConfig::from_json(nlohmann::json::object());
    QCOMPARE(lenet.latent_dim, int64_t(100));
    QCOMPARE(lenet.domain_specific_dim, int64_t(50));
  }
};

QTEST_APPLESS_MAIN(TestLargeImages)
#include "tst_large_images.moc"
