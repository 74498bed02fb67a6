// A run's trained networks and test images.
#include "run_model.h"

#include "core/train/experiment.h"
#include "core/util/error.h"
#include "training_worker.h"

#include <random>

namespace fan::app {

RunModel::RunModel(const QString& run_dir, const QString& network)
    : run_dir_(run_dir), run_(analysis::load_run(run_dir.toStdString(), network.toStdString())) {}

int RunModel::count(Domain d) const { return static_cast<int>(test(d).size()); }

int RunModel::label(Domain d, int index) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(test(d).labels[index].item<int64_t>());
}

QImage RunModel::image(Domain d, int index) const {
  std::lock_guard lock(mutex_);
  return to_qimage(train::to_image_buffer(test(d).images[index]));
}

std::vector<int> RunModel::indicesOfClass(Domain d, int label) const {
  std::lock_guard lock(mutex_);
  const auto hits = (test(d).labels == label).nonzero().flatten().to(torch::kLong).contiguous();
  return std::vector<int>(hits.data_ptr<int64_t>(), hits.data_ptr<int64_t>() + hits.numel());
}

RunModel::Inspection RunModel::inspect(int target_index, int source_index, unsigned seed) const {
  if (!hasDecoder()) throw Error("model.variant: this run's networks have no decoder (adda)");
  if (target_index < 0 || target_index >= count(Domain::kTarget))
    throw Error("target image index out of range: " + std::to_string(target_index));
  Inspection r;
  r.target_label = label(Domain::kTarget, target_index);
  if (source_index < 0) {
    const auto same = indicesOfClass(Domain::kSource, r.target_label);
    if (same.empty()) throw Error("no source test image of class " + std::to_string(r.target_label));
    std::mt19937 rng(seed);
    source_index = same[rng() % same.size()];
  }
  if (source_index >= count(Domain::kSource))
    throw Error("source image index out of range: " + std::to_string(source_index));
  r.source_index = source_index;
  r.source_label = label(Domain::kSource, source_index);
  std::lock_guard lock(mutex_);
  torch::NoGradGuard no_grad;
  auto& target_net = adapted_net();
  const auto xt = run_.target_test.images[target_index].unsqueeze(0);
  const auto xs = run_.source_test.images[source_index].unsqueeze(0);
  const auto out_t = target_net->forward(xt);
  const auto out_s = run_.source->forward(xs);
  r.target = to_qimage(train::to_image_buffer(xt[0]));
  r.source = to_qimage(train::to_image_buffer(xs[0]));
  r.target_reconstruction = to_qimage(train::to_image_buffer(out_t.reconstruction[0]));
  r.source_reconstruction = to_qimage(train::to_image_buffer(out_s.reconstruction[0]));
  // The target's style (hd) with the source image's content (its logits).
  r.swapped = to_qimage(train::to_image_buffer(target_net->decode(out_t.domain_specific, out_s.logits)[0]));
  r.target_predicted = static_cast<int>(out_t.logits.argmax(1).item<int64_t>());
  return r;
}

QImage RunModel::interpolate(int a, int b, double alpha) const {
  if (!hasDecoder()) throw Error("model.variant: this run's networks have no decoder (adda)");
  std::lock_guard lock(mutex_);
  torch::NoGradGuard no_grad;
  auto& net = adapted_net();
  const auto& images = run_.target_test.images;
  const auto out_a = net->forward(images[a].unsqueeze(0));
  const auto out_b = net->forward(images[b].unsqueeze(0));
  const auto hd = out_a.domain_specific * (1 - alpha) + out_b.domain_specific * alpha;
  return to_qimage(train::to_image_buffer(net->decode(hd, out_a.logits)[0]));
}

analysis::EmbeddingReport RunModel::embed(const analysis::EmbeddingOptions& options,
                                          const std::function<void(double)>& progress,
                                          const std::function<bool()>& stop) const {
  std::lock_guard lock(mutex_);
  return analysis::embedding_figures(run_, options, progress, stop);
}

}  // namespace fan::app
