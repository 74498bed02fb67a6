// The paper's figures for a run (Fig. 5 t-SNE, Fig. 6 reconstructions, curves, confusion, proxy A-distance).
#pragma once
#include "core/analysis/domain_distance.h"
#include "core/analysis/embedding.h"
#include "core/analysis/plot_data.h"
#include "core/analysis/tsne.h"

#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fan::analysis {

struct FiguresOptions {
  int64_t images_per_domain = 1000;  // Fig. 5: random test images per domain
  double perplexity = 35;            // Fig. 5 (FAN-SPEC)
  uint64_t seed = 0;
  TsneOptions::Method method = TsneOptions::Method::kAuto;
  int threads = 0;
  int64_t grid_columns = 10;                    // Fig. 6: images per row
  std::string network = "last";                 // the target network drawn: last, or a validator's pick
                                                // (then into RUN_DIR/figures-<network>/)
  bool update_results = true;                   // add the proxy A-distance to the run's results (when finished)
  std::function<void(const std::string&)> log;  // one line per step done
};

struct FiguresReport {
  std::vector<std::filesystem::path> written;  // every file, in order
  nlohmann::json proxy_a_distance;             // also in figures/proxy_a_distance.json
  std::vector<std::string> skipped;            // figures left out, with why
};

// Writes RUN_DIR/figures/: fig5{a,b,c,d}_*.{csv,png} (by domain and by class),
// fig6a_reconstructions.png, fig6b_swap.png (+ .csv of the pairs),
// loss_stage1, loss_stage2, accuracy (.csv, .png), confusion (.csv, .png),
// proxy_a_distance (.json, .md, .png). PNG plots need `renderer` (null:
// CSV only); image grids need OpenCV. Reads the run without changing it,
// except its results when `update_results`.
FiguresReport write_figures(const std::filesystem::path& run_dir, const FiguresOptions& options,
                            FigureRenderer* renderer);

}  // namespace fan::analysis
