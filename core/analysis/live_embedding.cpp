// The live embedding's layouts and figures.
#include "core/analysis/live_embedding.h"

#include "core/analysis/embedding.h"
#include "core/analysis/tsne.h"
#include "core/io/embedding_frames.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#ifdef FAN_WITH_GIF
#include <gif_lib.h>
#endif
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

namespace fan::analysis {
namespace {

// Tile size of one space in the GIF and the strip (pixels).
constexpr int kTileWidth = 420;
constexpr int kTileHeight = 360;
// Marker radius of the fallback rasterizer (pixels).
constexpr int kDotRadius = 2;

std::vector<float> layout_space(const std::vector<float>& data, int64_t n, int64_t d, const std::vector<float>* previous,
                                const LiveLayoutOptions& o, const std::function<bool()>& stop, bool& cancelled) {
  if (o.method == LiveLayoutOptions::Method::kPca || n < 4) {
    auto xy = pca_2d(data.data(), n, d);
    // PCA's component signs are arbitrary between frames: keep the previous frame's orientation.
    if (previous && previous->size() == xy.size()) {
      for (int axis = 0; axis < 2; ++axis) {
        double dot = 0;
        for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(xy[2 * i + axis]) * (*previous)[2 * i + axis];
        if (dot < 0)
          for (int64_t i = 0; i < n; ++i) xy[2 * i + axis] = -xy[2 * i + axis];
      }
    }
    return xy;
  }
  TsneOptions t;
  t.perplexity = std::min(o.perplexity, std::max(1.0, (static_cast<double>(n) - 1) / 3.0));
  t.seed = o.seed;
  t.threads = o.threads;
  t.method = o.tsne_method;
  if (previous && static_cast<int64_t>(previous->size()) == 2 * n) {
    t.initial_positions = *previous;
    t.exaggeration_iterations = 0;
    t.iterations = o.warm_iterations;
  } else {
    t.iterations = o.first_iterations;
  }
  auto result = tsne(data.data(), n, d, t, [&](int, double) { return !(stop && stop()); });
  cancelled = cancelled || result.cancelled;
  return std::move(result.embedding);
}

void put_pixel(RgbImage& image, int x, int y, const Rgb& c, double alpha) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  auto* p = &image.rgb[(static_cast<size_t>(y) * image.width + x) * 3];
  for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::lround(p[k] * (1 - alpha) + c[k] * alpha));
}

std::string png_chunk(const char* type, const std::string& data) {
  std::string out;
  const auto length = static_cast<uint32_t>(data.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xFF));
  std::string body = std::string(type, 4) + data;
  out += body;
  const auto crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((crc >> shift) & 0xFF));
  return out;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xFF), static_cast<char>((v >> 8) & 0xFF),
          static_cast<char>(v & 0xFF)};
}

RgbImage render(FigureRenderer* renderer, const ScatterFigure& figure) {
  RgbImage image;
  if (renderer) image = renderer->scatter_image(figure, kTileWidth, kTileHeight);
  if (image.empty()) image = rasterize_scatter(figure, kTileWidth, kTileHeight);
  return image;
}

}  // namespace

LiveLayout layout_frame(const events::EmbeddingFrameEvent& frame, const LiveLayout* previous,
                        const LiveLayoutOptions& options, const std::function<bool()>& stop) {
  LiveLayout out;
  out.step = frame.step;
  const bool same_rows = previous && static_cast<int64_t>(previous->logits_xy.size()) == 2 * frame.rows;
  out.logits_xy = layout_space(frame.logits, frame.rows, frame.logit_cols, same_rows ? &previous->logits_xy : nullptr,
                               options, stop, out.cancelled);
  if (frame.hd_cols > 0 && !out.cancelled)
    out.hd_xy = layout_space(frame.hd, frame.rows, frame.hd_cols, same_rows ? &previous->hd_xy : nullptr, options, stop,
                             out.cancelled);
  return out;
}

ScatterFigure live_figure(const events::EmbeddingFrameEvent& frame, const std::vector<float>& xy, bool by_class,
                          const std::string& space, const std::string& source_name, const std::string& target_name) {
  ScatterFigure figure;
  figure.title = space + ", step " + std::to_string(frame.step);
  const auto rows = std::min<size_t>(frame.domain.size(), xy.size() / 2);
  if (!by_class) {
    figure.series = {{"source: " + source_name, domain_color(true), {}}, {"target: " + target_name, domain_color(false), {}}};
    for (size_t i = 0; i < rows; ++i) {
      auto& s = figure.series[frame.domain[i] == 0 ? 0 : 1].xy;
      s.insert(s.end(), {xy[2 * i], xy[2 * i + 1]});
    }
    return figure;
  }
  std::map<int32_t, size_t> series;  // label → series, in label order
  for (size_t i = 0; i < rows; ++i) series.emplace(frame.label[i], 0);
  for (auto& [label, index] : series) {
    index = figure.series.size();
    figure.series.push_back({"class " + std::to_string(label), class_color(label), {}});
  }
  for (size_t i = 0; i < rows; ++i) {
    auto& s = figure.series[series[frame.label[i]]].xy;
    s.insert(s.end(), {xy[2 * i], xy[2 * i + 1]});
  }
  figure.title += " (" + source_name + " and " + target_name + ", by class)";
  return figure;
}

RgbImage rasterize_scatter(const ScatterFigure& figure, int width, int height) {
  RgbImage image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3, 255)};
  float lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY;
  for (const auto& s : figure.series)
    for (size_t i = 0; i + 1 < s.xy.size(); i += 2) {
      lo_x = std::min(lo_x, s.xy[i]);
      hi_x = std::max(hi_x, s.xy[i]);
      lo_y = std::min(lo_y, s.xy[i + 1]);
      hi_y = std::max(hi_y, s.xy[i + 1]);
    }
  if (!(hi_x >= lo_x)) return image;
  const int margin = 10;
  const double sx = (width - 2 * margin) / std::max(1e-6, static_cast<double>(hi_x - lo_x));
  const double sy = (height - 2 * margin) / std::max(1e-6, static_cast<double>(hi_y - lo_y));
  for (const auto& s : figure.series)
    for (size_t i = 0; i + 1 < s.xy.size(); i += 2) {
      const int cx = margin + static_cast<int>(std::lround((s.xy[i] - lo_x) * sx));
      const int cy = height - margin - static_cast<int>(std::lround((s.xy[i + 1] - lo_y) * sy));
      for (int dy = -kDotRadius; dy <= kDotRadius; ++dy)
        for (int dx = -kDotRadius; dx <= kDotRadius; ++dx)
          if (dx * dx + dy * dy <= kDotRadius * kDotRadius) put_pixel(image, cx + dx, cy + dy, s.color, 0.7);
    }
  return image;
}

namespace {
// Images next to each other (horizontal) or one above the other, `gap` white pixels apart.
RgbImage tiled(const std::vector<RgbImage>& images, int gap, bool horizontal) {
  RgbImage out;
  int& along = horizontal ? out.width : out.height;
  int& across = horizontal ? out.height : out.width;
  for (const auto& im : images) {
    along += (horizontal ? im.width : im.height) + (along > 0 ? gap : 0);
    across = std::max(across, horizontal ? im.height : im.width);
  }
  out.rgb.assign(static_cast<size_t>(out.width) * out.height * 3, 255);
  int offset = 0;
  for (const auto& im : images) {
    const int x0 = horizontal ? offset : 0, y0 = horizontal ? 0 : offset;
    for (int y = 0; y < im.height; ++y)
      std::copy_n(&im.rgb[static_cast<size_t>(y) * im.width * 3], im.width * 3,
                  &out.rgb[(static_cast<size_t>(y0 + y) * out.width + x0) * 3]);
    offset += (horizontal ? im.width : im.height) + gap;
  }
  return out;
}
}  // namespace

RgbImage side_by_side(const std::vector<RgbImage>& images, int gap) { return tiled(images, gap, true); }
RgbImage stacked(const std::vector<RgbImage>& images, int gap) { return tiled(images, gap, false); }

bool gif_available() {
#ifdef FAN_WITH_GIF
  return true;
#else
  return false;
#endif
}

void write_gif(const std::filesystem::path& path, const std::vector<RgbImage>& frames, int delay_centiseconds) {
#ifndef FAN_WITH_GIF
  (void)frames;
  (void)delay_centiseconds;
  throw Error(path.string() + ": this build has no giflib (libgif-dev), so no GIF");
#else
  if (frames.empty()) throw Error(path.string() + ": a GIF needs at least one frame");
  const int w = frames[0].width, h = frames[0].height;
  for (const auto& f : frames)
    if (f.width != w || f.height != h || f.rgb.size() != static_cast<size_t>(w) * h * 3)
      throw Error(path.string() + ": the GIF's frames differ in size");
  std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path());
  const auto tmp = util::temp_path_for(path);
  util::TempPathGuard guard(tmp);
  int error = 0;
  GifFileType* gif = EGifOpenFileName(tmp.c_str(), /*TestExistence=*/false, &error);
  if (!gif) throw Error(path.string() + ": cannot write the GIF (" + GifErrorString(error) + ")");
  auto fail = [&](const char* what) {
    const std::string why = GifErrorString(gif->Error) ? GifErrorString(gif->Error) : "unknown error";
    EGifCloseFile(gif, &error);
    throw Error(path.string() + ": cannot write the GIF (" + what + ": " + why + ")");
  };
  EGifSetGifVersion(gif, true);
  const size_t pixels = static_cast<size_t>(w) * h;
  std::vector<GifByteType> r(pixels), g(pixels), b(pixels), indexed(pixels);
  bool first = true;
  for (const auto& f : frames) {
    for (size_t i = 0; i < pixels; ++i) {
      r[i] = f.rgb[3 * i];
      g[i] = f.rgb[3 * i + 1];
      b[i] = f.rgb[3 * i + 2];
    }
    int colours = 256;
    ColorMapObject* map = GifMakeMapObject(colours, nullptr);
    if (!map) fail("colour map");
    if (GifQuantizeBuffer(w, h, &colours, r.data(), g.data(), b.data(), indexed.data(), map->Colors) == GIF_ERROR) {
      GifFreeMapObject(map);
      fail("quantizing a frame");
    }
    if (first) {
      if (EGifPutScreenDesc(gif, w, h, 8, 0, map) == GIF_ERROR) {
        GifFreeMapObject(map);
        fail("screen descriptor");
      }
      // NETSCAPE2.0: loop forever.
      const GifByteType app[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
      const GifByteType loop[] = {1, 0, 0};
      if (EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
          EGifPutExtensionBlock(gif, sizeof app, app) == GIF_ERROR ||
          EGifPutExtensionBlock(gif, sizeof loop, loop) == GIF_ERROR || EGifPutExtensionTrailer(gif) == GIF_ERROR) {
        GifFreeMapObject(map);
        fail("loop extension");
      }
    }
    GraphicsControlBlock gcb{};
    gcb.DisposalMode = DISPOSE_DO_NOT;
    gcb.DelayTime = delay_centiseconds;
    gcb.TransparentColor = NO_TRANSPARENT_COLOR;
    GifByteType ext[4];
    const auto ext_size = EGifGCBToExtension(&gcb, ext);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, static_cast<int>(ext_size), ext) == GIF_ERROR) {
      GifFreeMapObject(map);
      fail("frame delay");
    }
    // Every frame has its own colours (a local map); the first one's is also the global map.
    const bool ok = EGifPutImageDesc(gif, 0, 0, w, h, false, first ? nullptr : map) != GIF_ERROR;
    GifFreeMapObject(map);
    if (!ok) fail("image descriptor");
    for (int y = 0; y < h; ++y)
      if (EGifPutLine(gif, &indexed[static_cast<size_t>(y) * w], w) == GIF_ERROR) fail("pixels");
    first = false;
  }
  if (EGifCloseFile(gif, &error) == GIF_ERROR)
    throw Error(path.string() + ": cannot write the GIF (" + GifErrorString(error) + ")");
  // giflib creates the file 0600; a figure is for reading like the others.
  std::error_code ec;
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                        std::filesystem::perms::group_read | std::filesystem::perms::others_read, ec);
  util::rename_onto(tmp, path);
  guard.release();
#endif
}

void write_png(const std::filesystem::path& path, const RgbImage& image) {
  if (image.empty()) throw Error(path.string() + ": an empty image");
  std::string raw;
  raw.reserve(static_cast<size_t>(image.height) * (image.width * 3 + 1));
  for (int y = 0; y < image.height; ++y) {
    raw.push_back('\0');  // filter: none
    raw.append(reinterpret_cast<const char*>(&image.rgb[static_cast<size_t>(y) * image.width * 3]), image.width * 3);
  }
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw Error(path.string() + ": cannot compress the PNG");
  packed.resize(size);
  const std::string header = be32(image.width) + be32(image.height) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", header) + png_chunk("IDAT", packed) +
                          png_chunk("IEND", "");
  util::atomic_write(path, png);
}

LiveEmbeddingReport write_live_embedding(const std::filesystem::path& run_dir, const std::filesystem::path& out_dir,
                                         const std::string& source_name, const std::string& target_name,
                                         FigureRenderer* renderer, const LiveLayoutOptions& options, int strip_frames,
                                         const std::function<void(const std::string&)>& log) {
  LiveEmbeddingReport report;
  std::vector<std::string> skipped;
  const auto frames = io::read_embedding_frames(run_dir, &skipped);
  for (const auto& why : skipped)
    if (log) log("live embedding: skipped " + why);
  if (frames.empty()) {
    report.skipped = "live embedding: the run stored no frames (eval.live_embedding_images = 0, or stage 2 not reached)";
    return report;
  }
  std::vector<RgbImage> tiles;
  LiveLayout previous;
  for (const auto& frame : frames) {
    const auto started = std::chrono::steady_clock::now();
    const bool warm = previous.step >= 0;
    const auto layout = layout_frame(frame, warm ? &previous : nullptr, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::vector<RgbImage> spaces = {render(renderer, live_figure(frame, layout.logits_xy, false, "logits", source_name, target_name))};
    if (!layout.hd_xy.empty())
      spaces.push_back(render(renderer, live_figure(frame, layout.hd_xy, false, "domain-specific (hd)", source_name, target_name)));
    tiles.push_back(stacked(spaces));
    previous = layout;
    if (log) {
      const bool pca = options.method == LiveLayoutOptions::Method::kPca;
      log("live embedding: frame at step " + std::to_string(frame.step) + ", " + std::to_string(frame.rows) +
          " points, laid out in " + std::to_string(seconds) + " s (" +
          (pca ? std::string("PCA") : warm ? "t-SNE warm-started from the previous frame" : "t-SNE from PCA") + ")");
    }
  }
  const auto gif = out_dir / "live_embedding.gif";
  if (gif_available()) {
    write_gif(gif, tiles);
    report.written.push_back(gif);
  } else if (log) {
    log("live embedding: this build has no giflib (libgif-dev): the PNG strip only");
  }
  // The strip: evenly spread frames, the first and the last always among them.
  std::vector<RgbImage> strip;
  const int n = static_cast<int>(tiles.size()), k = std::max(1, std::min(strip_frames, n));
  for (int i = 0; i < k; ++i) strip.push_back(tiles[k == 1 ? n - 1 : static_cast<size_t>(std::lround(i * (n - 1.0) / (k - 1)))]);
  const auto png = out_dir / "live_embedding_strip.png";
  write_png(png, side_by_side(strip, 6));
  report.written.push_back(png);
  return report;
}

}  // namespace fan::analysis
