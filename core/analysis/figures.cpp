// The paper's figures for a run: data, CSVs and image grids here; plots through a FigureRenderer.
#include "core/analysis/figures.h"

#include "core/analysis/curves.h"
#include "core/analysis/features.h"
#include "core/data/image_io.h"
#include "core/io/run_dir.h"
#include "core/train/evaluation.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

namespace fan::analysis {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Separate seed streams for the source and target samples and the Fig. 6b partners.
constexpr uint64_t kTargetSampleSalt = 0xD1B54A32D192ED03ULL;
constexpr uint64_t kSwapSalt = 0x8CB92BA72F3D8DD7ULL;
constexpr uint64_t kDistanceSalt = 0xAEF17502108EF2D9ULL;
// Blocks of Fig. 6 rows (each block: originals, then what was made from them).
constexpr int64_t kGridBlocks = 2;
// Fig. 6 tiles are scaled up this much (nearest neighbour) so that digits are visible.
constexpr int64_t kGridZoom = 3;
// The proxy A-distance uses at most this many test images per domain.
constexpr int64_t kDistanceSamples = 5000;
// Evaluation batch size for the confusion matrix.
constexpr int64_t kEvalBatch = 1000;

std::string number(double v) {
  char buffer[32];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  return std::string(buffer, ptr);
}

// Digits are their own names; other datasets' class names are not kept with the test set.
std::string class_name(int64_t label) { return std::to_string(label); }

struct Panel {
  std::string tag, title;
  torch::Tensor source, target;  // features N×D
};

torch::Tensor select_rows(const torch::Tensor& t, const std::vector<int64_t>& rows) {
  return t.index_select(0, torch::tensor(rows, torch::kLong).to(t.device()));
}

void log_line(const FiguresOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

}  // namespace

Rgb domain_color(bool source) { return source ? Rgb{214, 39, 40} : Rgb{31, 119, 180}; }

Rgb class_color(int64_t label) {
  // matplotlib's tab10: ten colours told apart easily.
  static const Rgb kTab10[10] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                 {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                 {188, 189, 34},  {23, 190, 207}};
  return kTab10[((label % 10) + 10) % 10];
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

FiguresReport write_figures(const fs::path& run_dir, const FiguresOptions& o, FigureRenderer* renderer) {
  FiguresReport report;
  auto run = load_run(run_dir);
  const fs::path out = run_dir / "figures";
  fs::create_directories(out);
  auto wrote = [&](const fs::path& p) { report.written.push_back(p); };
  auto write_text = [&](const fs::path& p, const std::string& text) {
    util::atomic_write(p, text);
    wrote(p);
  };
  auto render = [&](const fs::path& png, const auto& draw) {
    if (renderer == nullptr) {
      report.skipped.push_back(png.filename().string() + ": plots need the GUI build (QCustomPlot)");
      return;
    }
    draw(png);
    wrote(png);
  };
  const bool adapted = run.adapted();
  models::FanNet& final_net = adapted ? run.target : run.source;

  // Fig. 5: t-SNE of random test images of both domains.
  const auto src_rows = sample_indices(run.source_test.size(), o.images_per_domain, o.seed);
  const auto tgt_rows =
      sample_indices(run.target_test.size(), o.images_per_domain, o.seed ^ kTargetSampleSalt);
  const auto src_images = select_rows(run.source_test.images, src_rows);
  const auto tgt_images = select_rows(run.target_test.images, tgt_rows);
  const auto src_labels = select_rows(run.source_test.labels, src_rows).to(torch::kCPU);
  const auto tgt_labels = select_rows(run.target_test.labels, tgt_rows).to(torch::kCPU);
  const auto source_features = extract_features(run.source, src_images);
  const auto before = extract_features(run.source, tgt_images);
  Features after;
  if (adapted) after = extract_features(run.target, tgt_images);

  std::vector<Panel> panels = {
      {"fig5a_logits_before", "logits before adaptation", source_features.logits, before.logits}};
  if (adapted)
    panels.push_back({"fig5b_logits_after", "logits after adaptation", source_features.logits, after.logits});
  else
    report.skipped.push_back("fig5b, fig5d: the run has not reached adaptation (stage 2)");
  if (source_features.domain_specific.defined()) {
    panels.push_back({"fig5c_dss_before", "domain-specific subspace before adaptation",
                      source_features.domain_specific, before.domain_specific});
    if (adapted)
      panels.push_back({"fig5d_dss_after", "domain-specific subspace after adaptation",
                        source_features.domain_specific, after.domain_specific});
  } else {
    report.skipped.push_back("fig5c, fig5d: this variant has no domain-specific subspace");
  }
  const std::string source_name = run.config.source.dataset + " (source)";
  const std::string target_name = run.config.target.dataset + " (target)";
  for (const auto& panel : panels) {
    const auto x = torch::cat({panel.source, panel.target}, 0).to(torch::kFloat32).contiguous();
    const int64_t ns = panel.source.size(0), n = x.size(0);
    TsneOptions t;
    t.perplexity = o.perplexity;
    t.seed = o.seed;
    t.method = o.method;
    t.threads = o.threads;
    const auto result = tsne(x.data_ptr<float>(), n, x.size(1), t);
    log_line(o, panel.tag + ": t-SNE of " + std::to_string(n) + " points (" + to_string(result.method) +
                    "), KL " + number(result.kl_divergence));
    std::string csv = "x,y,domain,label\n";
    ScatterFigure by_domain{panel.title + " (red: " + source_name + ", blue: " + target_name + ")", {}};
    by_domain.series = {{source_name, domain_color(true), {}}, {target_name, domain_color(false), {}}};
    ScatterFigure by_class{panel.title + " by class (" + source_name + ", " + target_name + ")", {}};
    std::map<int64_t, size_t> class_series;
    for (int64_t i = 0; i < n; ++i) {
      const bool is_source = i < ns;
      const int64_t label = is_source ? src_labels[i].item<int64_t>() : tgt_labels[i - ns].item<int64_t>();
      const float px = result.embedding[2 * i], py = result.embedding[2 * i + 1];
      csv += number(px) + "," + number(py) + "," + (is_source ? "source" : "target") + "," +
             std::to_string(label) + "\n";
      auto& series = by_domain.series[is_source ? 0 : 1].xy;
      series.insert(series.end(), {px, py});
      class_series.emplace(label, 0);
    }
    for (auto& [label, index] : class_series) {
      index = by_class.series.size();
      by_class.series.push_back({class_name(label), class_color(label), {}});
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t label = i < ns ? src_labels[i].item<int64_t>() : tgt_labels[i - ns].item<int64_t>();
      auto& series = by_class.series[class_series[label]].xy;
      series.insert(series.end(), {result.embedding[2 * i], result.embedding[2 * i + 1]});
    }
    write_text(out / (panel.tag + ".csv"), csv);
    render(out / (panel.tag + ".png"), [&](const fs::path& p) { renderer->scatter(by_domain, p); });
    render(out / (panel.tag + "_by_class.png"), [&](const fs::path& p) { renderer->scatter(by_class, p); });
  }

  // Fig. 6: reconstructions and the hd/logit swap, on the first sampled target images.
  const int64_t grid_n = std::min<int64_t>(kGridBlocks * o.grid_columns, tgt_images.size(0));
  const auto grid_images = tgt_images.narrow(0, 0, grid_n);
  const auto grid_labels = tgt_labels.narrow(0, 0, grid_n);
  auto blocks = [&](const std::vector<torch::Tensor>& sets) {
    std::vector<torch::Tensor> rows;
    for (int64_t b = 0; b * o.grid_columns < grid_n; ++b) {
      const int64_t len = std::min(o.grid_columns, grid_n - b * o.grid_columns);
      for (const auto& s : sets) rows.push_back(s.narrow(0, b * o.grid_columns, len));
    }
    return image_grid(rows, kGridZoom);
  };
  if (!final_net->has_decoder()) {
    report.skipped.push_back("fig6a, fig6b: this variant has no decoder");
  } else if (!data::image_io_available()) {
    report.skipped.push_back("fig6a, fig6b: image grids need OpenCV (fan_core built without it)");
  } else {
    torch::Tensor reconstruction;
    {
      torch::NoGradGuard no_grad;
      reconstruction = final_net->forward(grid_images).reconstruction;
    }
    const auto fig6a = out / "fig6a_reconstructions.png";
    data::write_image(fig6a, blocks({grid_images, reconstruction}));
    wrote(fig6a);
    if (adapted) {
      const auto swap =
          swap_reconstructions(run.target, run.source, grid_images, grid_labels, run.source_test.images,
                               run.source_test.labels, o.seed ^ kSwapSalt);
      const auto partners = select_rows(run.source_test.images, swap.source_partner);
      const auto fig6b = out / "fig6b_swap.png";
      data::write_image(fig6b, blocks({grid_images, partners, swap.reconstruction}));
      wrote(fig6b);
      std::string csv = "row,target_test_index,label,source_test_index\n";
      for (int64_t i = 0; i < grid_n; ++i)
        csv += std::to_string(i) + "," + std::to_string(tgt_rows[i]) + "," +
               std::to_string(grid_labels[i].item<int64_t>()) + "," + std::to_string(swap.source_partner[i]) +
               "\n";
      write_text(out / "fig6b_swap.csv", csv);
    } else {
      report.skipped.push_back("fig6b: needs the adapted target network (stage 2)");
    }
    log_line(o, "fig6: reconstruction grids of " + std::to_string(grid_n) + " target test images");
  }

  // Loss and accuracy curves: the same producer as the workbench's plots.
  const auto curves = curves_from_metrics(io::RunDirectory(run_dir).read_metrics());
  for (int stage : {1, 2}) {
    const std::string tag = "loss_stage" + std::to_string(stage);
    const auto& fig = curves.stage(stage);
    if (fig.series.empty()) {
      report.skipped.push_back(tag + ": the run logged no stage-" + std::to_string(stage) + " steps");
      continue;
    }
    write_text(out / (tag + ".csv"), curves_csv(fig));
    render(out / (tag + ".png"), [&](const fs::path& p) { renderer->curves(fig, p); });
  }
  if (curves.accuracy().series.empty()) {
    report.skipped.push_back("accuracy: the run has no evaluations yet");
  } else {
    write_text(out / "accuracy.csv", curves_csv(curves.accuracy()));
    render(out / "accuracy.png", [&](const fs::path& p) { renderer->curves(curves.accuracy(), p); });
  }

  // Confusion matrix of the final network on the whole target test set.
  {
    const auto e = train::evaluate(final_net, run.target_test, kEvalBatch);
    MatrixFigure fig;
    fig.title = std::string(adapted ? "adapted target network" : "source network (not adapted)") + " on " +
                run.config.target.dataset + " test: top-1 " + number(std::round(e.top1 * 10000) / 10000);
    fig.x_label = "predicted class";
    fig.y_label = "true class";
    fig.counts = e.confusion;
    std::string csv = "true\\predicted";
    for (size_t c = 0; c < e.confusion.size(); ++c) {
      fig.labels.push_back(class_name(static_cast<int64_t>(c)));
      csv += "," + fig.labels.back();
    }
    csv += "\n";
    for (size_t r = 0; r < e.confusion.size(); ++r) {
      csv += fig.labels[r];
      for (auto v : e.confusion[r]) csv += "," + std::to_string(v);
      csv += "\n";
    }
    write_text(out / "confusion.csv", csv);
    render(out / "confusion.png", [&](const fs::path& p) { renderer->matrix(fig, p); });
    log_line(o, "confusion: target test top-1 " + number(e.top1));
  }

  // Proxy A-distance of logits, ht and hd, before and after adaptation.
  {
    report.proxy_a_distance = measure_proxy_a_distance(run, kDistanceSamples, o.seed);
    write_text(out / "proxy_a_distance.json", report.proxy_a_distance.dump(2) + "\n");
    TableFigure table;
    table.title = "proxy A-distance between " + run.config.source.dataset + " and " +
                  run.config.target.dataset + " test features (" +
                  std::to_string(report.proxy_a_distance["samples_per_domain"].get<int64_t>()) +
                  " per domain; 0 = indistinguishable, 2 = separable)";
    table.header = {"features", "before adaptation", "after adaptation"};
    std::string md = "| features | before adaptation | after adaptation |\n|---|---|---|\n";
    const std::pair<const char*, const char*> names[] = {{"logits", "logits (hl)"},
                                                         {"task_specific", "task-specific (ht)"},
                                                         {"domain_specific", "domain-specific (hd)"}};
    for (const auto& [key, label] : names) {
      if (!report.proxy_a_distance.contains(key)) continue;
      const auto& entry = report.proxy_a_distance[key];
      auto cell = [&](const char* when) {
        if (!entry.contains(when)) return std::string("–");
        std::ostringstream s;
        s.precision(3);
        s << std::fixed << entry[when]["distance"].get<double>();
        return s.str();
      };
      table.rows.push_back({label, cell("before"), cell("after")});
      md += std::string("| ") + label + " | " + cell("before") + " | " + cell("after") + " |\n";
    }
    write_text(out / "proxy_a_distance.md", "# " + table.title + "\n\n" + md);
    render(out / "proxy_a_distance.png", [&](const fs::path& p) { renderer->table(table, p); });
    io::RunDirectory dir(run_dir);
    if (o.update_results && dir.has_results()) {
      auto results = dir.read_results();
      results.proxy_a_distance = report.proxy_a_distance;
      dir.write_results(results);
      wrote(dir.results_path());
    }
    log_line(o, "proxy A-distance: " + report.proxy_a_distance.dump());
  }
  return report;
}

}  // namespace fan::analysis
