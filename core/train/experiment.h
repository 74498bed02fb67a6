// An experiment end to end: data, stage 1, source-only evaluation, stage 2, results.
#pragma once
#include "core/data/dataset.h"
#include "core/data/image_set.h"
#include "core/io/checkpoint.h"
#include "core/io/config.h"
#include "core/io/embedding_frames.h"
#include "core/io/run_dir.h"
#include "core/models/discriminator.h"
#include "core/models/fan_net.h"
#include "core/events/events.h"
#include "core/io/records.h"
#include "core/train/source_trainer.h"
#include "core/train/target_adapter.h"

#include <nlohmann/json.hpp>

namespace fan::dist {
class Group;
}  // namespace fan::dist

#include <filesystem>
#include <functional>
#include <memory>

namespace fan::train {

// A C×H×W image in [0, 1] as 8-bit pixels (clamped), for previews and the GUI.
ImageBuffer to_image_buffer(const torch::Tensor& chw);

// Ends a run on a non-finite loss: an error event naming the stage, step,
// losses and the last good checkpoint, then fan::Error. Nothing is written,
// so the checkpoint on disk stays the last good one.
void check_finite(const std::map<std::string, double>& losses, int stage, int64_t step,
                  const std::filesystem::path& checkpoint, const std::string& hint, EventSink& sink);

// The device named in the config; "auto" picks CUDA when this LibTorch has it.
torch::Device resolve_device(const std::string& name);
// Applies the threads field (0 = all cores); returns the count in effect.
int apply_threads(int64_t threads);

// stage1.from: the state of the run `config` starts stage 2 from, checked (a fan::Error naming the field
// and the directory when it is missing, is `run_dir` itself, has not finished stage 1, or trained another
// stage 1 than `config` would).
io::RunState stage1_source_state(const io::ExperimentConfig& config, const std::filesystem::path& run_dir);

class Experiment {
 public:
  // A new run in `run_dir` (created; must not hold a run yet).
  Experiment(io::ExperimentConfig config, std::filesystem::path run_dir);
  // Continues the run in `run_dir` from its last checkpoint.
  static std::unique_ptr<Experiment> resume(const std::filesystem::path& run_dir);

  // Runs to the end (or until `stop` asks). Returns the results, with status
  // "finished" (also written to the run directory) or "stopped". Throws
  // fan::Error on bad data or a non-finite loss (after an error event; the
  // last checkpoint is kept).
  io::Results run(EventSink* sink = nullptr, StopToken* stop = nullptr);

  const io::ExperimentConfig& config() const { return config_; }
  const io::RunDirectory& run_directory() const { return run_dir_; }
  const io::RunState& state() const { return state_; }

  // In a data-parallel run (dist::current() when constructed): rank 0 writes the run directory,
  // evaluates and checkpoints; every rank trains on its slice of each global batch.
  bool leader() const;

  models::FanNet& source_net() { return source_net_; }
  models::FanNet& target_net() { return target_net_; }

 private:
  Experiment(io::ExperimentConfig config, io::RunDirectory run_dir, io::RunState state);

  // What one stage's loop needs; the loop itself (run_stage) is the same for both stages:
  // restore or announce, step, log, preview, evaluate, checkpoint, save the position.
  struct StageLoop {
    int stage = 1;
    std::string name;  // "source" | "adaptation"
    int64_t total = 0;
    std::vector<std::pair<std::string, data::BatchStream*>> streams;  // saved and restored by name
    std::map<std::string, double> learning_rates;                      // for the step events
    std::string nan_hint;                                              // a non-finite loss's advice
    // One training step after `done` steps; sets `images` to how many it trained on.
    std::function<std::map<std::string, double>(int64_t done, int64_t& images)> train_step;
    std::function<int64_t(int64_t step)> epoch;  // for the step events (null: 0)
    std::function<void(int64_t step, EventSink&)> preview;
    // The live embedding (stage 2): at the stage's start (step 0) and at every preview point. Null: none.
    std::function<void(int64_t step, EventSink&)> live_embedding;
    std::function<bool(int64_t step)> evaluate_at;
    std::function<void(int64_t step, EventSink&)> evaluate;
  };
  void run_stage(StageLoop& loop, EventSink& sink, StopToken& stop);
  // The four image sets: tensors in memory, or streamed image folders.
  void load_data();
  void build_networks();
  void run_stage1(EventSink& sink, StopToken& stop);
  void evaluate_source_only(EventSink& sink);
  void run_stage2(EventSink& sink, StopToken& stop);
  // Streamed domains: how long the network waited on the loader (message, results).
  void note_loader_wait(EventSink& sink, int stage, double waited, double seconds);
  void checkpoint();
  // Ends run() on a stop request: checkpoint, message, "stopped" results.
  io::Results stopped(int stage, EventSink& sink);
  // The modules and optimizers a checkpoint holds at the current stage.
  std::pair<io::ModuleMap, io::OptimizerMap> checkpoint_contents();
  void restore_checkpoint();
  // stage1.from: this run's stage 1 is another run's (its source network, numbers and stage-1 records).
  void adopt_stage1(EventSink& sink);
  // Stage 2 starts: the target network from the source network, the adapter (a new discriminator for
  // stage2.draw > 0), the checkpoint.
  void start_stage2();
  // A stage-1 seed stream: the run's seed with its salt, moved by stage1.draw (draw 0: the seed's own).
  uint64_t stage1_seed(uint64_t salt) const;
  // A stage-2 seed stream: the run's seed with its salt, moved by stage2.draw (draw 0: the seed's own).
  uint64_t stage2_seed(uint64_t salt) const;
  void make_adapter();
  bool wait_while_paused(StopToken& stop);
  bool mixed_precision() const { return config_.mixed_precision && device_.is_cuda(); }
  // The label-free validators of `net` on validator_images_, as an event (and timed).
  std::map<std::string, double> validate(EventSink& sink, models::FanNet& net, int stage, int64_t step,
                                         const std::string& network);
  // Checkpoint selection: keeps the target network of each validator's best point so far
  // (and of the best curve test accuracy, "oracle", for information).
  void update_picks(int64_t step, const std::map<std::string, double>& values, double test_top1);
  // Every pick's network on the whole target test set (at the run's end).
  std::map<std::string, io::PickResult> evaluate_picks();
  void preview(EventSink& sink, int stage, int64_t step, models::FanNet& net, const data::ImageSet& set,
               const std::string& domain);
  // One live-embedding frame of the target network on live_rows_ (eval.live_embedding_images).
  void live_embedding(EventSink& sink, int64_t step);
  io::Results results(const std::string& status) const;

  io::ExperimentConfig config_;
  io::RunDirectory run_dir_;
  io::RunState state_;
  torch::Device device_{torch::kCPU};
  std::shared_ptr<data::ImageSet> source_train_, source_test_, target_train_, target_test_;
  std::shared_ptr<data::ImageSet> target_validation_;  // null unless target.validation > 0
  // The sets the curves' evaluations use during training (eval.images; the whole sets when 0).
  std::shared_ptr<const data::ImageSet> curve_source_test_, curve_target_test_, curve_target_validation_;
  // Unlabelled target training images the validators see (eval.validator_images; null when 0).
  std::shared_ptr<const data::ImageSet> validator_images_;
  // Labelled source images the protocol left unused (source.validation), for DEV; null when none.
  std::shared_ptr<const data::ImageSet> source_held_out_;
  std::map<std::string, torch::Tensor> preview_images_;  // per domain, loaded once
  // The live embedding's fixed sample: rows of the source and the target test set (empty: off),
  // and the writer that stores its frames in the run directory (rank 0).
  std::vector<int64_t> live_rows_[2];
  bool live_images_sent_ = false;  // the first frame this process sends carries the sample's images
  std::unique_ptr<io::EmbeddingFrameWriter> frames_;
  models::FanNet source_net_{nullptr}, target_net_{nullptr};
  models::Discriminator discriminator_{nullptr};
  std::unique_ptr<SourceTrainer> source_trainer_;
  std::unique_ptr<TargetAdapter> adapter_;
  std::unique_ptr<io::MetricsWriter> metrics_;
  std::map<std::string, io::PickResult> pick_results_;  // evaluate_picks(), for the results
  bool data_loaded_ = false;
  // Data-parallel runs: the group (null: one process) and this rank's share of the current global batch.
  dist::Group* group_ = nullptr;
  double share_ = 1.0;
  // Rows [begin, end) of a global batch of `n` that this rank trains on; sets share_.
  std::pair<int64_t, int64_t> my_slice(int64_t n);
  // The ranks' step: combined losses, and whether any rank asked to stop (all then stop together).
  bool agree_on_step(std::map<std::string, double>& losses, bool stop_requested);
  // Rank 0's parameters and buffers (and the AdaBN class-mix estimate) to every rank.
  void broadcast_networks(const std::vector<torch::nn::Module*>& modules);
  void install_gradient_sync();
};

}  // namespace fan::train
