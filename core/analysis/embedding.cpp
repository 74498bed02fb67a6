// Fig. 5: embeddings of both domains' test images and the proxy A-distances, for every front end.
#include "core/analysis/embedding.h"

#include "core/analysis/domain_distance.h"
#include "core/util/error.h"

#include <map>

namespace fan::analysis {
namespace {

using nlohmann::json;

// Separate seed streams for the source and target samples and the distance's split.
constexpr uint64_t kTargetSampleSalt = 0xD1B54A32D192ED03ULL;
constexpr uint64_t kDistanceSalt = 0xAEF17502108EF2D9ULL;

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kLong).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

struct Panel {
  std::string tag, title;
  torch::Tensor Features::*space;
  bool after;
};

}  // namespace

Rgb domain_color(bool source) { return source ? Rgb{214, 39, 40} : Rgb{31, 119, 180}; }

Rgb class_color(int64_t label) {
  // matplotlib's tab10: ten colours told apart easily.
  static const Rgb kTab10[10] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                 {188, 189, 34},  {23, 190, 207}};
  return kTab10[((label % 10) + 10) % 10];
}

ScatterFigure by_domain(const EmbeddingView& view, const std::string& source_name, const std::string& target_name) {
  ScatterFigure figure{view.title + " (red: " + source_name + ", blue: " + target_name + ")", {}};
  figure.series = {{source_name, domain_color(true), {}}, {target_name, domain_color(false), {}}};
  for (int64_t i = 0; i < view.size(); ++i) {
    auto& xy = figure.series[view.domain[i] == 0 ? 0 : 1].xy;
    xy.insert(xy.end(), {view.xy[2 * i], view.xy[2 * i + 1]});
  }
  return figure;
}

ScatterFigure by_class(const EmbeddingView& view, const std::string& source_name, const std::string& target_name) {
  ScatterFigure figure{view.title + " by class (" + source_name + ", " + target_name + ")", {}};
  std::map<int64_t, size_t> series;  // label → series, in label order
  for (int64_t label : view.label) series.emplace(label, 0);
  for (auto& [label, index] : series) {
    index = figure.series.size();
    // Digits are their own names; other datasets' class names are not kept with the test set.
    figure.series.push_back({std::to_string(label), class_color(label), {}});
  }
  for (int64_t i = 0; i < view.size(); ++i) {
    auto& xy = figure.series[series[view.label[i]]].xy;
    xy.insert(xy.end(), {view.xy[2 * i], view.xy[2 * i + 1]});
  }
  return figure;
}

json measure_proxy_a_distance(RunModels& run, int64_t samples_per_domain, uint64_t seed) {
  const int64_t n = std::min({samples_per_domain, run.source_test.size(), run.target_test.size()});
  const auto src_rows = sample_indices(run.source_test.size(), n, seed);
  const auto tgt_rows = sample_indices(run.target_test.size(), n, seed ^ kTargetSampleSalt);
  const auto src_images = select_rows(run.source_test.images, src_rows);
  const auto tgt_images = select_rows(run.target_test.images, tgt_rows);
  const auto source = extract_features(run.source, src_images);
  const auto before = extract_features(run.source, tgt_images);
  Features after;
  if (run.adapted()) after = extract_features(run.target, tgt_images);
  json out;
  out["samples_per_domain"] = n;
  out["classifier"] =
      "logistic regression (L2), standardised features, half of each domain to train, half to test";
  const std::pair<const char*, torch::Tensor Features::*> spaces[] = {
      {"logits", &Features::logits},
      {"task_specific", &Features::task_specific},
      {"domain_specific", &Features::domain_specific}};
  for (const auto& [name, member] : spaces) {
    if (!(source.*member).defined()) continue;
    json entry;
    entry["before"] = proxy_a_distance(source.*member, before.*member, seed ^ kDistanceSalt).to_json();
    if (run.adapted())
      entry["after"] = proxy_a_distance(source.*member, after.*member, seed ^ kDistanceSalt).to_json();
    out[name] = entry;
  }
  return out;
}

EmbeddingReport embedding_figures(RunModels& run, const EmbeddingOptions& o,
                                  const std::function<void(double)>& progress, const std::function<bool()>& stop) {
  EmbeddingReport report;
  auto stopped = [&] { return stop && stop(); };
  report.source_rows = sample_indices(run.source_test.size(), o.images_per_domain, o.seed);
  report.target_rows = sample_indices(run.target_test.size(), o.images_per_domain, o.seed ^ kTargetSampleSalt);
  const auto src_labels = to_vector(select_rows(run.source_test.labels, report.source_rows));
  const auto tgt_labels = to_vector(select_rows(run.target_test.labels, report.target_rows));
  // One forward pass per domain and network; every view reads from these.
  const auto src_images = select_rows(run.source_test.images, report.source_rows);
  const auto tgt_images = select_rows(run.target_test.images, report.target_rows);
  const Features source = extract_features(run.source, src_images);
  const Features before = extract_features(run.source, tgt_images);
  Features after;
  if (run.adapted()) after = extract_features(run.target, tgt_images);

  std::vector<Panel> panels = {{"fig5a_logits_before", "logits before adaptation", &Features::logits, false}};
  if (run.adapted())
    panels.push_back({"fig5b_logits_after", "logits after adaptation", &Features::logits, true});
  else
    report.skipped.push_back("fig5b, fig5d: the run has not reached adaptation (stage 2)");
  if (source.domain_specific.defined()) {
    panels.push_back({"fig5c_dss_before", "domain-specific subspace before adaptation", &Features::domain_specific, false});
    if (run.adapted())
      panels.push_back({"fig5d_dss_after", "domain-specific subspace after adaptation", &Features::domain_specific, true});
  } else {
    report.skipped.push_back("fig5c, fig5d: this variant has no domain-specific subspace");
  }
  const auto src_predicted = to_vector(source.logits.argmax(1));
  const auto before_predicted = to_vector(before.logits.argmax(1));
  const auto after_predicted = run.adapted() ? to_vector(after.logits.argmax(1)) : std::vector<int64_t>();

  for (size_t p = 0; p < panels.size(); ++p) {
    if (stopped()) {
      report.cancelled = true;
      return report;
    }
    const auto& panel = panels[p];
    const auto& target = panel.after ? after : before;
    const auto x = torch::cat({source.*panel.space, target.*panel.space}, 0).to(torch::kFloat32).contiguous();
    const int64_t ns = (source.*panel.space).size(0), n = x.size(0);
    EmbeddingView view;
    view.tag = panel.tag;
    view.title = panel.title;
    if (o.method == EmbeddingOptions::Method::kPca) {
      view.xy = pca_2d(x.data_ptr<float>(), n, x.size(1));
      view.method = "pca";
    } else {
      TsneOptions t;
      t.perplexity = std::min(o.perplexity, (n - 1) / 3.0);
      t.seed = o.seed;
      t.method = o.tsne_method;
      t.threads = o.threads;
      const auto result = tsne(x.data_ptr<float>(), n, x.size(1), t, [&](int iteration, double) {
        if (progress) progress((static_cast<double>(p) + static_cast<double>(iteration) / t.iterations) / panels.size());
        return !stopped();
      });
      if (stopped()) {
        report.cancelled = true;
        return report;
      }
      view.xy = result.embedding;
      view.kl_divergence = result.kl_divergence;
      view.method = to_string(result.method);
    }
    const auto& predicted = panel.after ? after_predicted : before_predicted;
    for (int64_t i = 0; i < n; ++i) {
      const bool is_source = i < ns;
      const auto k = static_cast<size_t>(is_source ? i : i - ns);
      view.domain.push_back(is_source ? 0 : 1);
      view.index.push_back(is_source ? report.source_rows[k] : report.target_rows[k]);
      view.label.push_back(is_source ? src_labels[k] : tgt_labels[k]);
      view.predicted.push_back(is_source ? src_predicted[k] : predicted[k]);
    }
    report.views.push_back(std::move(view));
    if (progress) progress(static_cast<double>(p + 1) / panels.size());
  }
  if (o.distance_samples > 0 && !stopped()) report.proxy_a_distance = measure_proxy_a_distance(run, o.distance_samples, o.seed);
  return report;
}

}  // namespace fan::analysis
