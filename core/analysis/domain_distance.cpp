// Proxy A-distance: a linear domain classifier trained on half the features, tested on the other half.
#include "core/analysis/domain_distance.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>

namespace fan::analysis {
namespace {

// L2 penalty on the weights (standardised features): mild, keeps the optimum finite when separable.
constexpr double kWeightDecay = 1e-3;
// L-BFGS iterations (one full-batch step each; converges well before this on ≤ 10k rows).
constexpr int kMaxIterations = 200;

}  // namespace

nlohmann::json ProxyADistance::to_json() const {
  return {{"distance", distance},
          {"test_error", test_error},
          {"train_size", train_size},
          {"test_size", test_size}};
}

ProxyADistance proxy_a_distance(const torch::Tensor& source, const torch::Tensor& target, uint64_t seed) {
  if (!source.defined() || !target.defined() || source.dim() != 2 || target.dim() != 2)
    throw Error("proxy A-distance: expected two N×D feature matrices");
  if (source.size(1) != target.size(1))
    throw Error("proxy A-distance: the domains' features differ in width (" + std::to_string(source.size(1)) +
                " vs " + std::to_string(target.size(1)) + ")");
  if (source.size(0) < 4 || target.size(0) < 4)
    throw Error("proxy A-distance: needs at least 4 samples per domain");
  torch::NoGradGuard outer_no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto split = [&](const torch::Tensor& x) {
    const auto perm = torch::randperm(x.size(0), gen, torch::kLong);
    const int64_t half = x.size(0) / 2;
    const auto xd = x.to(torch::kCPU, torch::kFloat64);
    return std::pair{xd.index_select(0, perm.narrow(0, 0, half)),
                     xd.index_select(0, perm.narrow(0, half, x.size(0) - half))};
  };
  const auto [source_train, source_test] = split(source);
  const auto [target_train, target_test] = split(target);
  auto x_train = torch::cat({source_train, target_train}, 0);
  auto x_test = torch::cat({source_test, target_test}, 0);
  const auto y_train = torch::cat({torch::ones({source_train.size(0)}, torch::kFloat64),
                                   torch::zeros({target_train.size(0)}, torch::kFloat64)});
  const auto y_test = torch::cat({torch::ones({source_test.size(0)}, torch::kFloat64),
                                  torch::zeros({target_test.size(0)}, torch::kFloat64)});
  const auto mean = x_train.mean(0, true);
  const auto sd = x_train.std(0, true, true).clamp_min(1e-8);
  x_train = (x_train - mean) / sd;
  x_test = (x_test - mean) / sd;

  auto w = torch::zeros({x_train.size(1)}, torch::kFloat64).requires_grad_(true);
  auto b = torch::zeros({1}, torch::kFloat64).requires_grad_(true);
  torch::optim::LBFGS optimizer(
      {w, b}, torch::optim::LBFGSOptions(1.0).max_iter(kMaxIterations).line_search_fn("strong_wolfe"));
  {
    torch::AutoGradMode grad_mode(true);
    auto closure = [&] {
      optimizer.zero_grad();
      const auto logits = x_train.mv(w) + b;
      auto loss =
          torch::binary_cross_entropy_with_logits(logits, y_train) + 0.5 * kWeightDecay * w.pow(2).sum();
      loss.backward();
      return loss;
    };
    optimizer.step(closure);
  }
  const auto predicted = (x_test.mv(w.detach()) + b.detach()) > 0;
  const double error = (predicted.to(torch::kFloat64) != y_test).to(torch::kFloat64).mean().item<double>();
  ProxyADistance r;
  r.test_error = error;
  r.distance = 2.0 * (1.0 - 2.0 * std::min(error, 0.5));
  r.train_size = x_train.size(0);
  r.test_size = x_test.size(0);
  return r;
}

}  // namespace fan::analysis
