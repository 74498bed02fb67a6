// A run's trained networks and test images.
#include "run_model.h"

#include "core/analysis/domain_distance.h"
#include "core/train/experiment.h"
#include "core/util/error.h"
#include "training_worker.h"

#include <random>

namespace fan::app {
RunModel::RunModel(const QString& run_dir) : run_dir_(run_dir) {
  experiment_ = train::Experiment::resume(run_dir.toStdString());
  stage_ = experiment_->load_networks();
}

RunModel::~RunModel() = default;

bool RunModel::hasDecoder() const { return experiment_->source_net()->has_decoder(); }

int RunModel::count(Domain d) const {
  const auto& data = d == Domain::kSource ? experiment_->source_data().test : experiment_->target_data().test;
  return static_cast<int>(data.size());
}

int RunModel::label(Domain d, int index) const {
  std::lock_guard lock(mutex_);
  const auto& data = d == Domain::kSource ? experiment_->source_data().test : experiment_->target_data().test;
  return static_cast<int>(data.labels[index].item<int64_t>());
}

QImage RunModel::image(Domain d, int index) const {
  std::lock_guard lock(mutex_);
  const auto& data = d == Domain::kSource ? experiment_->source_data().test : experiment_->target_data().test;
  return to_qimage(train::to_image_buffer(data.images[index]));
}

std::vector<int> RunModel::indicesOfClass(Domain d, int label) const {
  std::lock_guard lock(mutex_);
  const auto& data = d == Domain::kSource ? experiment_->source_data().test : experiment_->target_data().test;
  const auto hits = (data.labels == label).nonzero().flatten().to(torch::kCPU);
  std::vector<int> out(hits.size(0));
  for (int64_t i = 0; i < hits.size(0); ++i) out[i] = static_cast<int>(hits[i].item<int64_t>());
  return out;
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
  auto& target_net = stage_ >= 2 ? experiment_->target_net() : experiment_->source_net();
  auto& source_net = experiment_->source_net();
  const auto xt = experiment_->target_data().test.images[target_index].unsqueeze(0);
  const auto xs = experiment_->source_data().test.images[source_index].unsqueeze(0);
  const auto out_t = target_net->forward(xt);
  const auto out_s = source_net->forward(xs);
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
  auto& net = stage_ >= 2 ? experiment_->target_net() : experiment_->source_net();
  const auto& images = experiment_->target_data().test.images;
  const auto out_a = net->forward(images[a].unsqueeze(0));
  const auto out_b = net->forward(images[b].unsqueeze(0));
  const auto hd = out_a.domain_specific * (1 - alpha) + out_b.domain_specific * alpha;
  return to_qimage(train::to_image_buffer(net->decode(hd, out_a.logits)[0]));
}

std::vector<float> RunModel::features(Domain d, const std::vector<int>& indices, bool after, Space space,
                                      int* dimension) const {
  std::lock_guard lock(mutex_);
  torch::NoGradGuard no_grad;
  // "After adaptation" compares what D compared: source images through the
  // frozen source network, target images through the adapted target network.
  auto& net = after && stage_ >= 2 && d == Domain::kTarget ? experiment_->target_net() : experiment_->source_net();
  const auto& data = d == Domain::kSource ? experiment_->source_data().test : experiment_->target_data().test;
  const auto idx = torch::tensor(std::vector<int64_t>(indices.begin(), indices.end()), torch::kLong);
  const auto out = net->forward(data.images.index_select(0, idx));
  auto f = space == Space::kLogits ? out.logits : space == Space::kDomainSpecific ? out.domain_specific : out.task_specific;
  if (!f.defined()) throw Error("model.variant: this run's networks have no domain-specific subspace");
  f = f.to(torch::kCPU, torch::kFloat).contiguous();
  if (dimension) *dimension = static_cast<int>(f.size(1));
  return std::vector<float>(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
}

double RunModel::proxyADistance(const std::vector<int>& source, const std::vector<int>& target, bool after,
                                Space space) const {
  int d = 0;
  const auto fs = features(Domain::kSource, source, after, space, &d);
  const auto ft = features(Domain::kTarget, target, after, space, &d);
  const auto s = torch::from_blob(const_cast<float*>(fs.data()), {static_cast<int64_t>(source.size()), d}).clone();
  const auto t = torch::from_blob(const_cast<float*>(ft.data()), {static_cast<int64_t>(target.size()), d}).clone();
  return analysis::proxy_a_distance(s, t, /*seed=*/0).distance;
}

std::vector<int> RunModel::predictions(Domain d, const std::vector<int>& indices, bool after) const {
  std::lock_guard lock(mutex_);
  torch::NoGradGuard no_grad;
  // "After adaptation" compares what D compared: source images through the
  // frozen source network, target images through the adapted target network.
  auto& net = after && stage_ >= 2 && d == Domain::kTarget ? experiment_->target_net() : experiment_->source_net();
  const auto& data = d == Domain::kSource ? experiment_->source_data().test : experiment_->target_data().test;
  const auto idx = torch::tensor(std::vector<int64_t>(indices.begin(), indices.end()), torch::kLong);
  const auto p = net->classify(data.images.index_select(0, idx)).argmax(1).to(torch::kCPU);
  std::vector<int> out(p.size(0));
  for (int64_t i = 0; i < p.size(0); ++i) out[i] = static_cast<int>(p[i].item<int64_t>());
  return out;
}

}  // namespace fan::app
