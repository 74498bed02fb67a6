// t-SNE (exact and Barnes-Hut) and 2-D PCA on plain float matrices; no Qt, no tensors in the API.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace fan::analysis {

struct TsneOptions {
  enum class Method { kAuto, kExact, kBarnesHut };
  double perplexity = 30;
  int iterations = 1000;  // total, the early-exaggeration phase included
  uint64_t seed = 0;
  // kAuto: exact up to kExactMaxPoints points (tsne.cpp), Barnes-Hut above.
  Method method = Method::kAuto;
  double theta = 0.5;    // Barnes-Hut opening angle; 0 would be exact but slow
  bool pca_init = true;  // else Gaussian noise of std 1e-4 drawn from `seed`
  // Warm start (n×2, row-major; empty: none): begin from these positions instead (pca_init is then
  // ignored), e.g. the previous frame's layout of the same points, with exaggeration_iterations = 0,
  // so that a sequence of embeddings moves continuously instead of being laid out afresh each time.
  std::vector<float> initial_positions;
  double early_exaggeration = 12;
  int exaggeration_iterations = 250;
  // 0: scikit-learn's "auto", max(n / early_exaggeration / 4, 50).
  double learning_rate = 0;
  int threads = 0;          // 0: all hardware threads
  int progress_every = 10;  // iterations between progress calls
};

struct TsneResult {
  std::vector<float> embedding;  // n×2, row-major, same row order as the input
  double kl_divergence = 0;      // KL(P‖Q) at the last iteration run (Barnes-Hut: its approximation of Z)
  int iterations_run = 0;
  bool cancelled = false;
  TsneOptions::Method method = TsneOptions::Method::kExact;  // the one used (never kAuto)
};

// Called every `progress_every` iterations and at the end; `kl` is the latest
// evaluated KL divergence (evaluated every 50 iterations; NaN before the
// first). Return false to stop: tsne() then returns what it has, cancelled.
using TsneProgress = std::function<bool(int iteration, double kl)>;

// t-SNE of n points of dimension d (row-major `data`) into 2-D. Throws
// fan::Error for too few points (n < 3·perplexity + 1), non-finite values or
// bad options. Same input, options and seed → the same output (any threads).
TsneResult tsne(const float* data, int64_t n, int64_t d, const TsneOptions& options = {},
                const TsneProgress& progress = {});

// The first two principal components' scores (n×2, row-major). Component
// signs are fixed so that each component's largest-magnitude loading is
// positive (deterministic). d = 1 gives a zero second column.
std::vector<float> pca_2d(const float* data, int64_t n, int64_t d);

// Perplexity calibration of one point (exposed for tests): the conditional
// probabilities p(j|i) ∝ exp(−β·D_j) over the given squared distances, with β
// found by bisection so that the entropy (nats) is log(perplexity) within
// 1e-5. `beta_out` receives β when not null.
std::vector<double> calibrate_conditional(const std::vector<double>& squared_distances, double perplexity,
                                          double* beta_out = nullptr);

std::string to_string(TsneOptions::Method method);
// "auto", "exact", "barnes-hut" (also "bh", "barnes_hut"); else fan::Error naming `field`.
TsneOptions::Method parse_tsne_method(const std::string& name, const std::string& field = "method");

}  // namespace fan::analysis
