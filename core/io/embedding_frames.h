// The live embedding's frames in a run directory (embedding/): one file per frame, written atomically.
#pragma once
#include "core/events/events.h"

#include <filesystem>
#include <vector>

namespace fan::io {

// RUN_DIR/embedding/: frame-s<stage>-<step>.bin (one per frame) and index.json (what they hold, for people).
std::filesystem::path embedding_dir(const std::filesystem::path& run_dir);

// Writes one frame as embedding/frame-s2-000050.bin (temp file + rename): a frame produced again at
// the same step (a resumed run repeating a step) replaces the file, so frames never duplicate.
void write_embedding_frame(const std::filesystem::path& run_dir, const events::EmbeddingFrameEvent& frame);
// One frame file; fan::Error naming the file when it is not a whole, consistent frame.
events::EmbeddingFrameEvent read_embedding_frame(const std::filesystem::path& file);
// Every frame of the run, by stage then step (none: empty). A torn or foreign file is skipped
// only when `skipped` is given (it receives why); otherwise it is a fan::Error.
std::vector<events::EmbeddingFrameEvent> read_embedding_frames(const std::filesystem::path& run_dir,
                                                               std::vector<std::string>* skipped = nullptr);
// Resume: removes the frames a stopped or killed process wrote after the checkpoint it continues
// from (stage-2 frames with step > `stage2_step`; stage2_step < 0 removes every frame).
void drop_embedding_frames_after(const std::filesystem::path& run_dir, int64_t stage2_step);

// Stores every frame the run produces (the leader's sink, beside the metrics writer).
class EmbeddingFrameWriter : public events::EventSink {
 public:
  explicit EmbeddingFrameWriter(std::filesystem::path run_dir) : run_dir_(std::move(run_dir)) {}
  void on_embedding_frame(const events::EmbeddingFrameEvent& frame) override { write_embedding_frame(run_dir_, frame); }

 private:
  std::filesystem::path run_dir_;
};

}  // namespace fan::io
