// Accuracy metrics and batch-norm re-estimation.
#include "core/train/evaluation.h"

#include <functional>

namespace fan::train {

nlohmann::json Evaluation::to_json() const {
  return {{"top1", top1}, {"top5", top5}, {"per_class", per_class}, {"confusion", confusion}};
}

Evaluation evaluate_logits(const torch::Tensor& logits, const torch::Tensor& labels, int64_t num_classes) {
  Evaluation e;
  const auto l = logits.to(torch::kCPU);
  const auto y = labels.to(torch::kCPU, torch::kLong);
  const int64_t n = y.size(0);
  if (n == 0) return e;
  const int64_t k = std::min<int64_t>(5, l.size(1));
  const auto topk = std::get<1>(l.topk(k, /*dim=*/1));
  const auto predicted = topk.select(1, 0);
  e.top1 = predicted.eq(y).to(torch::kDouble).mean().item<double>();
  e.top5 = topk.eq(y.unsqueeze(1)).any(1).to(torch::kDouble).mean().item<double>();
  e.confusion.assign(num_classes, std::vector<int64_t>(num_classes, 0));
  const auto* yp = y.data_ptr<int64_t>();
  const auto pc = predicted.contiguous();
  const auto* pp = pc.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) ++e.confusion[yp[i]][pp[i]];
  e.per_class.assign(num_classes, 0.0);
  for (int64_t c = 0; c < num_classes; ++c) {
    int64_t total = 0;
    for (auto v : e.confusion[c]) total += v;
    e.per_class[c] = total > 0 ? static_cast<double>(e.confusion[c][c]) / total : 0.0;
  }
  return e;
}

torch::Tensor predict_logits(models::FanNet& net, const torch::Tensor& images, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  std::vector<torch::Tensor> chunks;
  for (int64_t begin = 0; begin < images.size(0); begin += batch_size) {
    const int64_t n = std::min(batch_size, images.size(0) - begin);
    chunks.push_back(net->classify(images.narrow(0, begin, n)));
  }
  net->train(was_training);
  if (chunks.empty()) return torch::empty({0, net->options.num_classes});
  return torch::cat(chunks);
}

Evaluation evaluate(models::FanNet& net, const data::Dataset& data, int64_t batch_size) {
  return evaluate_logits(predict_logits(net, data.images, batch_size), data.labels, data.num_classes);
}

namespace {
torch::Device device_of(models::FanNet& net) {
  const auto params = net->parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

// AdaBN over batches that `feed` hands to its callback.
void reestimate_batch_norm_over(models::FanNet& net,
                                const std::function<void(const std::function<void(const torch::Tensor&)>&)>& feed) {
  torch::NoGradGuard no_grad;
  // Cumulative averaging (momentum = none) over one pass gives the plain mean
  // of the per-batch statistics.
  auto reset = [](auto* bn) {
    bn->reset_running_stats();
    bn->options.momentum({});  // none: a cumulative average
  };
  for (auto& m : net->modules()) {
    if (auto* bn1 = m->as<torch::nn::BatchNorm1dImpl>()) reset(bn1);
    if (auto* bn2 = m->as<torch::nn::BatchNorm2dImpl>()) reset(bn2);
  }
  net->train();
  feed([&](const torch::Tensor& images) {
    if (images.size(0) >= 2) net->forward(images);  // batch norm needs two samples in training mode
  });
  net->eval();
  for (auto& m : net->modules()) {
    if (auto* bn1 = m->as<torch::nn::BatchNorm1dImpl>()) bn1->options.momentum(0.1);
    if (auto* bn2 = m->as<torch::nn::BatchNorm2dImpl>()) bn2->options.momentum(0.1);
  }
}
}  // namespace

Evaluation evaluate(models::FanNet& net, const data::ImageSet& set, int64_t batch_size, int64_t workers) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const auto device = device_of(net);
  std::vector<torch::Tensor> logits, labels;
  data::for_each_batch(set, batch_size, workers, [&](const data::Batch& b) {
    logits.push_back(net->classify(b.images.to(device)).to(torch::kCPU, torch::kFloat));
    labels.push_back(b.labels.to(torch::kCPU));
  });
  net->train(was_training);
  if (logits.empty()) return evaluate_logits(torch::empty({0, net->options.num_classes}), torch::empty({0}, torch::kLong), set.num_classes());
  return evaluate_logits(torch::cat(logits), torch::cat(labels), set.num_classes());
}

void reestimate_batch_norm(models::FanNet& net, const torch::Tensor& images, int64_t batch_size) {
  reestimate_batch_norm_over(net, [&](const auto& forward) {
    for (int64_t begin = 0; begin + 1 < images.size(0); begin += batch_size)
      forward(images.narrow(0, begin, std::min(batch_size, images.size(0) - begin)));
  });
}

void reestimate_batch_norm(models::FanNet& net, const data::ImageSet& set, int64_t batch_size, int64_t workers,
                           int64_t limit) {
  const auto device = device_of(net);
  reestimate_batch_norm_over(net, [&](const auto& forward) {
    data::for_each_batch(set, batch_size, workers, [&](const data::Batch& b) { forward(b.images.to(device)); }, limit);
  });
}

}  // namespace fan::train
