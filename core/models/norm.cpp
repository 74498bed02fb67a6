#include "core/models/norm.h"

#include "core/dist/group.h"

#include <torch/autograd.h>
#include <torch/nn/functional/batchnorm.h>

namespace fan::models {
namespace {

thread_local dist::Group* t_group = nullptr;
thread_local const double* t_weight = nullptr;

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Per-channel sums over every dimension but 1 (N×C or N×C×H×W).
torch::Tensor channel_sum(const torch::Tensor& t) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < t.dim(); ++d) dims.push_back(d);
  return t.sum(dims);
}

torch::Tensor per_channel(const torch::Tensor& v, const torch::Tensor& like) {
  std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
  shape[1] = -1;
  return v.view(shape);
}

// y = (x − μ) / √(σ² + ε) · γ + β with μ, σ² over every rank's batch. The backward pass reduces
// Σ dy and Σ dy·(x − μ) across ranks, in the scale of the combined loss (each rank's loss is its
// share `weight` of it), and returns this rank's input gradient in its own loss's scale.
struct SyncBatchNorm : torch::autograd::Function<SyncBatchNorm> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor gamma, torch::Tensor beta,
                               torch::Tensor running_mean, torch::Tensor running_var, double momentum, double eps) {
    auto* group = t_group;
    const double weight = t_weight != nullptr ? *t_weight : 1.0;
    const double local_count = static_cast<double>(x.numel() / x.size(1));
    auto xd = x.to(torch::kDouble);
    auto stats = torch::cat({channel_sum(xd), channel_sum(xd * xd), torch::full({1}, local_count, xd.options())});
    group->allreduce_sum(stats, "synchronised batch norm (forward)");
    const int64_t c = x.size(1);
    const double count = stats[2 * c].item<double>();
    const auto mean = stats.narrow(0, 0, c) / count;
    const auto var = (stats.narrow(0, c, c) / count - mean * mean).clamp_min(0);
    const auto invstd = (var + eps).rsqrt();
    {
      torch::NoGradGuard no_grad;
      if (running_mean.defined()) {
        running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype()) * momentum);
        running_var.mul_(1 - momentum).add_((var * (count / std::max(1.0, count - 1))).to(running_var.dtype()) * momentum);
      }
    }
    const auto mean_f = mean.to(x.dtype()), invstd_f = invstd.to(x.dtype());
    const auto xhat = (x - per_channel(mean_f, x)) * per_channel(invstd_f, x);
    ctx->save_for_backward({x, gamma, mean_f, invstd_f});
    ctx->saved_data["count"] = count;
    ctx->saved_data["weight"] = weight;
    ctx->saved_data["group"] = reinterpret_cast<int64_t>(group);
    return xhat * per_channel(gamma, x) + per_channel(beta, x);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& gamma = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    const double weight = ctx->saved_data["weight"].toDouble();
    auto* group = reinterpret_cast<dist::Group*>(ctx->saved_data["group"].toInt());
    const auto dy = grad_outputs[0];
    const auto xmu = x - per_channel(mean, x);
    const auto sum_dy = channel_sum(dy);
    const auto sum_dy_xmu = channel_sum(dy * xmu);
    const int64_t c = x.size(1);
    auto global = torch::cat({sum_dy, sum_dy_xmu}).to(torch::kDouble) * weight;
    group->allreduce_sum(global, "synchronised batch norm (backward)");
    const auto g1 = (global.narrow(0, 0, c) / count).to(x.dtype());
    const auto g2 = (global.narrow(0, c, c) / count).to(x.dtype());
    // ∂L/∂x for the combined loss, then back to this rank's loss scale (÷ weight).
    const auto grad_x = per_channel(gamma * invstd, x) *
                        (dy * weight - per_channel(g1, x) - xmu * per_channel(invstd * invstd * g2, x)) / weight;
    const auto grad_gamma = sum_dy_xmu * invstd;  // this rank's part; the gradient all-reduce adds the ranks'
    const auto grad_beta = sum_dy;
    return {grad_x, grad_gamma, grad_beta, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

template <class Impl>
torch::Tensor sync_or_plain(Impl& bn, const torch::Tensor& x) {
  if (t_group == nullptr || !bn.is_training() || !bn.options.affine()) return bn.forward(x);
  double momentum = bn.options.momentum().value_or(0.1);
  if (bn.options.track_running_stats()) bn.num_batches_tracked.add_(1);
  return SyncBatchNorm::apply(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, momentum, bn.options.eps());
}

}  // namespace

torch::Tensor batch_norm(torch::nn::BatchNorm1dImpl& bn, const torch::Tensor& x) { return sync_or_plain(bn, x); }
torch::Tensor batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) { return sync_or_plain(bn, x); }

torch::Tensor forward_sequential(torch::nn::Sequential& seq, torch::Tensor x) {
  for (auto& module : *seq) {
    const auto ptr = module.ptr();
    if (auto* b2 = dynamic_cast<torch::nn::BatchNorm2dImpl*>(ptr.get())) x = batch_norm(*b2, x);
    else if (auto* b1 = dynamic_cast<torch::nn::BatchNorm1dImpl*>(ptr.get())) x = batch_norm(*b1, x);
    else x = module.forward(x);
  }
  return x;
}

SyncBatchNormScope::SyncBatchNormScope(dist::Group* group, const double* weight)
    : previous_group_(t_group), previous_weight_(t_weight) {
  t_group = group;
  t_weight = weight;
}

SyncBatchNormScope::~SyncBatchNormScope() {
  t_group = previous_group_;
  t_weight = previous_weight_;
}

}  // namespace fan::models
