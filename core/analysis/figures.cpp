// The paper's figures for a run: data, CSVs and image grids here; plots through a FigureRenderer.
#include "core/analysis/figures.h"

#include "core/analysis/curves.h"
#include "core/analysis/features.h"
#include "core/analysis/live_embedding.h"
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

// The seed stream of the Fig. 6b partners.
constexpr uint64_t kSwapSalt = 0x8CB92BA72F3D8DD7ULL;
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

void log_line(const FiguresOptions& o, const std::string& line) {
  if (o.log) o.log(line);
}

// Writes one run's figures into its figures/ folder, step by named step.
class FigureWriter {
 public:
  FigureWriter(const fs::path& run_dir, const FiguresOptions& o, FigureRenderer* renderer)
      : run_dir(run_dir), o(o), renderer(renderer), run(load_run(run_dir, o.network)), out(run_dir / (o.network == "last" ? std::string("figures") : "figures-" + o.network)) {
    fs::create_directories(out);
  }

  // Fig. 5: t-SNE of random test images of both domains (the workbench's embedding panel draws the same).
  EmbeddingReport embeddings() {
    EmbeddingOptions e;
    e.images_per_domain = o.images_per_domain;
    e.perplexity = o.perplexity;
    e.seed = o.seed;
    e.tsne_method = o.method;
    e.threads = o.threads;
    e.distance_samples = kDistanceSamples;
    auto embedding = embedding_figures(run, e);
    report.skipped.insert(report.skipped.end(), embedding.skipped.begin(), embedding.skipped.end());
    const std::string source_name = run.config.source.dataset + " (source)";
    const std::string target_name = run.config.target.dataset + " (target)";
    for (const auto& view : embedding.views) {
      log_line(o, view.tag + ": t-SNE of " + std::to_string(view.size()) + " points (" + view.method +
                      "), KL " + number(view.kl_divergence));
      std::string csv = "x,y,domain,label\n";
      for (int64_t i = 0; i < view.size(); ++i)
        csv += number(view.xy[2 * i]) + "," + number(view.xy[2 * i + 1]) + "," +
               (view.domain[i] == 0 ? "source" : "target") + "," + std::to_string(view.label[i]) + "\n";
      write_text(out / (view.tag + ".csv"), csv);
      render(out / (view.tag + ".png"),
             [&](const fs::path& p) { renderer->scatter(by_domain(view, source_name, target_name), p); });
      render(out / (view.tag + "_by_class.png"),
             [&](const fs::path& p) { renderer->scatter(by_class(view, source_name, target_name), p); });
    }
    return embedding;
  }

  // Fig. 6: reconstructions and the hd/logit swap, on the first sampled target images.
  void reconstructions(const std::vector<int64_t>& tgt_rows) {
    const auto tgt_images = select_rows(run.target_test.images, tgt_rows);
    const auto tgt_labels = select_rows(run.target_test.labels, tgt_rows).to(torch::kCPU);
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
    if (!final_net()->has_decoder()) {
      report.skipped.push_back("fig6a, fig6b: this variant has no decoder");
    } else if (!data::image_io_available()) {
      report.skipped.push_back("fig6a, fig6b: image grids need OpenCV (fan_core built without it)");
    } else {
      torch::Tensor reconstruction;
      {
        torch::NoGradGuard no_grad;
        reconstruction = final_net()->forward(grid_images).reconstruction;
      }
      const auto fig6a = out / "fig6a_reconstructions.png";
      data::write_image(fig6a, blocks({grid_images, reconstruction}));
      wrote(fig6a);
      if (adapted()) {
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
                 std::to_string(grid_labels[i].item<int64_t>()) + "," +
                 std::to_string(swap.source_partner[i]) + "\n";
        write_text(out / "fig6b_swap.csv", csv);
      } else {
        report.skipped.push_back("fig6b: needs the adapted target network (stage 2)");
      }
      log_line(o, "fig6: reconstruction grids of " + std::to_string(grid_n) + " target test images");
    }
  }

  // Loss and accuracy curves: the same producer as the workbench's plots.
  void curves() {
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
  }

  // Confusion matrix of the final network on the whole target test set.
  void confusion() {
    const auto e = train::evaluate(final_net(), run.target_test, kEvalBatch);
    MatrixFigure fig;
    fig.title = std::string(adapted() ? "adapted target network" : "source network (not adapted)") + " on " +
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

  // Proxy A-distance of logits, ht and hd, before and after adaptation (measured with the embeddings).
  void distances(const nlohmann::json& distance) {
    report.proxy_a_distance = distance;
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

  // The live embedding's stored frames (eval.live_embedding_images) as an animated GIF and a strip.
  void live_embedding() {
    LiveLayoutOptions l;
    l.seed = o.seed;
    l.threads = o.threads;
    const auto live = write_live_embedding(run_dir, out, run.config.source.dataset, run.config.target.dataset, renderer, l,
                                           /*strip_frames=*/7, [&](const std::string& line) { log_line(o, line); });
    for (const auto& p : live.written) wrote(p);
    if (!live.skipped.empty()) report.skipped.push_back(live.skipped);
  }

  FiguresReport report;

 private:
  void wrote(const fs::path& p) { report.written.push_back(p); }
  void write_text(const fs::path& p, const std::string& text) {
    util::atomic_write(p, text);
    wrote(p);
  }
  template <typename Draw>
  void render(const fs::path& png, const Draw& draw) {
    if (renderer == nullptr) {
      report.skipped.push_back(png.filename().string() + ": plots need the GUI build (QCustomPlot)");
      return;
    }
    draw(png);
    wrote(png);
  }
  bool adapted() const { return run.adapted(); }
  models::FanNet& final_net() { return run.adapted() ? run.target : run.source; }

  const fs::path run_dir;
  const FiguresOptions& o;
  FigureRenderer* renderer;
  RunModels run;
  const fs::path out;
};

}  // namespace

FiguresReport write_figures(const fs::path& run_dir, const FiguresOptions& o, FigureRenderer* renderer) {
  FigureWriter writer(run_dir, o, renderer);
  const auto embedding = writer.embeddings();
  writer.reconstructions(embedding.target_rows);
  writer.curves();
  writer.confusion();
  writer.distances(embedding.proxy_a_distance);
  writer.live_embedding();
  return writer.report;
}

}  // namespace fan::analysis
