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
};

void dump_tensor(const torch::Tensor& t, const std::filesystem::path& path) {
  const auto c = t.contiguous().to(torch::kCPU);
  util::atomic_write(path, std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()));
}

nlohmann::json measure(const SpeedOptions& o) {
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

  return {{"implementation", "c++ libtorch " TORCH_VERSION},
          {"data", data},
          {"batch", o.batch},
          {"steps", o.steps},
          {"threads", threads},
          {"stage1_images_per_second", o.steps * o.batch / stage1_seconds},
          {"stage1_seconds_per_step", stage1_seconds / o.steps},
          {"stage2_iterations_per_second", o.steps / stage2_seconds},
          {"stage2_seconds_per_step", stage2_seconds / o.steps}};
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
  speed->callback([options] { std::cout << measure(*options).dump(2) << std::endl; });
}

}  // namespace fan::cli
