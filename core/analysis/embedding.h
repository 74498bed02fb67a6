// Fig. 5 for any front end: 2-D embeddings of both domains' test images (logits, hd; before and after
// adaptation) and the proxy A-distances. `fan figures` writes them; the workbench's panel only draws them.
#pragma once
#include "core/analysis/features.h"
#include "core/analysis/plot_data.h"
#include "core/analysis/tsne.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace fan::analysis {

// Colours of the figures: source red, target blue (the paper's Fig. 5), and ten class colours.
Rgb domain_color(bool source);
Rgb class_color(int64_t label);

struct EmbeddingOptions {
  enum class Method { kTsne, kPca };
  Method method = Method::kTsne;
  int64_t images_per_domain = 1000;  // Fig. 5: random test images per domain
  double perplexity = 35;            // Fig. 5 (FAN-SPEC); lowered to (n − 1) / 3 for few points
  uint64_t seed = 0;
  TsneOptions::Method tsne_method = TsneOptions::Method::kAuto;
  int threads = 0;
  int64_t distance_samples = 5000;  // test images per domain for the proxy A-distance (0: none)
};

// One 2-D view of sampled test images of both domains: the source's first.
struct EmbeddingView {
  std::string tag;    // "fig5a_logits_before", "fig5b_logits_after", "fig5c_dss_before", "fig5d_dss_after"
  std::string title;  // "logits before adaptation", …
  std::vector<float> xy;                        // points × 2, row-major
  std::vector<int64_t> domain;                  // 0 source, 1 target
  std::vector<int64_t> index;                   // row in that domain's test set
  std::vector<int64_t> label, predicted;        // true class, the network's class
  double kl_divergence = 0;                     // t-SNE only
  std::string method;                           // "exact", "barnes-hut", "pca"
  int64_t size() const { return static_cast<int64_t>(domain.size()); }
};

struct EmbeddingReport {
  std::vector<EmbeddingView> views;  // in tag order; absent ones are in `skipped`
  std::vector<int64_t> source_rows, target_rows;  // the sampled test images
  nlohmann::json proxy_a_distance;  // measure_proxy_a_distance's record; null when not measured
  std::vector<std::string> skipped;  // views left out, with why
  bool cancelled = false;
};

// Both scatter figures of a view: by domain (red source, blue target) and by class.
ScatterFigure by_domain(const EmbeddingView& view, const std::string& source_name, const std::string& target_name);
ScatterFigure by_class(const EmbeddingView& view, const std::string& source_name, const std::string& target_name);

// `progress` gets the fraction done (0..1) now and then; `stop` returning
// true ends the work early (the report says cancelled). Both may be null.
EmbeddingReport embedding_figures(RunModels& run, const EmbeddingOptions& options,
                                  const std::function<void(double fraction)>& progress = nullptr,
                                  const std::function<bool()>& stop = nullptr);

// The proxy A-distance of logits, ht and hd before (source network on both
// domains) and after adaptation (source network on source, target network on
// target), on the test sets (equal counts per domain, at most
// `samples_per_domain`). Keys: "logits", "task_specific", "domain_specific",
// each {"before": {...}, "after": {...}}, plus "samples_per_domain".
nlohmann::json measure_proxy_a_distance(RunModels& run, int64_t samples_per_domain, uint64_t seed);

}  // namespace fan::analysis
