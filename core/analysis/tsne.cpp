// t-SNE (exact and Barnes-Hut, van der Maaten 2008/2014) and PCA, following scikit-learn's schedule.
#include "core/analysis/tsne.h"

#include "core/analysis/parallel.h"
#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>

namespace fan::analysis {
namespace {

// Above this many points kAuto switches from exact t-SNE to Barnes-Hut: the
// exact gradient costs n² per iteration (1,000 points: ~1 s per 1,000 iterations).
constexpr int64_t kExactMaxPoints = 1500;
// Exact t-SNE needs ~12 bytes per pair while building P, then 8 (P and q, float): refuse sizes needing
// gigabytes.
constexpr int64_t kExactHardLimit = 10000;
// Rows per parallel block; fixed so that sums do not depend on the thread count.
constexpr int64_t kBlockRows = 64;
// Rows per chunk of the pairwise-distance matrix (bounds its memory).
constexpr int64_t kDistanceChunkRows = 512;
// Perplexity bisection: entropy tolerance (nats) and step limit, as scikit-learn.
constexpr double kEntropyTolerance = 1e-5;
constexpr int kBisectionSteps = 100;
// The KL divergence is evaluated (and convergence checked) every this many iterations.
constexpr int kCheckEvery = 50;
// Stop when the KL has not improved for this many iterations (after exaggeration).
constexpr int kIterationsWithoutProgress = 300;
// Stop when the gradient norm falls below this.
constexpr double kMinGradNorm = 1e-7;
// Momentum during and after early exaggeration.
constexpr double kEarlyMomentum = 0.5;
constexpr double kFinalMomentum = 0.8;
// Per-coordinate gain adaptation (Jacobs 1988), as every t-SNE implementation.
constexpr double kGainIncrease = 0.2;
constexpr double kGainDecrease = 0.8;
constexpr double kMinGain = 0.01;
// Initial embedding scale: PC1 (or the noise) has this standard deviation.
constexpr double kInitScale = 1e-4;
// scikit-learn's floor for probabilities (np.finfo(double).eps).
constexpr double kProbabilityFloor = std::numeric_limits<double>::epsilon();
// Quadtree depth limit: deeper cells only hold (near-)duplicate points.
constexpr int kMaxTreeDepth = 48;

using Method = TsneOptions::Method;

// Squared Euclidean distances of rows [begin, end) to all rows, in double.
torch::Tensor squared_distances(const torch::Tensor& x, const torch::Tensor& norms, int64_t begin,
                                int64_t end) {
  const auto rows = x.narrow(0, begin, end - begin);
  auto d2 = norms.narrow(0, begin, end - begin).unsqueeze(1) + norms.unsqueeze(0) - 2.0 * rows.mm(x.t());
  return d2.clamp_min_(0.0);
}

// Sparse symmetric joint probabilities (Barnes-Hut): row i's entries are
// cols[row_start[i] .. row_start[i+1]).
struct SparseP {
  std::vector<int64_t> row_start;
  std::vector<int32_t> cols;
  std::vector<double> values;
};

// One quadtree cell. Children are 4 consecutive nodes starting at `first_child`
// (-1: leaf holding order[begin, end)).
struct QuadNode {
  double cx, cy, half;    // cell centre and half width
  double mx = 0, my = 0;  // centre of mass
  int64_t count = 0;
  int64_t first_child = -1;
  int64_t begin = 0, end = 0;
};

class QuadTree {
 public:
  QuadTree(const std::vector<double>& y, int64_t n) : y_(y) {
    order_.resize(n);
    for (int64_t i = 0; i < n; ++i) order_[i] = i;
    double lo_x = y[0], hi_x = y[0], lo_y = y[1], hi_y = y[1];
    for (int64_t i = 1; i < n; ++i) {
      lo_x = std::min(lo_x, y[2 * i]);
      hi_x = std::max(hi_x, y[2 * i]);
      lo_y = std::min(lo_y, y[2 * i + 1]);
      hi_y = std::max(hi_y, y[2 * i + 1]);
    }
    const double half = std::max(hi_x - lo_x, hi_y - lo_y) * 0.5 * (1 + 1e-6) + 1e-12;
    nodes_.reserve(4 * n);
    nodes_.push_back({(lo_x + hi_x) * 0.5, (lo_y + hi_y) * 0.5, half});
    build(0, 0, n, 0);
  }

  // Repulsive force on point i (unnormalised: Σ q_ij² (y_i − y_j) with
  // q_ij = 1/(1 + d²)) and its Z contribution Σ q_ij, cells summarised when
  // their width/distance is below θ.
  void repulsion(int64_t i, double theta2, std::vector<int64_t>& stack, double& fx, double& fy,
                 double& z) const {
    const double xi = y_[2 * i], yi = y_[2 * i + 1];
    stack.clear();
    stack.push_back(0);
    while (!stack.empty()) {
      const QuadNode& node = nodes_[stack.back()];
      stack.pop_back();
      if (node.count == 0) continue;
      if (node.first_child < 0) {
        for (int64_t k = node.begin; k < node.end; ++k) {
          const int64_t j = order_[k];
          if (j == i) continue;
          const double dx = xi - y_[2 * j], dy = yi - y_[2 * j + 1];
          const double q = 1.0 / (1.0 + dx * dx + dy * dy);
          z += q;
          fx += q * q * dx;
          fy += q * q * dy;
        }
        continue;
      }
      const double dx = xi - node.mx, dy = yi - node.my;
      const double d2 = dx * dx + dy * dy;
      const double width = 2 * node.half;
      if (width * width < theta2 * d2) {
        const double q = 1.0 / (1.0 + d2);
        const double c = static_cast<double>(node.count);
        z += c * q;
        fx += c * q * q * dx;
        fy += c * q * q * dy;
      } else {
        for (int64_t c = 3; c >= 0; --c) stack.push_back(node.first_child + c);
      }
    }
  }

 private:
  void build(int64_t index, int64_t begin, int64_t end, int depth) {
    double mx = 0, my = 0;
    for (int64_t k = begin; k < end; ++k) {
      mx += y_[2 * order_[k]];
      my += y_[2 * order_[k] + 1];
    }
    const int64_t count = end - begin;
    {
      QuadNode& node = nodes_[index];
      node.count = count;
      node.begin = begin;
      node.end = end;
      if (count > 0) {
        node.mx = mx / count;
        node.my = my / count;
      }
    }
    const QuadNode node = nodes_[index];
    if (count <= 1 || depth >= kMaxTreeDepth || node.half < 1e-12) return;
    auto* first = order_.data() + begin;
    auto* last = order_.data() + end;
    auto* mid_x = std::partition(first, last, [&](int64_t p) { return y_[2 * p] < node.cx; });
    auto* mid_lo = std::partition(first, mid_x, [&](int64_t p) { return y_[2 * p + 1] < node.cy; });
    auto* mid_hi = std::partition(mid_x, last, [&](int64_t p) { return y_[2 * p + 1] < node.cy; });
    const int64_t bounds[5] = {begin, mid_lo - order_.data(), mid_x - order_.data(), mid_hi - order_.data(),
                               end};
    const int64_t child = static_cast<int64_t>(nodes_.size());
    nodes_[index].first_child = child;
    const double h = node.half * 0.5;
    const double offsets[4][2] = {{-h, -h}, {-h, h}, {h, -h}, {h, h}};
    for (int c = 0; c < 4; ++c) nodes_.push_back({node.cx + offsets[c][0], node.cy + offsets[c][1], h});
    for (int c = 0; c < 4; ++c) build(child + c, bounds[c], bounds[c + 1], depth + 1);
  }

  const std::vector<double>& y_;
  std::vector<int64_t> order_;
  std::vector<QuadNode> nodes_;
};

// The optimiser's view of the two gradient methods.
class Objective {
 public:
  virtual ~Objective() = default;
  // Gradient of KL(exaggeration·P ‖ Q) at y (n×2) into grad; returns KL(P ‖ Q)
  // (without exaggeration) when `with_kl`, else NaN.
  virtual double gradient(const std::vector<double>& y, double exaggeration, bool with_kl,
                          std::vector<double>& grad) = 0;
};

class ExactObjective : public Objective {
 public:
  ExactObjective(std::vector<float> p, int64_t n, int threads)
      : p_(std::move(p)), n_(n), threads_(threads), num_(static_cast<size_t>(n * n)), xs_(n), ys_(n) {}

  double gradient(const std::vector<double>& y, double exaggeration, bool with_kl,
                  std::vector<double>& grad) override {
    const int64_t n = n_;
    const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
    // Coordinates as two arrays: the inner loops vectorise.
    for (int64_t i = 0; i < n; ++i) {
      xs_[i] = y[2 * i];
      ys_[i] = y[2 * i + 1];
    }
    const double* xs = xs_.data();
    const double* ys = ys_.data();
    std::vector<double> z_parts(blocks, 0.0);
    parallel_blocks(n, kBlockRows, threads_, [&](int64_t b, int64_t begin, int64_t end) {
      double z = 0;
      for (int64_t i = begin; i < end; ++i) {
        float* row = num_.data() + i * n;
        const double xi = xs[i], yi = ys[i];
        double zi = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double dx = xi - xs[j], dy = yi - ys[j];
          const double q = 1.0 / (1.0 + dx * dx + dy * dy);
          row[j] = static_cast<float>(q);
          zi += q;
        }
        row[i] = 0.0f;
        z += zi - 1.0;  // the diagonal (q = 1) is not a pair
      }
      z_parts[b] = z;
    });
    double z = 0;
    for (double part : z_parts) z += part;
    const double inv_z = 1.0 / z;
    std::vector<double> kl_parts(blocks, 0.0);
    parallel_blocks(n, kBlockRows, threads_, [&](int64_t b, int64_t begin, int64_t end) {
      double kl = 0;
      for (int64_t i = begin; i < end; ++i) {
        const float* row = num_.data() + i * n;
        const float* prow = p_.data() + i * n;
        const double xi = xs[i], yi = ys[i];
        double gx = 0, gy = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double q = row[j];
          const double m = (exaggeration * prow[j] - q * inv_z) * q;
          gx += m * (xi - xs[j]);
          gy += m * (yi - ys[j]);
        }
        grad[2 * i] = 4.0 * gx;
        grad[2 * i + 1] = 4.0 * gy;
        if (with_kl) {
          for (int64_t j = 0; j < n; ++j) {
            if (j == i) continue;
            const double p = prow[j];
            kl += p * std::log(p / std::max(row[j] * inv_z, kProbabilityFloor));
          }
        }
      }
      kl_parts[b] = kl;
    });
    if (!with_kl) return std::numeric_limits<double>::quiet_NaN();
    double kl = 0;
    for (double part : kl_parts) kl += part;
    return kl;
  }

 private:
  std::vector<float> p_;  // n×n joint probabilities, diagonal 0
  int64_t n_;
  int threads_;
  std::vector<float> num_;  // n×n unnormalised q, reused across iterations
  std::vector<double> xs_, ys_;
};

class BarnesHutObjective : public Objective {
 public:
  BarnesHutObjective(SparseP p, int64_t n, double theta, int threads)
      : p_(std::move(p)), n_(n), theta2_(theta * theta), threads_(threads) {}

  double gradient(const std::vector<double>& y, double exaggeration, bool with_kl,
                  std::vector<double>& grad) override {
    const int64_t n = n_;
    const int64_t blocks = (n + kBlockRows - 1) / kBlockRows;
    const QuadTree tree(y, n);
    std::vector<double> repulsive(2 * n);
    std::vector<double> z_parts(blocks, 0.0);
    parallel_blocks(n, kBlockRows, threads_, [&](int64_t b, int64_t begin, int64_t end) {
      std::vector<int64_t> stack;
      stack.reserve(256);
      double z = 0;
      for (int64_t i = begin; i < end; ++i) {
        double fx = 0, fy = 0;
        tree.repulsion(i, theta2_, stack, fx, fy, z);
        repulsive[2 * i] = fx;
        repulsive[2 * i + 1] = fy;
      }
      z_parts[b] = z;
    });
    double z = 0;
    for (double part : z_parts) z += part;
    const double inv_z = 1.0 / z;
    std::vector<double> kl_parts(blocks, 0.0);
    parallel_blocks(n, kBlockRows, threads_, [&](int64_t b, int64_t begin, int64_t end) {
      double kl = 0;
      for (int64_t i = begin; i < end; ++i) {
        const double xi = y[2 * i], yi = y[2 * i + 1];
        double ax = 0, ay = 0;
        for (int64_t k = p_.row_start[i]; k < p_.row_start[i + 1]; ++k) {
          const int64_t j = p_.cols[k];
          const double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
          const double q = 1.0 / (1.0 + dx * dx + dy * dy);
          const double p = p_.values[k];
          ax += exaggeration * p * q * dx;
          ay += exaggeration * p * q * dy;
          if (with_kl)
            kl += p * std::log(std::max(p, kProbabilityFloor) / std::max(q * inv_z, kProbabilityFloor));
        }
        grad[2 * i] = 4.0 * (ax - repulsive[2 * i] * inv_z);
        grad[2 * i + 1] = 4.0 * (ay - repulsive[2 * i + 1] * inv_z);
      }
      kl_parts[b] = kl;
    });
    if (!with_kl) return std::numeric_limits<double>::quiet_NaN();
    double kl = 0;
    for (double part : kl_parts) kl += part;
    return kl;
  }

 private:
  SparseP p_;
  int64_t n_;
  double theta2_;
  int threads_;
};

void validate(int64_t n, int64_t d, const TsneOptions& o) {
  if (!o.initial_positions.empty()) {
    if (static_cast<int64_t>(o.initial_positions.size()) != 2 * n)
      throw Error("t-SNE initial_positions: expected " + std::to_string(2 * n) + " values (" + std::to_string(n) +
                  " points × 2), got " + std::to_string(o.initial_positions.size()));
    for (float v : o.initial_positions)
      if (!std::isfinite(v)) throw Error("t-SNE initial_positions: a value is not finite");
  }
  if (!(o.perplexity > 0) || !std::isfinite(o.perplexity))
    throw Error("t-SNE perplexity: expected a positive number, got " + std::to_string(o.perplexity));
  if (o.iterations < 1)
    throw Error("t-SNE iterations: expected at least 1, got " + std::to_string(o.iterations));
  if (!(o.theta >= 0) || !std::isfinite(o.theta))
    throw Error("t-SNE theta: expected a number ≥ 0, got " + std::to_string(o.theta));
  if (!(o.early_exaggeration >= 1))
    throw Error("t-SNE early_exaggeration: expected ≥ 1, got " + std::to_string(o.early_exaggeration));
  if (o.exaggeration_iterations < 0)
    throw Error("t-SNE exaggeration_iterations: expected ≥ 0, got " +
                std::to_string(o.exaggeration_iterations));
  if (!(o.learning_rate >= 0))
    throw Error("t-SNE learning_rate: expected > 0 (or 0 for auto), got " + std::to_string(o.learning_rate));
  if (d < 1) throw Error("t-SNE: the points need at least one dimension");
  if (o.method == Method::kExact && n > kExactHardLimit)
    throw Error("t-SNE method: exact t-SNE of " + std::to_string(n) + " points needs " +
                std::to_string(12 * n * n / (1 << 20)) + " MiB; use barnes-hut above " +
                std::to_string(kExactHardLimit) + " points");
  const auto needed = static_cast<int64_t>(std::floor(3 * o.perplexity)) + 1;
  if (n < needed)
    throw Error("t-SNE: " + std::to_string(n) + " points are too few for perplexity " +
                std::to_string(o.perplexity) + " (needs at least 3·perplexity + 1 = " +
                std::to_string(needed) + "); lower the perplexity or add points");
}

torch::Tensor as_double_tensor(const float* data, int64_t n, int64_t d) {
  const auto x = torch::from_blob(const_cast<float*>(data), {n, d}, torch::kFloat32).to(torch::kFloat64);
  if (!torch::isfinite(x).all().item<bool>()) {
    const auto bad = torch::nonzero(~torch::isfinite(x))[0];
    throw Error("t-SNE: the input has a non-finite value (row " + std::to_string(bad[0].item<int64_t>() + 1) +
                ", column " + std::to_string(bad[1].item<int64_t>() + 1) + ")");
  }
  return x;
}

// Dense joint P for the exact method: calibrated rows, symmetrised, floored.
std::vector<float> exact_joint_probabilities(const torch::Tensor& x, double perplexity, int threads) {
  const int64_t n = x.size(0);
  const auto norms = (x * x).sum(1);
  std::vector<double> conditional(static_cast<size_t>(n * n), 0.0);
  for (int64_t begin = 0; begin < n; begin += kDistanceChunkRows) {
    const int64_t end = std::min(n, begin + kDistanceChunkRows);
    const auto d2 = squared_distances(x, norms, begin, end).contiguous();
    const double* dist = d2.data_ptr<double>();
    parallel_blocks(end - begin, kBlockRows, threads, [&](int64_t, int64_t b, int64_t e) {
      std::vector<double> row(n - 1);
      for (int64_t r = b; r < e; ++r) {
        const int64_t i = begin + r;
        for (int64_t j = 0, k = 0; j < n; ++j)
          if (j != i) row[k++] = dist[r * n + j];
        const auto p = calibrate_conditional(row, perplexity);
        for (int64_t j = 0, k = 0; j < n; ++j)
          if (j != i) conditional[i * n + j] = p[k++];
      }
    });
  }
  double sum = 0;
  for (double v : conditional) sum += v;
  sum = std::max(2 * sum, kProbabilityFloor) / 2;  // Σ(P + Pᵀ) = 2·ΣP
  // Symmetrised in place: P_ij = P_ji = (p(j|i) + p(i|j)) / (2·Σ), floored as scikit-learn does.
  for (int64_t i = 0; i < n; ++i) {
    conditional[i * n + i] = 0.0;
    for (int64_t j = i + 1; j < n; ++j) {
      const double joint =
          std::max((conditional[i * n + j] + conditional[j * n + i]) / (2 * sum), kProbabilityFloor);
      conditional[i * n + j] = conditional[j * n + i] = joint;
    }
  }
  return std::vector<float>(conditional.begin(), conditional.end());
}

// Sparse joint P for Barnes-Hut: p(j|i) on the k = 3·perplexity nearest
// neighbours, symmetrised (P + Pᵀ) and normalised to sum 1.
SparseP sparse_joint_probabilities(const torch::Tensor& x, double perplexity, int threads) {
  const int64_t n = x.size(0);
  const int64_t k = std::min<int64_t>(n - 1, static_cast<int64_t>(3 * perplexity + 1));
  const auto norms = (x * x).sum(1);
  std::vector<int64_t> neighbours(static_cast<size_t>(n * k));
  std::vector<double> conditional(static_cast<size_t>(n * k));
  for (int64_t begin = 0; begin < n; begin += kDistanceChunkRows) {
    const int64_t end = std::min(n, begin + kDistanceChunkRows);
    auto d2 = squared_distances(x, norms, begin, end);
    // The point itself is never its own neighbour.
    d2.diagonal(begin).fill_(std::numeric_limits<double>::infinity());
    // Stable order for ties: sort by (distance, index).
    const auto sorted = d2.topk(k, /*dim=*/1, /*largest=*/false, /*sorted=*/true);
    const auto dist = std::get<0>(sorted).contiguous();
    const auto idx = std::get<1>(sorted).contiguous();
    const double* dp = dist.data_ptr<double>();
    const int64_t* ip = idx.data_ptr<int64_t>();
    parallel_blocks(end - begin, kBlockRows, threads, [&](int64_t, int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const int64_t i = begin + r;
        std::vector<double> row(dp + r * k, dp + (r + 1) * k);
        const auto p = calibrate_conditional(row, perplexity);
        for (int64_t c = 0; c < k; ++c) {
          neighbours[i * k + c] = ip[r * k + c];
          conditional[i * k + c] = p[c];
        }
      }
    });
  }
  // Symmetrise: entries (i, j, p) and (j, i, p), merged per row.
  std::vector<std::vector<std::pair<int32_t, double>>> rows(n);
  for (int64_t i = 0; i < n; ++i) rows[i].reserve(2 * k);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < k; ++c) {
      const int64_t j = neighbours[i * k + c];
      const double p = conditional[i * k + c];
      rows[i].push_back({static_cast<int32_t>(j), p});
      rows[j].push_back({static_cast<int32_t>(i), p});
    }
  SparseP out;
  out.row_start.assign(n + 1, 0);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto& r = rows[i];
    std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t c = 0; c < r.size(); ++c) {
      if (!out.cols.empty() && static_cast<int64_t>(out.cols.size()) > out.row_start[i] &&
          out.cols.back() == r[c].first) {
        out.values.back() += r[c].second;
      } else {
        out.cols.push_back(r[c].first);
        out.values.push_back(r[c].second);
      }
      total += r[c].second;
    }
    out.row_start[i + 1] = static_cast<int64_t>(out.cols.size());
    std::vector<std::pair<int32_t, double>>().swap(r);
  }
  total = std::max(total, kProbabilityFloor);
  for (double& v : out.values) v /= total;
  return out;
}

std::vector<double> initial_embedding(const float* data, int64_t n, int64_t d, const TsneOptions& o) {
  std::vector<double> y(2 * n);
  if (!o.initial_positions.empty()) {
    std::copy(o.initial_positions.begin(), o.initial_positions.end(), y.begin());
    return y;
  }
  if (o.pca_init) {
    const auto pca = pca_2d(data, n, d);
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += pca[2 * i];
    mean /= n;
    for (int64_t i = 0; i < n; ++i) var += (pca[2 * i] - mean) * (pca[2 * i] - mean);
    const double sd = std::sqrt(var / n);
    // Constant data (no spread along PC1) falls back to the random start.
    if (sd > 0) {
      for (int64_t i = 0; i < 2 * n; ++i) y[i] = pca[i] / sd * kInitScale;
      return y;
    }
  }
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> normal(0.0, kInitScale);
  for (auto& v : y) v = normal(rng);
  return y;
}

}  // namespace

std::vector<double> calibrate_conditional(const std::vector<double>& squared_distances, double perplexity,
                                          double* beta_out) {
  const size_t m = squared_distances.size();
  std::vector<double> p(m, 0.0);
  if (m == 0) return p;
  // Distances relative to the nearest one: exp() cannot underflow to an all-zero row.
  const double nearest = *std::min_element(squared_distances.begin(), squared_distances.end());
  const double target = std::log(perplexity);
  double beta = 1.0, beta_lo = -std::numeric_limits<double>::infinity(),
         beta_hi = std::numeric_limits<double>::infinity();
  for (int step = 0; step < kBisectionSteps; ++step) {
    double sum = 0;
    for (size_t j = 0; j < m; ++j) {
      p[j] = std::exp(-(squared_distances[j] - nearest) * beta);
      sum += p[j];
    }
    double weighted = 0;
    for (size_t j = 0; j < m; ++j) {
      p[j] /= sum;
      weighted += (squared_distances[j] - nearest) * p[j];
    }
    const double entropy = std::log(sum) + beta * weighted;
    const double diff = entropy - target;
    if (std::abs(diff) <= kEntropyTolerance) break;
    if (diff > 0) {
      beta_lo = beta;
      beta = std::isinf(beta_hi) ? beta * 2 : (beta + beta_hi) / 2;
    } else {
      beta_hi = beta;
      beta = std::isinf(beta_lo) ? beta / 2 : (beta + beta_lo) / 2;
    }
  }
  if (beta_out != nullptr) *beta_out = beta;
  return p;
}

TsneResult tsne(const float* data, int64_t n, int64_t d, const TsneOptions& options,
                const TsneProgress& progress) {
  validate(n, d, options);
  const int threads = resolve_threads(options.threads);
  const auto x = as_double_tensor(data, n, d);
  TsneResult result;
  result.method = options.method != Method::kAuto
                      ? options.method
                      : (n <= kExactMaxPoints ? Method::kExact : Method::kBarnesHut);
  std::unique_ptr<Objective> objective;
  if (result.method == Method::kExact)
    objective = std::make_unique<ExactObjective>(exact_joint_probabilities(x, options.perplexity, threads), n,
                                                 threads);
  else
    objective = std::make_unique<BarnesHutObjective>(
        sparse_joint_probabilities(x, options.perplexity, threads), n, options.theta, threads);

  auto y = initial_embedding(data, n, d, options);
  const double learning_rate = options.learning_rate > 0
                                   ? options.learning_rate
                                   : std::max(static_cast<double>(n) / options.early_exaggeration / 4, 50.0);
  std::vector<double> grad(2 * n), update(2 * n), gains(2 * n);
  double kl = std::numeric_limits<double>::quiet_NaN();
  const int exploration = std::min(options.iterations, options.exaggeration_iterations);
  int done = 0;
  // Two phases, each with fresh momentum and gains (as scikit-learn).
  for (int phase = 0; phase < 2 && !result.cancelled; ++phase) {
    const int phase_end = phase == 0 ? exploration : options.iterations;
    const double exaggeration = phase == 0 ? options.early_exaggeration : 1.0;
    const double momentum = phase == 0 ? kEarlyMomentum : kFinalMomentum;
    std::fill(update.begin(), update.end(), 0.0);
    std::fill(gains.begin(), gains.end(), 1.0);
    double best_kl = std::numeric_limits<double>::max();
    int best_iteration = done;
    for (int it = done; it < phase_end; ++it) {
      const bool check = (it + 1) % kCheckEvery == 0 || it + 1 == options.iterations;
      const double value = objective->gradient(y, exaggeration, check, grad);
      if (check) kl = value;
      double grad_norm2 = 0;
      for (int64_t k = 0; k < 2 * n; ++k) {
        gains[k] = update[k] * grad[k] < 0 ? gains[k] + kGainIncrease : gains[k] * kGainDecrease;
        gains[k] = std::max(gains[k], kMinGain);
        const double g = grad[k] * gains[k];
        grad_norm2 += g * g;
        update[k] = momentum * update[k] - learning_rate * g;
        y[k] += update[k];
      }
      done = it + 1;
      bool stop = false;
      if (check) {
        if (kl < best_kl) {
          best_kl = kl;
          best_iteration = it;
        } else if (phase == 1 && it - best_iteration > kIterationsWithoutProgress) {
          stop = true;
        }
        if (std::sqrt(grad_norm2) <= kMinGradNorm) stop = true;
      }
      if (progress && (done % std::max(1, options.progress_every) == 0) && !progress(done, kl)) {
        result.cancelled = true;
        break;
      }
      if (stop) break;  // in phase 0 this goes on with phase 1, as scikit-learn does
    }
  }
  result.kl_divergence = kl;
  result.iterations_run = done;
  result.embedding.resize(2 * n);
  for (int64_t k = 0; k < 2 * n; ++k) result.embedding[k] = static_cast<float>(y[k]);
  if (progress && !result.cancelled && done % std::max(1, options.progress_every) != 0) progress(done, kl);
  return result;
}

std::vector<float> pca_2d(const float* data, int64_t n, int64_t d) {
  if (n < 1 || d < 1) throw Error("PCA: needs at least one point of at least one dimension");
  auto x = torch::from_blob(const_cast<float*>(data), {n, d}, torch::kFloat32).to(torch::kFloat64);
  x = x - x.mean(0, /*keepdim=*/true);
  const auto cov = x.t().mm(x);
  const auto eig = at::linalg_eigh(cov, "L");
  const auto vectors = std::get<1>(eig);  // ascending eigenvalues: the last columns are the top ones
  const int64_t k = std::min<int64_t>(2, d);
  auto components = vectors.narrow(1, d - k, k).flip({1}).clone();
  for (int64_t c = 0; c < k; ++c) {
    auto col = components.select(1, c);
    const auto largest = col.abs().argmax().item<int64_t>();
    if (col[largest].item<double>() < 0) col.neg_();
  }
  const auto scores = x.mm(components).to(torch::kFloat32).contiguous();
  std::vector<float> out(static_cast<size_t>(2 * n), 0.0f);
  const float* s = scores.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < k; ++c) out[2 * i + c] = s[i * k + c];
  return out;
}

std::string to_string(TsneOptions::Method method) {
  switch (method) {
    case Method::kAuto:
      return "auto";
    case Method::kExact:
      return "exact";
    case Method::kBarnesHut:
      return "barnes-hut";
  }
  return "auto";
}

TsneOptions::Method parse_tsne_method(const std::string& name, const std::string& field) {
  if (name == "auto") return Method::kAuto;
  if (name == "exact") return Method::kExact;
  if (name == "barnes-hut" || name == "barnes_hut" || name == "bh") return Method::kBarnesHut;
  throw Error(field + ": expected \"auto\", \"exact\" or \"barnes-hut\", got \"" + name + "\"");
}

}  // namespace fan::analysis
