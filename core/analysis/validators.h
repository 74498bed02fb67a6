// Label-free validators: how good a target network looks from its predictions on unlabelled target
// images alone (and, for DEV, labelled held-out source images). One function each, with its source.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fan::analysis {

// `probabilities` below: N×K softmax outputs (rows sum to 1), any float type, any device.

// Mean prediction entropy, mean_i −Σ_k p_ik log p_ik (lower is better): confident
// predictions on the target (Morerio et al. 2018, "minimal-entropy correlation alignment").
double prediction_entropy(const torch::Tensor& probabilities);

// Information maximisation, H(mean_i p_i) − mean_i H(p_i) (higher is better): confident and
// diverse predictions (Shi & Sha 2012; Liang et al. 2020, SHOT).
double information_maximization(const torch::Tensor& probabilities);

// Batch nuclear-norm maximisation, ‖P‖_* / N (higher is better): the nuclear norm of the
// N×K prediction matrix grows with both confidence and diversity (Cui et al. 2020, BNM).
double batch_nuclear_norm(const torch::Tensor& probabilities);

// Soft neighbourhood density (higher is better; Saito et al. 2021, "Tune it the right way"):
// predictions L2-normalised, S = P Pᵀ without its diagonal, each row softmax(S_i / temperature),
// the mean entropy of those rows.
double soft_neighborhood_density(const torch::Tensor& probabilities, double temperature = 0.05);

// k-means (k-means++ initialisation from `seed`, then Lloyd until no point moves or
// `iterations`): the cluster of each row of `points` (N×D).
std::vector<int64_t> kmeans(const torch::Tensor& points, int64_t k, uint64_t seed, int iterations = 100);

// Adjusted mutual information of two labelings of the same items, with the arithmetic mean
// of the entropies as the normaliser (Vinh et al. 2010; scikit-learn's default): 1 for
// identical labelings (up to names), ≈ 0 for independent ones.
double adjusted_mutual_information(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// ClassAMI (higher is better; Musgrave et al. 2022, "Three new validators"): the AMI between
// k-means clusters of the target features (k = classes, seeded) and the predicted labels.
double class_ami(const torch::Tensor& features, const torch::Tensor& probabilities, uint64_t seed);

// Importance weights of source samples, w(x) = (n_s / n_t) · p(target | x) / p(source | x), from an
// L2-regularised logistic-regression domain classifier on standardised features of both domains
// (You et al. 2019, "Towards accurate model selection in deep unsupervised domain adaptation", DEV).
torch::Tensor importance_weights(const torch::Tensor& source_features, const torch::Tensor& target_features);

// DEV (lower is better): the importance-weighted loss of held-out labelled source samples with
// DEV's control variate, mean(w·ℓ) + η·mean(w) − η, η = −Cov(w·ℓ, w) / Var(w); DEVN: the
// self-normalised weighted loss Σ w·ℓ / Σ w.
struct DeepEmbeddedValidation {
  double dev = 0, devn = 0;
};
DeepEmbeddedValidation deep_embedded_validation(const torch::Tensor& weights, const torch::Tensor& losses);

// The validators that need target predictions only, by name: "entropy", "im", "bnm", "snd",
// "class_ami". `features` feed ClassAMI (the network's task-specific features, or its logits).
std::map<std::string, double> label_free_validators(const torch::Tensor& logits, const torch::Tensor& features,
                                                    uint64_t seed);

// Whether a larger value of the validator means a better network ("oracle": test accuracy).
bool higher_is_better(const std::string& validator);
// Whether `value` beats the best so far (`best`, absent before the first evaluation point);
// a tie keeps the earlier point.
bool improves(const std::optional<double>& best, double value, const std::string& validator);

}  // namespace fan::analysis
