// Proxy A-distance between two domains' features (Ben-David et al. 2007): how well a linear classifier tells
// them apart.
#pragma once
#include <torch/types.h>

#include <nlohmann/json.hpp>

#include <cstdint>

namespace fan::analysis {

struct ProxyADistance {
  double distance = 0;    // 2(1 − 2ε), ε clamped to ≤ 0.5: 0 = indistinguishable, 2 = separable
  double test_error = 0;  // ε on the held-out half (unclamped)
  int64_t train_size = 0, test_size = 0;  // both domains together
  nlohmann::json to_json() const;
};

// `source` and `target` are N_s×D and N_t×D features. Each domain is split
// in half at random (seeded); an L2-regularised logistic regression on
// standardised features (statistics of the training half) learns domain
// labels on one half and is tested on the other. Fewer than 4 rows per
// domain or mismatched widths are a fan::Error.
ProxyADistance proxy_a_distance(const torch::Tensor& source, const torch::Tensor& target, uint64_t seed = 0);

}  // namespace fan::analysis
