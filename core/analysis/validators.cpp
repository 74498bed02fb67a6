// Label-free validators of a target network's predictions.
#include "core/analysis/validators.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <cmath>
#include <random>

namespace fan::analysis {
namespace {

// Entropies in nats; 0 · log 0 counts as 0.
constexpr double kTiny = 1e-12;

torch::Tensor as_probabilities(const torch::Tensor& p, const char* who) {
  if (!p.defined() || p.dim() != 2 || p.size(0) < 2 || p.size(1) < 2)
    throw Error(std::string(who) + ": expected an N×K matrix of predictions with N ≥ 2 and K ≥ 2");
  return p.detach().to(torch::kCPU, torch::kFloat64);
}

torch::Tensor row_entropy(const torch::Tensor& p) { return -(p * (p + kTiny).log()).sum(1); }

double entropy_of_counts(const std::vector<int64_t>& counts, int64_t n) {
  double h = 0;
  for (auto c : counts)
    if (c > 0) h -= static_cast<double>(c) / n * std::log(static_cast<double>(c) / n);
  return h;
}

// Relabels to 0..m−1 in order of first appearance; returns m.
int64_t compact(const std::vector<int64_t>& labels, std::vector<int64_t>& out) {
  std::map<int64_t, int64_t> names;
  out.resize(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) out[i] = names.emplace(labels[i], names.size()).first->second;
  return static_cast<int64_t>(names.size());
}

}  // namespace

double prediction_entropy(const torch::Tensor& probabilities) {
  return row_entropy(as_probabilities(probabilities, "entropy")).mean().item<double>();
}

double information_maximization(const torch::Tensor& probabilities) {
  const auto p = as_probabilities(probabilities, "im");
  const auto mean = p.mean(0, true);
  return row_entropy(mean).item<double>() - row_entropy(p).mean().item<double>();
}

double batch_nuclear_norm(const torch::Tensor& probabilities) {
  const auto p = as_probabilities(probabilities, "bnm");
  return at::linalg_svdvals(p).sum().item<double>() / static_cast<double>(p.size(0));
}

double soft_neighborhood_density(const torch::Tensor& probabilities, double temperature) {
  const auto p = as_probabilities(probabilities, "snd");
  const auto normalised = p / p.norm(2, 1, true).clamp_min(kTiny);
  auto similarity = normalised.mm(normalised.t()) / temperature;
  // A point is not its own neighbour.
  similarity.fill_diagonal_(-std::numeric_limits<double>::infinity());
  const auto neighbours = torch::softmax(similarity, 1);
  return row_entropy(neighbours).mean().item<double>();
}

std::vector<int64_t> kmeans(const torch::Tensor& points, int64_t k, uint64_t seed, int iterations) {
  const auto x = points.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t n = x.size(0);
  if (k < 1 || n < k) throw Error("k-means: needs at least k = " + std::to_string(k) + " points, has " + std::to_string(n));
  std::mt19937_64 rng(seed);
  // k-means++: each next centre drawn with probability ∝ squared distance to the nearest chosen one.
  std::vector<int64_t> chosen = {static_cast<int64_t>(rng() % static_cast<uint64_t>(n))};
  auto nearest = (x - x[chosen[0]]).pow(2).sum(1);
  while (static_cast<int64_t>(chosen.size()) < k) {
    const auto d = nearest.contiguous();
    const double total = d.sum().item<double>();
    int64_t next = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
    if (total > 0) {
      double r = std::uniform_real_distribution<double>(0, total)(rng);
      const double* v = d.data_ptr<double>();
      for (int64_t i = 0; i < n; ++i) {
        r -= v[i];
        if (r <= 0) {
          next = i;
          break;
        }
      }
    }
    chosen.push_back(next);
    nearest = torch::minimum(nearest, (x - x[next]).pow(2).sum(1));
  }
  auto centres = x.index_select(0, torch::tensor(chosen, torch::kLong));
  torch::Tensor assignment;
  for (int it = 0; it < iterations; ++it) {
    const auto next = torch::cdist(x, centres).argmin(1);
    if (assignment.defined() && torch::equal(next, assignment)) break;
    assignment = next;
    for (int64_t c = 0; c < k; ++c) {
      const auto members = (assignment == c).nonzero().flatten();
      // An empty cluster keeps its centre.
      if (members.numel() > 0) centres[c] = x.index_select(0, members).mean(0);
    }
  }
  return std::vector<int64_t>(assignment.data_ptr<int64_t>(), assignment.data_ptr<int64_t>() + n);
}

double adjusted_mutual_information(const std::vector<int64_t>& a_labels, const std::vector<int64_t>& b_labels) {
  if (a_labels.size() != b_labels.size() || a_labels.empty())
    throw Error("adjusted mutual information: expected two labelings of the same, non-empty set of items");
  std::vector<int64_t> a, b;
  const int64_t ka = compact(a_labels, a), kb = compact(b_labels, b);
  const auto n = static_cast<int64_t>(a.size());
  // One cluster on either side (or every item its own on both): no information to adjust; as scikit-learn.
  if ((ka == 1 && kb == 1) || (ka == n && kb == n)) return 1.0;
  std::vector<std::vector<int64_t>> table(ka, std::vector<int64_t>(kb, 0));
  std::vector<int64_t> row(ka, 0), column(kb, 0);
  for (int64_t i = 0; i < n; ++i) {
    ++table[a[i]][b[i]];
    ++row[a[i]];
    ++column[b[i]];
  }
  const double N = static_cast<double>(n);
  double mi = 0;
  for (int64_t i = 0; i < ka; ++i)
    for (int64_t j = 0; j < kb; ++j)
      if (table[i][j] > 0) mi += table[i][j] / N * std::log(N * table[i][j] / (static_cast<double>(row[i]) * column[j]));
  // Expected MI under random labelings with these marginals (Vinh et al. 2010, eq. 24a), in log-gamma terms.
  double emi = 0;
  const double lg_n = std::lgamma(N + 1);
  for (int64_t i = 0; i < ka; ++i)
    for (int64_t j = 0; j < kb; ++j) {
      const double ai = static_cast<double>(row[i]), bj = static_cast<double>(column[j]);
      const double fixed = std::lgamma(ai + 1) + std::lgamma(bj + 1) + std::lgamma(N - ai + 1) + std::lgamma(N - bj + 1) - lg_n;
      for (int64_t m = std::max<int64_t>(1, row[i] + column[j] - n); m <= std::min(row[i], column[j]); ++m) {
        const double nij = static_cast<double>(m);
        const double log_p = fixed - std::lgamma(nij + 1) - std::lgamma(ai - nij + 1) - std::lgamma(bj - nij + 1) -
                             std::lgamma(N - ai - bj + nij + 1);
        emi += nij / N * std::log(N * nij / (ai * bj)) * std::exp(log_p);
      }
    }
  const double ha = entropy_of_counts(row, n), hb = entropy_of_counts(column, n);
  const double denominator = 0.5 * (ha + hb) - emi;
  if (std::abs(denominator) < 1e-15) return 1.0;
  return (mi - emi) / denominator;
}

double class_ami(const torch::Tensor& features, const torch::Tensor& probabilities, uint64_t seed) {
  const auto p = as_probabilities(probabilities, "class_ami");
  if (features.size(0) != p.size(0)) throw Error("class_ami: features and predictions differ in count");
  const auto predicted = p.argmax(1).contiguous();
  const std::vector<int64_t> labels(predicted.data_ptr<int64_t>(), predicted.data_ptr<int64_t>() + predicted.numel());
  return adjusted_mutual_information(kmeans(features, p.size(1), seed), labels);
}

torch::Tensor importance_weights(const torch::Tensor& source_features, const torch::Tensor& target_features) {
  torch::NoGradGuard outer;
  if (source_features.dim() != 2 || target_features.dim() != 2 || source_features.size(1) != target_features.size(1) ||
      source_features.size(0) < 2 || target_features.size(0) < 2)
    throw Error("dev: expected two N×D feature matrices of the same width, at least 2 rows each");
  const auto xs = source_features.detach().to(torch::kCPU, torch::kFloat64);
  const auto xt = target_features.detach().to(torch::kCPU, torch::kFloat64);
  auto x = torch::cat({xs, xt}, 0);
  const auto mean = x.mean(0, true);
  const auto sd = x.std(0, true, true).clamp_min(1e-8);
  x = (x - mean) / sd;
  const auto y = torch::cat({torch::zeros({xs.size(0)}, torch::kFloat64), torch::ones({xt.size(0)}, torch::kFloat64)});
  auto w = torch::zeros({x.size(1)}, torch::kFloat64).requires_grad_(true);
  auto b = torch::zeros({1}, torch::kFloat64).requires_grad_(true);
  // A light L2 penalty: the weights stay finite when the domains separate completely.
  constexpr double kWeightDecay = 1e-3;
  torch::optim::LBFGS optimizer({w, b}, torch::optim::LBFGSOptions(1.0).max_iter(200).line_search_fn("strong_wolfe"));
  {
    torch::AutoGradMode grad(true);
    optimizer.step([&] {
      optimizer.zero_grad();
      auto loss = torch::binary_cross_entropy_with_logits(x.mv(w) + b, y) + 0.5 * kWeightDecay * w.pow(2).sum();
      loss.backward();
      return loss;
    });
  }
  // logit = log p(t|x) − log p(s|x); the class sizes are divided out.
  const auto logit = x.narrow(0, 0, xs.size(0)).mv(w.detach()) + b.detach();
  return logit.exp() * (static_cast<double>(xs.size(0)) / static_cast<double>(xt.size(0)));
}

DeepEmbeddedValidation deep_embedded_validation(const torch::Tensor& weights, const torch::Tensor& losses) {
  const auto w = weights.detach().to(torch::kCPU, torch::kFloat64).flatten();
  const auto l = losses.detach().to(torch::kCPU, torch::kFloat64).flatten();
  if (w.numel() != l.numel() || w.numel() < 2) throw Error("dev: expected as many weights as losses, at least 2");
  const auto wl = w * l;
  const double var = w.var(/*unbiased=*/true).item<double>();
  const double cov = ((wl - wl.mean()) * (w - w.mean())).sum().item<double>() / static_cast<double>(w.numel() - 1);
  const double eta = var > 0 ? -cov / var : 0.0;
  DeepEmbeddedValidation r;
  r.dev = wl.mean().item<double>() + eta * w.mean().item<double>() - eta;
  r.devn = wl.sum().item<double>() / std::max(w.sum().item<double>(), kTiny);
  return r;
}

std::map<std::string, double> label_free_validators(const torch::Tensor& logits, const torch::Tensor& features,
                                                    uint64_t seed) {
  torch::NoGradGuard no_grad;
  const auto p = torch::softmax(logits.detach().to(torch::kCPU, torch::kFloat64), 1);
  return {{"entropy", prediction_entropy(p)},
          {"im", information_maximization(p)},
          {"bnm", batch_nuclear_norm(p)},
          {"snd", soft_neighborhood_density(p)},
          {"class_ami", class_ami(features.defined() ? features : logits, p, seed)}};
}

bool higher_is_better(const std::string& validator) {
  return validator != "entropy" && validator != "dev" && validator != "devn";
}

bool improves(const std::optional<double>& best, double value, const std::string& validator) {
  if (!std::isfinite(value)) return false;
  if (!best) return true;
  return higher_is_better(validator) ? value > *best : value < *best;
}

}  // namespace fan::analysis
