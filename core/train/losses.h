// FAN's loss terms (FAN-SPEC "Losses"), each a scalar tensor.
#pragma once
#include <torch/types.h>

#include <map>
#include <string>
#include <vector>

namespace fan::train {

// Lc: cross-entropy of softmax(logits) against the labels.
torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels);
// Lm: (ht_iᵀ hd_i)² per sample, averaged over the batch. With `per_unit`,
// the dot product is divided by |hd| first (the mean of the products instead
// of their sum), which keeps Lm on the scale of Lc for 50-unit halves.
torch::Tensor mutual_information_loss(const torch::Tensor& domain_specific,
                                      const torch::Tensor& task_specific, bool per_unit = false);
// Lr: squared error, averaged over pixels and batch.
torch::Tensor reconstruction_loss(const torch::Tensor& images, const torch::Tensor& reconstruction);
// L_advD = −log D(source) − log(1 − D(target)), from D's logits (stable form).
torch::Tensor discriminator_loss(const torch::Tensor& source_scores, const torch::Tensor& target_scores);
// L_advM = −log D(target): the non-saturating GAN loss for the target network.
torch::Tensor adversarial_loss(const torch::Tensor& target_scores);

// Beyond the paper (SHOT, Liang et al. 2020): information maximisation on a batch's predictions,
// mean_i H(softmax(logits_i)) − H(mean_i softmax(logits_i)): low when each prediction is confident
// and the batch's predictions are spread over the classes (−log K at best, 0 for uniform or collapsed).
torch::Tensor information_maximization_loss(const torch::Tensor& logits);

// Named scalar terms → name → value, with one copy out of the tensors
// instead of an item() per term.
std::map<std::string, double> loss_values(const std::vector<std::string>& names,
                                          const std::vector<torch::Tensor>& terms);

}  // namespace fan::train
