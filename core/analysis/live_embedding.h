// The live embedding's layouts (t-SNE warm-started from the previous frame, or PCA) and its
// figures: one scatter per space and frame, an animated GIF and a PNG strip. No Qt, no tensors.
#pragma once
#include "core/analysis/plot_data.h"
#include "core/analysis/tsne.h"
#include "core/events/events.h"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fan::analysis {

struct LiveLayoutOptions {
  enum class Method { kTsne, kPca };
  Method method = Method::kTsne;
  double perplexity = 30;     // lowered to (n − 1) / 3 for few points
  int first_iterations = 750;  // the first frame: a full t-SNE (PCA start, early exaggeration)
  int warm_iterations = 250;   // later frames: from the previous layout, no exaggeration
  // Barnes-Hut: at a thousand points several times faster per iteration than exact, which a frame
  // every few seconds needs (bench/results/live_embedding.md).
  TsneOptions::Method tsne_method = TsneOptions::Method::kBarnesHut;
  uint64_t seed = 0;
  int threads = 0;
};

// Where one frame's points lie, per space (n×2, row-major; hd_xy empty when the frame has no hd).
struct LiveLayout {
  int64_t step = -1;
  std::vector<float> logits_xy, hd_xy;
  bool cancelled = false;
};

// Lays out `frame`; `previous` (the same rows, an earlier frame) warm-starts the t-SNE, and orients
// PCA's axes (a sign flip is no motion). `stop` returning true ends the work early (cancelled).
LiveLayout layout_frame(const events::EmbeddingFrameEvent& frame, const LiveLayout* previous,
                        const LiveLayoutOptions& options, const std::function<bool()>& stop = {});

// One space of a frame as a scatter: by domain (source red, target blue) or by class.
ScatterFigure live_figure(const events::EmbeddingFrameEvent& frame, const std::vector<float>& xy, bool by_class,
                          const std::string& space, const std::string& source_name, const std::string& target_name);

// Plain dots on white, no text: what the GIF and the strip use when no renderer draws them.
RgbImage rasterize_scatter(const ScatterFigure& figure, int width, int height);

// Images side by side (heights may differ: the strip is as tall as the tallest, white below).
RgbImage side_by_side(const std::vector<RgbImage>& images, int gap = 4);
// One above the other (widths may differ).
RgbImage stacked(const std::vector<RgbImage>& images, int gap = 0);

// Whether this build has giflib (FAN_WITH_GIF); without it write_gif throws and fan figures writes the strip only.
bool gif_available();
// An animated GIF (giflib; 256 colours per frame, looping forever), written atomically.
// fan::Error naming the file when it cannot be written or the frames differ in size.
void write_gif(const std::filesystem::path& path, const std::vector<RgbImage>& frames, int delay_centiseconds = 60);
// An 8-bit RGB PNG (zlib), written atomically.
void write_png(const std::filesystem::path& path, const RgbImage& image);

struct LiveEmbeddingReport {
  std::vector<std::filesystem::path> written;
  std::string skipped;  // why nothing was written (no frames); empty when written
};

// RUN_DIR/embedding's frames as OUT_DIR/live_embedding.gif (one GIF frame per stored frame:
// logits above hd, by domain) and OUT_DIR/live_embedding_strip.png (at most `strip_frames` of
// them, evenly spread, side by side). Drawn by `renderer` when given (titles, legends), else dots.
LiveEmbeddingReport write_live_embedding(const std::filesystem::path& run_dir, const std::filesystem::path& out_dir,
                                         const std::string& source_name, const std::string& target_name,
                                         FigureRenderer* renderer, const LiveLayoutOptions& options = {},
                                         int strip_frames = 7, const std::function<void(const std::string&)>& log = {});

}  // namespace fan::analysis
