// `fan bench speed`: throughput of the stage-1 and stage-2 steps at a fixed batch size.
#include "commands.h"

#include "core/data/domain.h"
#include "core/models/discriminator.h"
#include "core/models/fan_net.h"
#include "core/train/experiment.h"
#include "core/train/source_trainer.h"
#include "core/train/target_adapter.h"
#include "core/util/fs.h"

#include <chrono>
#include <iostream>

namespace fan::cli {
namespace {

struct SpeedOptions {
  int64_t steps = 40;
  int64_t warmup = 5;
  int64_t batch = 128;
  int64_t threads = 0;
  int64_t seed = 0;
  std::string dump;  // folder for the raw batches the Python reference reads
  std::string encoder = "lenet";  // resnet18/34/50: the large-image networks on random RGB images
  int64_t image_size = 224;       // for ResNet encoders
  std::string device = "cpu";
  bool mixed_precision = false;   // bfloat16 autocast (CUDA)
};

void dump_tensor(const torch::Tensor& t, const std::filesystem::path& path) {
  const auto c = t.contiguous().to(torch::kCPU);
  util::atomic_write(path, std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
}

// What both measurements report: the timed steps as rates.
nlohmann::json rates(const SpeedOptions& o, int threads, double stage1_seconds, double stage2_seconds) {
  return {{"implementation", "c++ libtorch " TORCH_VERSION},
          {"batch", o.batch},
          {"steps", o.steps},
          {"threads", threads},
          {"stage1_images_per_second", o.steps * o.batch / stage1_seconds},
          {"stage1_seconds_per_step", stage1_seconds / o.steps},
          {"stage2_iterations_per_second", o.steps / stage2_seconds},
          {"stage2_seconds_per_step", stage2_seconds / o.steps}};
}

// The large-image configuration (FAN-SPEC): ResNet encoder, DCGAN decoder (64×64),
// discriminator 1024 → 2048 with BN, stem + two stages shared, α = 5; random
// 3×S×S batches, 100 classes (Table 3's tagging set has 100). Stage 2 runs the
// frozen source network on each source batch, as a streamed run does.
nlohmann::json measure_resnet(const SpeedOptions& o) {
  const int threads = train::apply_threads(o.threads);
  const auto device = train::resolve_device(o.device);
  const bool amp = o.mixed_precision && device.is_cuda();
  torch::manual_seed(o.seed);
  models::FanNetOptions options;
  options.encoder = models::parse_encoder(o.encoder);
  options.latent_dim = models::encoder_width(options.encoder, 0);
  options.domain_specific_dim = options.latent_dim / 2;
  options.in_channels = 3;
  options.image_size = o.image_size;
  options.num_classes = 100;
  options.decoder_size = std::min<int64_t>(64, o.image_size / 16 * 16);  // 64×64, or the input's size when smaller
  const auto xs = torch::rand({o.batch, 3, o.image_size, o.image_size}).to(device);
  const auto ys = torch::randint(options.num_classes, {o.batch}, torch::kLong).to(device);
  const auto xt = torch::rand({o.batch, 3, o.image_size, o.image_size}).to(device);

  models::FanNet source(options), target(options);
  target->share_encoder_stages(*source, 3);
  source->to(device);
  target->to(device);
  train::SourceTrainerOptions so;
  so.alpha = 5;
  so.mixed_precision = amp;
  train::SourceTrainer trainer(source, so);
  using Clock = std::chrono::steady_clock;
  // Every step reads its losses back to the CPU, which waits for the device.
  for (int64_t i = 0; i < o.warmup; ++i) trainer.step(xs, ys);
  auto start = Clock::now();
  for (int64_t i = 0; i < o.steps; ++i) trainer.step(xs, ys);
  const double stage1_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  models::copy_state(*source, *target);
  models::Discriminator d(options.num_classes, std::vector<int64_t>{1024, 2048}, true);
  d->to(device);
  train::TargetAdapterOptions ao;
  ao.mixed_precision = amp;
  train::TargetAdapter adapter(source, target, d, ao);
  for (int64_t i = 0; i < o.warmup; ++i) adapter.step_with_logits(adapter.source_logits_of(xs), xt);
  start = Clock::now();
  for (int64_t i = 0; i < o.steps; ++i) adapter.step_with_logits(adapter.source_logits_of(xs), xt);
  const double stage2_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto r = rates(o, threads, stage1_seconds, stage2_seconds);
  r["encoder"] = o.encoder;
  r["image_size"] = o.image_size;
  r["device"] = device.str();
  r["mixed_precision"] = amp;
  return r;
}

nlohmann::json measure(const SpeedOptions& o) {
  if (o.encoder != "lenet") return measure_resnet(o);
  const int threads = train::apply_threads(o.threads);
  torch::manual_seed(o.seed);
  // The real digits when the data root has them (MNIST sampled → USPS); else random images.
  torch::Tensor source_images, source_labels, target_images;
  std::string data = "random";
  try {
    const auto root = data::resolve_data_root();
    data::DomainSpec s{"mnist", "", data::Protocol::kSampled, 2000, 1.0};
    data::DomainSpec t{"usps", "", data::Protocol::kSampled, 1800, 1.0};
    data::Preprocess p;
    const auto source = data::load_domain(s, p, root, o.seed);
    const auto target = data::load_domain(t, p, root, o.seed);
    source_images = source.train.images;
    source_labels = source.train.labels;
    target_images = target.train.images;
    data = "mnist sampled 2000 → usps sampled 1800";
  } catch (const std::exception&) {
    source_images = torch::rand({2000, 1, 28, 28});
    source_labels = torch::randint(10, {2000}, torch::kLong);
    target_images = torch::rand({1800, 1, 28, 28});
  }
  if (!o.dump.empty()) {
    std::filesystem::create_directories(o.dump);
    dump_tensor(source_images.narrow(0, 0, o.batch), std::filesystem::path(o.dump) / "source_images.f32");
    dump_tensor(source_labels.narrow(0, 0, o.batch), std::filesystem::path(o.dump) / "source_labels.i64");
    dump_tensor(target_images.narrow(0, 0, o.batch), std::filesystem::path(o.dump) / "target_images.f32");
  }
  const auto xs = source_images.narrow(0, 0, o.batch).contiguous();
  const auto ys = source_labels.narrow(0, 0, o.batch).contiguous();
  const auto xt = target_images.narrow(0, 0, o.batch).contiguous();

  models::FanNetOptions options;
  models::FanNet source(options);
  train::SourceTrainer trainer(source, train::SourceTrainerOptions{});
  using Clock = std::chrono::steady_clock;
  for (int64_t i = 0; i < o.warmup; ++i) trainer.step(xs, ys);
  auto start = Clock::now();
  for (int64_t i = 0; i < o.steps; ++i) trainer.step(xs, ys);
  const double stage1_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  models::FanNet target(options);
  models::copy_state(*source, *target);
  train::TargetAdapter adapter(source, target, models::Discriminator(options.num_classes, 500, true),
                               train::TargetAdapterOptions{});
  adapter.precompute_source_logits(xs);
  const auto indices = torch::arange(o.batch, torch::kLong);
  for (int64_t i = 0; i < o.warmup; ++i) adapter.step(indices, xt);
  start = Clock::now();
  for (int64_t i = 0; i < o.steps; ++i) adapter.step(indices, xt);
  const double stage2_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  auto r = rates(o, threads, stage1_seconds, stage2_seconds);
  r["data"] = data;
  return r;
}

}  // namespace

void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto options = std::make_shared<SpeedOptions>();
  auto* speed = bench->add_subcommand("speed", "Images/s of the stage-1 step and iterations/s of the stage-2 step");
  speed->add_option("--steps", options->steps, "Timed steps per stage");
  speed->add_option("--warmup", options->warmup, "Untimed steps first");
  speed->add_option("--batch", options->batch, "Batch size (per domain)");
  speed->add_option("--threads", options->threads, "Intra-op threads (0: all cores)");
  speed->add_option("--dump", options->dump, "Write the timed batches as raw files here (for bench/speed_reference.py)");
  speed->add_option("--encoder", options->encoder, "lenet (digits, default) or resnet18/34/50 (large images, random data)")
      ->check(CLI::IsMember(std::vector<std::string>{"lenet", "resnet18", "resnet34", "resnet50"}));
  speed->add_option("--image-size", options->image_size, "Input side for ResNet encoders (default 224)")->check(CLI::Range(32, 1024));
  speed->add_option("--device", options->device, "cpu, cuda, cuda:N or auto (ResNet encoders)");
  speed->add_flag("--mixed-precision", options->mixed_precision, "bfloat16 autocast on CUDA (ResNet encoders)");
  speed->callback([options] { std::cout << measure(*options).dump(2) << std::endl; });
}

}  // namespace fan::cli
