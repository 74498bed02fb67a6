// FAN's loss terms.
#include "core/train/losses.h"

#include <torch/nn/functional.h>

namespace fan::train {
namespace F = torch::nn::functional;

torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  return F::cross_entropy(logits, labels);
}

torch::Tensor information_maximization_loss(const torch::Tensor& logits) {
  const auto log_p = F::log_softmax(logits.to(torch::kFloat), F::LogSoftmaxFuncOptions(1));
  const auto p = log_p.exp();
  const auto conditional = -(p * log_p).sum(1).mean();
  const auto mean_p = p.mean(0);
  const auto marginal = -(mean_p * torch::log(mean_p.clamp_min(1e-12))).sum();
  return conditional - marginal;
}

torch::Tensor mutual_information_loss(const torch::Tensor& domain_specific,
                                      const torch::Tensor& task_specific, bool per_unit) {
  const auto products = domain_specific * task_specific;
  return (per_unit ? products.mean(1) : products.sum(1)).pow(2).mean();
}

torch::Tensor reconstruction_loss(const torch::Tensor& images, const torch::Tensor& reconstruction) {
  return F::mse_loss(reconstruction, images);
}

torch::Tensor discriminator_loss(const torch::Tensor& source_scores, const torch::Tensor& target_scores) {
  // Each term is a mean over its own half, so the loss is ln 4 at chance.
  return F::binary_cross_entropy_with_logits(source_scores, torch::ones_like(source_scores)) +
         F::binary_cross_entropy_with_logits(target_scores, torch::zeros_like(target_scores));
}

torch::Tensor adversarial_loss(const torch::Tensor& target_scores) {
  return F::binary_cross_entropy_with_logits(target_scores, torch::ones_like(target_scores));
}

std::map<std::string, double> loss_values(const std::vector<std::string>& names,
                                          const std::vector<torch::Tensor>& terms) {
  std::vector<torch::Tensor> detached;
  detached.reserve(terms.size());
  for (const auto& t : terms) detached.push_back(t.detach());
  const auto values = torch::stack(detached).to(torch::kCPU, torch::kDouble);
  const auto* v = values.data_ptr<double>();
  std::map<std::string, double> out;
  for (size_t i = 0; i < names.size(); ++i) out[names[i]] = v[i];
  return out;
}

}  // namespace fan::train
