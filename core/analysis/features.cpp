// A run's networks rebuilt read-only from its directory; features; the Fig. 6b swap; image grids.
#include "core/analysis/features.h"

#include "core/data/domain.h"
#include "core/io/checkpoint.h"
#include "core/io/run_dir.h"
#include "core/models/discriminator.h"
#include "core/util/error.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>

namespace fan::analysis {
namespace {

// The seed salt Experiment::load_data gives the target domain's sampling
// (core/train/experiment.cpp, kTargetSampleSalt). The training split and the
// held-out validation images depend on it; the test splits are always complete.
constexpr uint64_t kTargetSampleSalt = 0x9E3779B97F4A7C15ULL;

Features cat_features(std::vector<Features>& parts) {
  Features out;
  std::vector<torch::Tensor> hd, ht, hl;
  for (auto& p : parts) {
    if (p.domain_specific.defined()) hd.push_back(p.domain_specific);
    if (p.task_specific.defined()) ht.push_back(p.task_specific);
    if (p.logits.defined()) hl.push_back(p.logits);
  }
  if (!hd.empty()) out.domain_specific = torch::cat(hd, 0);
  if (!ht.empty()) out.task_specific = torch::cat(ht, 0);
  if (!hl.empty()) out.logits = torch::cat(hl, 0);
  return out;
}

}  // namespace

RunModels load_run(const std::filesystem::path& run_dir, const std::string& network) {
  io::RunDirectory dir(run_dir);
  if (!std::filesystem::is_directory(run_dir)) throw Error(run_dir.string() + ": no such run directory");
  if (!dir.has_checkpoint())
    throw Error(dir.checkpoint_path().string() + ": no checkpoint yet (the run has not saved its networks)");
  RunModels r;
  r.run_dir = run_dir;
  r.config = io::ExperimentConfig::from_json(dir.read_config(), dir.config_path().string());
  const auto state = dir.read_state();
  r.stage = state.stage;

  const auto root = data::resolve_data_root(r.config.data_root);
  const auto seed = static_cast<uint64_t>(r.config.seed);
  auto source = data::load_domain(r.config.source, r.config.preprocess, root, seed);
  auto target = data::load_domain(r.config.target, r.config.preprocess, root, seed ^ kTargetSampleSalt);
  r.source_test = std::move(source.test);
  r.target_test = std::move(target.test);
  r.target_validation = std::move(target.validation);

  const auto options = r.config.net_options(r.source_test.num_classes);
  r.source = models::FanNet(options);
  io::ModuleMap modules = {{"source", r.source.get()}};
  models::Discriminator discriminator(options.num_classes, r.config.discriminator_layers(),
                                      r.config.discriminator_batch_norm);
  if (r.stage != io::Stage::kSource) {
    r.target = models::FanNet(options);
    modules["target"] = r.target.get();
    modules["discriminator"] = discriminator.get();
  }
  io::load_checkpoint(dir.checkpoint_path(), modules, {});
  r.network = network;
  if (network != "last") {
    if (!r.adapted() || !state.picks.count(network)) {
      std::string names;
      for (const auto& [name, pick] : state.picks) names += (names.empty() ? "" : ", ") + name;
      throw Error("--network " + network + ": " + run_dir.string() + " has no pick of that name (picks: " +
                  (names.empty() ? "none" : names) + "; or use last)");
    }
    io::load_checkpoint(dir.pick_path(network), {{"target", r.target.get()}}, {});
  }
  r.source->eval();
  if (r.adapted()) r.target->eval();
  return r;
}

Features extract_features(models::FanNet& net, const torch::Tensor& images, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  std::vector<Features> parts;
  for (int64_t begin = 0; begin < images.size(0); begin += batch_size) {
    const auto batch = images.narrow(0, begin, std::min(batch_size, images.size(0) - begin));
    auto out = net->features(batch);
    Features f;
    if (out.domain_specific.defined()) f.domain_specific = out.domain_specific.to(torch::kCPU).contiguous();
    f.task_specific = out.task_specific.to(torch::kCPU).contiguous();
    f.logits = out.logits.to(torch::kCPU).contiguous();
    parts.push_back(std::move(f));
  }
  net->train(was_training);
  return cat_features(parts);
}

torch::Tensor select_rows(const torch::Tensor& t, const std::vector<int64_t>& rows) {
  return t.index_select(0, torch::tensor(rows, torch::kLong).to(t.device()));
}

std::vector<int64_t> sample_indices(int64_t n, int64_t count, uint64_t seed) {
  std::vector<int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  if (count >= n) return all;
  std::mt19937_64 rng(seed);
  // Partial Fisher-Yates: the first `count` entries become a uniform sample.
  for (int64_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<int64_t> pick(i, n - 1);
    std::swap(all[i], all[pick(rng)]);
  }
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

SwapResult swap_reconstructions(models::FanNet& target_net, models::FanNet& source_net,
                                const torch::Tensor& target_images, const torch::Tensor& target_labels,
                                const torch::Tensor& source_images, const torch::Tensor& source_labels,
                                uint64_t seed) {
  if (!target_net->has_decoder())
    throw Error("model.variant: this variant has no decoder; Fig. 6b needs one");
  std::map<int64_t, std::vector<int64_t>> by_class;
  const auto sl = source_labels.to(torch::kCPU).contiguous();
  for (int64_t i = 0; i < sl.size(0); ++i) by_class[sl[i].item<int64_t>()].push_back(i);
  const auto tl = target_labels.to(torch::kCPU).contiguous();
  std::mt19937_64 rng(seed);
  SwapResult r;
  for (int64_t i = 0; i < tl.size(0); ++i) {
    const int64_t c = tl[i].item<int64_t>();
    const auto it = by_class.find(c);
    if (it == by_class.end())
      throw Error("Fig. 6b: the source set has no image of class " + std::to_string(c) +
                  " to take logits from");
    std::uniform_int_distribution<size_t> pick(0, it->second.size() - 1);
    r.source_partner.push_back(it->second[pick(rng)]);
  }
  torch::NoGradGuard no_grad;
  const bool target_training = target_net->is_training(), source_training = source_net->is_training();
  target_net->eval();
  source_net->eval();
  const auto partners = torch::tensor(r.source_partner, torch::kLong).to(source_images.device());
  r.target_domain_specific = target_net->features(target_images).domain_specific;
  r.source_logits = source_net->classify(source_images.index_select(0, partners));
  r.reconstruction = target_net->decode(r.target_domain_specific, r.source_logits);
  target_net->train(target_training);
  source_net->train(source_training);
  return r;
}

torch::Tensor image_grid(const std::vector<torch::Tensor>& rows, int64_t zoom, int64_t gap) {
  if (rows.empty()) throw Error("image grid: no rows");
  int64_t columns = 0;
  for (const auto& r : rows) columns = std::max(columns, r.size(0));
  const auto& first = rows.front();
  const int64_t c = first.size(1), h = first.size(2) * zoom, w = first.size(3) * zoom;
  auto grid =
      torch::ones({c, gap + static_cast<int64_t>(rows.size()) * (h + gap), gap + columns * (w + gap)});
  for (size_t r = 0; r < rows.size(); ++r) {
    auto images = rows[r].detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1);
    if (images.size(1) != c)
      images = images.size(1) == 1 ? images.expand({-1, c, -1, -1}) : images.mean(1, true);
    if (zoom > 1) images = images.repeat_interleave(zoom, 2).repeat_interleave(zoom, 3);
    for (int64_t k = 0; k < images.size(0); ++k)
      grid.narrow(1, gap + static_cast<int64_t>(r) * (h + gap), h)
          .narrow(2, gap + k * (w + gap), w)
          .copy_(images[k]);
  }
  return grid;
}

}  // namespace fan::analysis
