// An experiment end to end.
#include "core/train/experiment.h"


#include "core/data/batcher.h"
#include "core/data/preprocess.h"
#include "core/dist/group.h"
#include "core/io/checkpoint.h"
#include "core/models/norm.h"
#include "core/models/pretrained.h"
#include "core/train/evaluation.h"
#include "core/analysis/validators.h"
#include "core/util/error.h"
#include "core/util/numerics.h"
#include "core/util/version.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace fan::train {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Images shown in the reconstruction previews (a fixed set: the first test images).
constexpr int64_t kPreviewImages = 8;
// Source-test evaluations spread over stage 1 (plus one at its end).
constexpr int64_t kStage1Evaluations = 10;
// AdaBN on a streamed target: batch-norm statistics of at most this many images.
constexpr int64_t kAdaBnStreamImages = 5000;
// Distinct seed streams for the things a run draws at random.
constexpr uint64_t kTargetSampleSalt = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kSourceBatchSalt = 0xBF58476D1CE4E5B9ULL;
constexpr uint64_t kTargetBatchSalt = 0x94D049BB133111EBULL;
constexpr uint64_t kStage2SourceBatchSalt = 0x2545F4914F6CDD1DULL;
constexpr uint64_t kSourcePriorSalt = 0xD6E8FEB86659FD93ULL;
constexpr uint64_t kCurveSubsetSalt = 0x5851F42D4C957F2DULL;
constexpr uint64_t kValidatorSalt = 0x14057B7EF767814FULL;
constexpr uint64_t kLiveEmbeddingSalt = 0x3C79AC492BA7B653ULL;
constexpr uint64_t kDiscriminatorDrawSalt = 0x7FB5D329728EA185ULL;
// stage2.draw k moves every stage-2 stream by k strides (the streams' salts stay apart).
constexpr uint64_t kDrawStride = 0x9FB21C651E98DF25ULL;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool all_finite(const std::map<std::string, double>& losses) {
  for (const auto& [name, value] : losses)
    if (!std::isfinite(value)) return false;
  return true;
}


// Timing of a stage's loop: wall time (across resumes) and images/s between logs.
class StageClock {
 public:
  explicit StageClock(double seconds_before) : before_(seconds_before) {}
  void count(int64_t images) { images_ += images; }
  double elapsed() const { return before_ + seconds_since(started_); }
  double this_process() const { return seconds_since(started_); }
  double take_rate() {
    const double rate = images_ / std::max(1e-9, seconds_since(last_));
    last_ = Clock::now();
    images_ = 0;
    return rate;
  }

 private:
  double before_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_ = Clock::now();
  int64_t images_ = 0;
};



// A fixed subset of a set (eval.images): the curves' evaluations use it, the final numbers never do.
class SubsetSet : public data::ImageSet {
 public:
  SubsetSet(std::shared_ptr<const data::ImageSet> parent, std::vector<int64_t> rows)
      : parent_(std::move(parent)),
        rows_(torch::tensor(rows, torch::kLong)),
        labels_(parent_->labels().index_select(0, rows_.to(parent_->labels().device()))) {}
  int64_t size() const override { return rows_.size(0); }
  int64_t num_classes() const override { return parent_->num_classes(); }
  const std::string& name() const override { return parent_->name(); }
  const torch::Tensor& labels() const override { return labels_; }
  torch::Tensor images(const torch::Tensor& indices, bool augment, uint64_t seed) const override {
    return parent_->images(rows_.index_select(0, indices.to(torch::kCPU, torch::kLong)), augment, seed);
  }
  bool streams() const override { return parent_->streams(); }

 private:
  std::shared_ptr<const data::ImageSet> parent_;
  torch::Tensor rows_, labels_;
};

// `count` rows of `set` drawn with `seed` (ascending, so batches read in file order), or the whole set.
std::shared_ptr<const data::ImageSet> curve_subset(const std::shared_ptr<data::ImageSet>& set, int64_t count,
                                                   uint64_t seed) {
  if (!set || count <= 0 || count >= set->size()) return set;
  const auto rows = data::sample_indices(set->size(), count, seed);
  return std::make_shared<SubsetSet>(set, std::vector<int64_t>(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel()));
}

StepEvent step_event(int stage, int64_t step, int64_t total, int64_t epoch, std::map<std::string, double> losses,
                     std::map<std::string, double> learning_rates, StageClock& clock) {
  StepEvent event;
  event.stage = stage;
  event.step = step;
  event.total_steps = total;
  event.epoch = epoch;
  event.losses = std::move(losses);
  event.learning_rates = std::move(learning_rates);
  event.images_per_second = clock.take_rate();
  event.elapsed_seconds = clock.elapsed();
  return event;
}

EvaluationEvent to_event(const Evaluation& e, int stage, int64_t step, const std::string& split,
                         const std::string& network, int64_t images) {
  EvaluationEvent event;
  event.stage = stage;
  event.step = step;
  event.split = split;
  event.network = network;
  event.images = images;
  event.top1 = e.top1;
  event.top5 = e.top5;
  event.per_class = e.per_class;
  event.confusion = e.confusion;
  return event;
}

io::Accuracy accuracy_of(const Evaluation& e, bool with_classes) {
  io::Accuracy a;
  a.top1 = e.top1;
  a.top5 = e.top5;
  if (with_classes) {
    a.per_class = e.per_class;
    a.confusion = e.confusion;
  }
  return a;
}

}  // namespace

ImageBuffer to_image_buffer(const torch::Tensor& chw) {
  const auto t = (chw.detach().to(torch::kCPU).clamp(0, 1) * 255.0).round().to(torch::kUInt8)
                     .permute({1, 2, 0}).contiguous();
  ImageBuffer image;
  image.height = static_cast<int>(t.size(0));
  image.width = static_cast<int>(t.size(1));
  image.channels = static_cast<int>(t.size(2));
  image.pixels.assign(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel());
  return image;
}

void check_finite(const std::map<std::string, double>& losses, int stage, int64_t step,
                  const std::filesystem::path& checkpoint, const std::string& hint, EventSink& sink) {
  if (all_finite(losses)) return;
  const std::string message = "stage " + std::to_string(stage) + ", step " + std::to_string(step) +
                              ": the loss became non-finite (" + json(losses).dump() +
                              "); the last good checkpoint is " + checkpoint.string() + " (" + hint + ")";
  sink.on_error(message);
  throw Error(message);
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (!torch::cuda::is_available())
    throw Error("device: \"" + name + "\" asked for, but this LibTorch build has no CUDA device "
                "(use \"cpu\" or \"auto\", or build against a CUDA LibTorch)");
  const torch::Device device(name);
  if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count()))
    throw Error("device: \"" + name + "\" does not exist; this machine has " +
                std::to_string(torch::cuda::device_count()) + " CUDA device(s)");
  return device;
}

int apply_threads(int64_t threads) {
  const int n = threads > 0 ? static_cast<int>(threads)
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

io::RunState stage1_source_state(const io::ExperimentConfig& config, const std::filesystem::path& run_dir) {
  const std::filesystem::path from = config.stage1_from;
  io::RunDirectory other(from);
  const auto field = [&](const std::string& what) { return Error("stage1.from: " + from.string() + ": " + what); };
  if (!std::filesystem::is_directory(from)) throw field("no such run directory");
  std::error_code ec;
  if (std::filesystem::equivalent(from, run_dir, ec)) throw field("is this run itself");
  if (!other.has_checkpoint()) throw field("has no checkpoint (its stage 1 has not finished)");
  if (const auto d = io::stage1_difference(config.resolved, other.read_config()))
    throw field("its stage 1 ran with another " + d->key + " (" + d->there + "; this run: " + d->here +
                "): the same stage-1 network needs the same data, networks, stage-1 losses and settings and seed");
  const auto path = other.checkpoint_path();
  auto state = io::run_state_from_json(io::read_checkpoint_state(path), path.string());
  if (state.stage == io::Stage::kSource) throw field("its stage 1 has not finished");
  if (config.stage2_source_prior == "target_estimate" && state.target_prior_estimate.empty())
    throw field("holds no AdaBN class-mix estimate (it ran with stage2.source_prior \"source\"), which "
                "stage2.source_prior \"target_estimate\" needs");
  return state;
}

Experiment::Experiment(io::ExperimentConfig config, std::filesystem::path run_dir)
    : config_(std::move(config)), run_dir_(std::move(run_dir)), group_(dist::current()) {
  // Rank 0 alone writes the run directory, after checking what it will start from.
  if (leader() && !config_.stage1_from.empty()) stage1_source_state(config_, run_dir_.path());
  if (leader()) {
    run_dir_.create(config_.resolved);
    metrics_ = std::make_unique<io::MetricsWriter>(run_dir_.metrics_path(), 0);
  }
}

Experiment::Experiment(io::ExperimentConfig config, io::RunDirectory run_dir, io::RunState state)
    : config_(std::move(config)), run_dir_(std::move(run_dir)), state_(std::move(state)), group_(dist::current()) {
  // The metrics stream is opened (and cut back to the checkpoint) only when
  // the run continues, so inspecting a run never changes its files.
}

std::unique_ptr<Experiment> Experiment::resume(const std::filesystem::path& dir) {
  io::RunDirectory run_dir(dir);
  if (!std::filesystem::is_directory(dir)) throw Error(dir.string() + ": no such run directory");
  auto config = io::ExperimentConfig::from_json(run_dir.read_config(), run_dir.config_path().string());
  io::RunState state;
  if (run_dir.has_checkpoint()) state = run_dir.read_state();
  return std::unique_ptr<Experiment>(new Experiment(std::move(config), std::move(run_dir), std::move(state)));
}

void Experiment::load_data() {
  if (data_loaded_) return;
  const auto root = data::resolve_data_root(config_.data_root);
  const auto seed = static_cast<uint64_t>(config_.seed);
  std::vector<std::string> source_classes, target_classes;
  if (config_.stream) {
    auto source = data::stream_folder_domain(config_.source, config_.preprocess, root, seed);
    auto target = data::stream_folder_domain(config_.target, config_.preprocess, root, seed ^ kTargetSampleSalt);
    source_train_ = source.train;
    source_test_ = source.test;
    target_train_ = target.train;
    target_test_ = target.test;
    source_classes = std::move(source.class_names);
    target_classes = std::move(target.class_names);
  } else {
    auto source = data::load_domain(config_.source, config_.preprocess, root, seed);
    auto target = data::load_domain(config_.target, config_.preprocess, root, seed ^ kTargetSampleSalt);
    for (auto* d : {&source.train, &source.test, &target.train, &target.test}) {
      d->images = d->images.to(device_);
      d->labels = d->labels.to(device_);
    }
    source_train_ = std::make_shared<data::MemorySet>(std::move(source.train));
    source_test_ = std::make_shared<data::MemorySet>(std::move(source.test));
    target_train_ = std::make_shared<data::MemorySet>(std::move(target.train));
    target_test_ = std::make_shared<data::MemorySet>(std::move(target.test));
    if (source.held_out.size() > 0) {
      source.held_out.images = source.held_out.images.to(device_);
      source.held_out.labels = source.held_out.labels.to(device_);
      source_held_out_ = std::make_shared<data::MemorySet>(std::move(source.held_out));
    }
    if (target.validation.size() > 0) {
      target.validation.images = target.validation.images.to(device_);
      target.validation.labels = target.validation.labels.to(device_);
      target_validation_ = std::make_shared<data::MemorySet>(std::move(target.validation));
    }
    source_classes = std::move(source.class_names);
    target_classes = std::move(target.class_names);
  }
  if (source_train_->num_classes() != target_train_->num_classes())
    throw Error("target.dataset: the domains have different class counts (" +
                std::to_string(source_train_->num_classes()) + " vs " +
                std::to_string(target_train_->num_classes()) + ")");
  // Folder domains name their classes: the same count is not enough, the labels must mean the same.
  if (!source_classes.empty() && !target_classes.empty() && source_classes != target_classes) {
    std::string missing;
    for (const auto& c : source_classes)
      if (std::find(target_classes.begin(), target_classes.end(), c) == target_classes.end())
        missing += (missing.empty() ? "" : ", ") + c;
    throw Error("target.folder: the target's classes differ from the source's" +
                (missing.empty() ? std::string(" (same count, other names)") : " (missing: " + missing + ")"));
  }
  for (const auto* set : {source_train_.get(), source_test_.get(), target_train_.get(), target_test_.get()}) {
    if (set->size() < 2) throw Error(set->name() + ": needs at least two images, has " + std::to_string(set->size()));
  }
  const auto subset_seed = static_cast<uint64_t>(config_.seed) ^ kCurveSubsetSalt;
  curve_source_test_ = curve_subset(source_test_, config_.eval_images, subset_seed);
  curve_target_test_ = curve_subset(target_test_, config_.eval_images, subset_seed + 1);
  curve_target_validation_ = curve_subset(target_validation_, config_.eval_images, subset_seed + 2);
  if (config_.eval_validator_images > 0)
    validator_images_ = curve_subset(target_train_, config_.eval_validator_images,
                                     static_cast<uint64_t>(config_.seed) ^ kValidatorSalt);
  if (config_.eval_live_embedding_images > 0) {
    const auto live_seed = static_cast<uint64_t>(config_.seed) ^ kLiveEmbeddingSalt;
    for (int domain : {0, 1}) {
      const auto& set = domain == 0 ? source_test_ : target_test_;
      const auto rows = data::sample_indices(set->size(), std::min(config_.eval_live_embedding_images, set->size()),
                                             live_seed + static_cast<uint64_t>(domain));
      live_rows_[domain].assign(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel());
    }
  }
  // ClassAMI clusters the validator images into as many clusters as classes; DEV fits a domain classifier.
  const int64_t classes = target_train_->num_classes();
  if (validator_images_ && validator_images_->size() < std::max<int64_t>(2, classes))
    throw Error("eval.validator_images: " + std::to_string(validator_images_->size()) +
                " images are too few for the validators (ClassAMI needs at least one per class: " +
                std::to_string(classes) + "; or 0 to turn them off)");
  if (source_held_out_ && source_held_out_->size() < 2)
    throw Error("source.validation: " + std::to_string(source_held_out_->size()) +
                " held-out source image is too few for DEV (at least 2; or 0 to turn DEV off)");
  data_loaded_ = true;
}

void Experiment::build_networks() {
  // stage1.draw k: other initial weights (the discriminator's too) from the same seed.
  torch::manual_seed(stage1_seed(0) & 0x7FFFFFFFFFFFFFFFULL);
  const auto options = config_.net_options(source_train_->num_classes());
  source_net_ = models::FanNet(options);
  target_net_ = models::FanNet(options);
  // Deep encoders: the target network uses the source's first stages (frozen in stage 2).
  target_net_->share_encoder_stages(*source_net_, config_.shared_stages);
  discriminator_ = models::Discriminator(options.num_classes, config_.discriminator_layers(),
                                         config_.discriminator_batch_norm);
  source_net_->to(device_);
  target_net_->to(device_);
  discriminator_->to(device_);

  SourceTrainerOptions s;
  s.alpha = config_.alpha;
  s.beta = config_.beta;
  s.lm_per_unit = config_.lm_per_unit;
  s.lr = config_.stage1_lr;
  s.beta1 = config_.stage1_beta1;
  s.beta2 = config_.stage1_beta2;
  s.mixed_precision = mixed_precision();
  source_trainer_ = std::make_unique<SourceTrainer>(source_net_, s);
}

std::pair<io::ModuleMap, io::OptimizerMap> Experiment::checkpoint_contents() {
  // Stage 1 trains the source network; from stage 2 on, the target network
  // and the discriminator train against the frozen source network.
  io::ModuleMap modules = {{"source", source_net_.get()}};
  io::OptimizerMap optimizers;
  if (adapter_) {
    modules["target"] = target_net_.get();
    modules["discriminator"] = discriminator_.get();
    optimizers["target"] = &adapter_->target_optimizer();
    optimizers["discriminator"] = &adapter_->discriminator_optimizer();
  } else {
    optimizers["source"] = &source_trainer_->optimizer();
  }
  return {modules, optimizers};
}

void Experiment::checkpoint() {
  if (!leader()) return;  // rank 0 writes; the others hold the same networks
  const auto started = Clock::now();
  state_.metrics_lines = metrics_->lines();
  const auto [modules, optimizers] = checkpoint_contents();
  io::save_checkpoint(run_dir_.checkpoint_path(), modules, optimizers, io::to_json(state_));
  state_.seconds["checkpoints"] += seconds_since(started);
}

bool Experiment::wait_while_paused(StopToken& stop) {
  while (stop.paused() && !stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return stop.stop_requested();
}

std::map<std::string, double> Experiment::validate(EventSink& sink, models::FanNet& net, int stage, int64_t step,
                                                   const std::string& network) {
  if (!validator_images_) return {};
  const auto started = Clock::now();
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  // Logits and features (the task-specific ht, what the logit map reads; ADDA has none: its logits).
  auto outputs = [&](const data::ImageSet& set, torch::Tensor* labels) {
    std::vector<torch::Tensor> logits, features, truth;
    data::for_each_batch(set, config_.eval_batch_size, config_.workers, [&](const data::Batch& b) {
      const auto out = net->features(b.images.to(device_));
      logits.push_back(out.logits.to(torch::kCPU, torch::kFloat));
      features.push_back((out.task_specific.defined() ? out.task_specific : out.logits).to(torch::kCPU, torch::kFloat));
      truth.push_back(b.labels.to(torch::kCPU, torch::kLong));
    });
    if (labels) *labels = torch::cat(truth);
    return std::pair{torch::cat(logits), torch::cat(features)};
  };
  const auto [logits, features] = outputs(*validator_images_, nullptr);
  std::map<std::string, double> values =
      analysis::label_free_validators(logits, features, static_cast<uint64_t>(config_.seed) ^ kValidatorSalt);
  if (source_held_out_) {
    torch::Tensor labels;
    const auto [source_logits, source_features] = outputs(*source_held_out_, &labels);
    const auto losses = torch::nn::functional::cross_entropy(
        source_logits.to(torch::kDouble), labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
    const auto dev = analysis::deep_embedded_validation(analysis::importance_weights(source_features, features), losses);
    values["dev"] = dev.dev;
    values["devn"] = dev.devn;
    // The simple baseline: accuracy on held-out source images.
    values["source_accuracy"] = (source_logits.argmax(1) == labels).to(torch::kDouble).mean().item<double>();
  }
  net->train(was_training);
  ValidatorEvent event;
  event.stage = stage;
  event.step = step;
  event.network = network;
  event.images = validator_images_->size();
  event.values = std::move(values);
  sink.on_validators(event);
  state_.seconds["validators"] += seconds_since(started);
  return event.values;
}

void Experiment::update_picks(int64_t step, const std::map<std::string, double>& values, double test_top1) {
  const auto started = Clock::now();
  auto candidates = values;
  candidates["oracle"] = test_top1;
  for (const auto& [name, value] : candidates) {
    const auto it = state_.picks.find(name);
    const auto best = it == state_.picks.end() ? std::nullopt : std::optional<double>(it->second.value);
    if (!analysis::improves(best, value, name)) continue;
    // Written atomically; a resumed run repeats the same evaluations and so the same picks.
    const auto path = run_dir_.pick_path(name);
    std::filesystem::create_directories(path.parent_path());
    io::save_checkpoint(path, {{"target", target_net_.get()}}, {}, {{"validator", name}, {"step", step}, {"value", value}});
    state_.picks[name] = {step, value};
  }
  state_.seconds["picks"] += seconds_since(started);
}

std::map<std::string, io::PickResult> Experiment::evaluate_picks() {
  std::map<std::string, io::PickResult> out;
  for (const auto& [name, pick] : state_.picks) {
    models::FanNet net(target_net_->options);
    net->to(device_);
    io::load_checkpoint(run_dir_.pick_path(name), {{"target", net.get()}}, {});
    const auto e = evaluate(net, *target_test_, config_.eval_batch_size, config_.workers);
    out[name] = {pick.step, pick.value, e.top1, e.top5};
  }
  return out;
}

void Experiment::preview(EventSink& sink, int stage, int64_t step, models::FanNet& net, const data::ImageSet& set,
                         const std::string& domain) {
  if (!net->has_decoder()) return;
  torch::NoGradGuard no_grad;
  auto& images = preview_images_[domain];
  if (!images.defined()) {
    const auto first = torch::arange(std::min(kPreviewImages, set.size()), torch::kInt64);
    images = set.images(first, /*augment=*/false, 0).to(device_);
  }
  const bool was_training = net->is_training();
  net->eval();
  const auto reconstruction = net->forward(images).reconstruction;
  net->train(was_training);
  PreviewEvent event;
  event.stage = stage;
  event.step = step;
  event.domain = domain;
  const auto originals = net->reconstruction_target(images);  // at the decoder's size
  for (int64_t i = 0; i < images.size(0); ++i) {
    event.originals.push_back(to_image_buffer(originals[i]));
    event.reconstructions.push_back(to_image_buffer(reconstruction[i]));
  }
  sink.on_preview(event);
}

void Experiment::live_embedding(EventSink& sink, int64_t step) {
  torch::NoGradGuard no_grad;
  const bool was_training = target_net_->is_training();
  target_net_->eval();
  EmbeddingFrameEvent frame;
  frame.stage = 2;
  frame.step = step;
  std::vector<torch::Tensor> logits, hd;
  for (int domain : {0, 1}) {
    const auto& set = domain == 0 ? *source_test_ : *target_test_;
    const auto& rows = live_rows_[domain];
    const auto labels = set.labels().to(torch::kCPU, torch::kLong).contiguous();
    const auto* label_of = labels.data_ptr<int64_t>();
    for (size_t begin = 0; begin < rows.size(); begin += static_cast<size_t>(config_.eval_batch_size)) {
      const size_t end = std::min(rows.size(), begin + static_cast<size_t>(config_.eval_batch_size));
      const auto indices = torch::tensor(std::vector<int64_t>(rows.begin() + begin, rows.begin() + end), torch::kLong);
      const auto images = set.images(indices, /*augment=*/false, 0);
      if (!live_images_sent_) {
        // Thumbnails: large images shrunk to 56×56 (a thousand 224×224 RGB images would be 150 MB).
        const auto thumbs = images.size(2) > 64 || images.size(3) > 64
                                ? torch::nn::functional::interpolate(
                                      images, torch::nn::functional::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{56, 56})
                                                  .mode(torch::kArea))
                                : images;
        for (int64_t i = 0; i < thumbs.size(0); ++i) frame.images.push_back(to_image_buffer(thumbs[i]));
      }
      const auto out = target_net_->features(images.to(device_));
      logits.push_back(out.logits.to(torch::kCPU, torch::kFloat));
      if (out.domain_specific.defined()) hd.push_back(out.domain_specific.flatten(1).to(torch::kCPU, torch::kFloat));
      for (size_t i = begin; i < end; ++i) {
        frame.domain.push_back(domain);
        frame.label.push_back(static_cast<int32_t>(label_of[rows[i]]));
        frame.index.push_back(static_cast<int32_t>(rows[i]));
      }
    }
  }
  target_net_->train(was_training);
  const auto l = torch::cat(logits).contiguous();
  frame.rows = l.size(0);
  frame.logit_cols = l.size(1);
  frame.logits.assign(l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
  if (!hd.empty()) {
    const auto h = torch::cat(hd).contiguous();
    frame.hd_cols = h.size(1);
    frame.hd.assign(h.data_ptr<float>(), h.data_ptr<float>() + h.numel());
  }
  live_images_sent_ = true;
  sink.on_embedding_frame(frame);
}

void Experiment::run_stage(StageLoop& loop, EventSink& sink, StopToken& stop) {
  auto& position = state_.position(loop.stage);
  int64_t step = position.step;
  if (step > 0) {
    for (auto& [name, stream] : loop.streams) {
      const auto& p = position.streams.at(name);
      stream->restore(p.epoch, p.cursor);
    }
  } else {
    sink.on_stage({loop.stage, loop.name, loop.total});
  }
  StageClock clock(position.seconds);
  auto save_position = [&] {
    position.step = step;
    position.seconds = clock.elapsed();
    for (auto& [name, stream] : loop.streams) position.streams[name] = {stream->epoch(), stream->cursor()};
  };
  // Where the stage's time goes: training steps, and what the run does besides (measured per hook).
  auto timed = [&](const char* what, const auto& hook) {
    const auto started = Clock::now();
    hook();
    state_.seconds[what] += seconds_since(started);
  };
  // The live embedding starts from the network the stage starts with (step 0), then follows the previews.
  const bool live = leader() && loop.live_embedding != nullptr;
  if (live && step == 0) timed("live_embedding", [&] { loop.live_embedding(0, sink); });
  // Ranks stop together: a stop asked on any rank is agreed on after the step it arrived in.
  bool agreed_stop = false;
  while (step < loop.total) {
    if (group_ ? agreed_stop : (stop.stop_requested() || wait_while_paused(stop))) break;
    int64_t images = 0;
    std::map<std::string, double> losses;
    timed("train_steps", [&] {
      models::SyncBatchNormScope sync_bn(group_ && config_.sync_batch_norm ? group_ : nullptr, &share_);
      losses = loop.train_step(step, images);
      if (group_) {
        agreed_stop = agree_on_step(losses, stop.stop_requested());
        if (agreed_stop) stop.request_stop();
      }
    });
    ++step;
    clock.count(images);
    check_finite(losses, loop.stage, step, run_dir_.checkpoint_path(), loop.nan_hint, sink);
    if (step % config_.log_every == 0 || step == loop.total)
      sink.on_step(step_event(loop.stage, step, loop.total, loop.epoch ? loop.epoch(step) : 0, losses,
                              loop.learning_rates, clock));
    if (leader() && config_.preview_every > 0 && (step % config_.preview_every == 0 || step == loop.total))
      timed("previews", [&] { loop.preview(step, sink); });
    if (live && config_.preview_every > 0 && (step % config_.preview_every == 0 || step == loop.total))
      timed("live_embedding", [&] { loop.live_embedding(step, sink); });
    if (leader() && loop.evaluate_at(step)) timed("evaluations", [&] { loop.evaluate(step, sink); });
    if (step % config_.checkpoint_every == 0 && step < loop.total) {
      save_position();
      checkpoint();
    }
  }
  save_position();
  double waited = 0;
  for (auto& [name, stream] : loop.streams) waited += stream->waited_seconds();
  note_loader_wait(sink, loop.stage, waited, clock.this_process());
}

void Experiment::run_stage1(EventSink& sink, StopToken& stop) {
  if (group_) broadcast_networks({source_net_.get()});  // every rank starts from rank 0's weights
  data::BatchStream batcher(source_train_, config_.stage1_batch_size,
                            stage1_seed(kSourceBatchSalt), /*augment=*/true, config_.workers);
  const int64_t per_epoch = batcher.batches_per_epoch();
  const int64_t eval_every_epochs = std::max<int64_t>(1, config_.stage1_epochs / kStage1Evaluations);
  StageLoop loop;
  loop.stage = 1;
  loop.name = "source";
  loop.total = config_.stage1_epochs * per_epoch;
  loop.streams = {{"source", &batcher}};
  loop.learning_rates = {{"source", config_.stage1_lr}};
  loop.nan_hint = "try a lower stage1.lr";
  loop.train_step = [&](int64_t, int64_t& count) {
    const auto batch = batcher.next();
    count = batch.images.size(0);  // the global batch
    const auto [begin, end] = my_slice(count);
    const auto images = batch.images.narrow(0, begin, end - begin).to(device_);
    const auto labels = batch.labels.narrow(0, begin, end - begin).to(device_);
    return source_trainer_->step(images, labels);
  };
  loop.epoch = [&](int64_t step) { return (step - 1) / per_epoch + 1; };
  loop.preview = [&](int64_t step, EventSink& s) { preview(s, 1, step, source_net_, *source_test_, "source"); };
  // The stage's last evaluation is the source-only one on the whole source test set (evaluate_source_only).
  loop.evaluate_at = [&, total = loop.total](int64_t step) {
    return step % per_epoch == 0 && (step / per_epoch) % eval_every_epochs == 0 && step < total;
  };
  loop.evaluate = [&](int64_t step, EventSink& s) {
    const auto e = evaluate(source_net_, *curve_source_test_, config_.eval_batch_size, config_.workers);
    s.on_evaluation(to_event(e, 1, step, "source_test", "source", curve_source_test_->size()));
  };
  run_stage(loop, sink, stop);
}

void Experiment::note_loader_wait(EventSink& sink, int stage, double waited, double seconds) {
  if (!config_.stream) return;
  // Measured by this process (the last part of a resumed stage).
  state_.loader_wait[stage] = {waited, seconds};
  sink.on_message("stage " + std::to_string(stage) + ": the network waited " + std::to_string(waited) +
                  " s on the image loader, " + std::to_string(seconds > 0 ? 100 * waited / seconds : 0.0) +
                  " % of " + std::to_string(seconds) + " s");
}

void Experiment::evaluate_source_only(EventSink& sink) {
  const auto started = Clock::now();
  const int64_t step = state_.stage1.step;
  const auto plain = evaluate(source_net_, *target_test_, config_.eval_batch_size, config_.workers);
  const auto source_test = evaluate(source_net_, *source_test_, config_.eval_batch_size, config_.workers);
  sink.on_evaluation(to_event(source_test, 1, step, "source_test", "source", source_test_->size()));
  sink.on_evaluation(to_event(plain, 1, step, "target_test", "source", target_test_->size()));
  // AdaBN: the same weights with batch-norm statistics of the target domain.
  models::FanNet adabn(source_net_->options);
  adabn->to(device_);
  models::copy_state(*source_net_, *adabn);
  // Streamed sets: the statistics of (at most) the first kAdaBnStreamImages target images.
  reestimate_batch_norm(adabn, *target_train_, config_.stage1_batch_size, config_.workers,
                        target_train_->streams() ? kAdaBnStreamImages : -1);
  const auto adapted_bn = evaluate(adabn, *target_test_, config_.eval_batch_size, config_.workers);
  state_.source_only = accuracy_of(plain, /*with_classes=*/true);
  // The validators' starting points: the stage-1 network, plain and with target statistics.
  validate(sink, source_net_, 1, step, "source");
  validate(sink, adabn, 1, step, "adabn");
  if (target_validation_) {
    const auto v = evaluate(source_net_, *target_validation_, config_.eval_batch_size, config_.workers);
    sink.on_evaluation(to_event(v, 1, step, "target_validation", "source", target_validation_->size()));
    state_.validation_source_only = v.top1;
  }
  state_.source_only_adabn = accuracy_of(adapted_bn, /*with_classes=*/false);
  if (config_.stage2_source_prior == "target_estimate") {
    // Hard predictions of the AdaBN network on the (unlabelled) target training images
    // (in memory: the config refuses this setting with streamed sets).
    const auto& target = static_cast<const data::MemorySet&>(*target_train_);
    const auto predicted = predict_logits(adabn, target.dataset().images, config_.eval_batch_size).argmax(1);
    const auto counts = torch::bincount(predicted.to(torch::kCPU), {}, target_train_->num_classes()).to(torch::kDouble);
    const auto prior = counts / counts.sum();
    state_.target_prior_estimate.assign(prior.data_ptr<double>(), prior.data_ptr<double>() + prior.numel());
    std::string text;
    for (double v : state_.target_prior_estimate) text += (text.empty() ? "" : " ") + std::to_string(v).substr(0, 5);
    sink.on_message("target class proportions estimated by AdaBN on " + std::to_string(target_train_->size()) +
                    " target training images: " + text);
  }
  state_.source_test = accuracy_of(source_test, /*with_classes=*/false);
  sink.on_message("source only: target test top-1 " + std::to_string(plain.top1) + " (with target BN statistics " +
                  std::to_string(adapted_bn.top1) + "), source test top-1 " + std::to_string(source_test.top1));
  state_.seconds["source_only_evaluation"] += seconds_since(started);
}

void Experiment::run_stage2(EventSink& sink, StopToken& stop) {
  // In-memory source images never change, so their frozen logits are computed
  // once and the source stream hands out indices only; streamed ones are
  // augmented per batch and go through the source network.
  // Every rank from rank 0's networks, batch-norm statistics included: the frozen source network's
  // logits (eval mode) must be the same on every rank.
  if (group_) broadcast_networks({source_net_.get(), target_net_.get(), discriminator_.get()});
  const auto* memory_source = dynamic_cast<const data::MemorySet*>(source_train_.get());
  data::BatchStream source_batcher(source_train_, config_.stage2_batch_size,
                                   stage2_seed(kStage2SourceBatchSalt), true, config_.workers,
                                   /*load_images=*/memory_source == nullptr);
  data::BatchStream target_batcher(target_train_, config_.stage2_batch_size,
                                   stage2_seed(kTargetBatchSalt), true, config_.workers);
  if (memory_source != nullptr) adapter_->precompute_source_logits(memory_source->dataset().images);
  // stage2.source_prior = target_estimate: each source image drawn with weight
  // p̂_target(y) / p_source(y), so D's source side has the target's estimated class mix.
  if (group_ && config_.stage2_source_prior == "target_estimate") {
    // Rank 0 estimated the target's class mix (evaluate_source_only); every rank draws by it.
    auto prior = torch::zeros({source_train_->num_classes()}, torch::kDouble);
    if (leader()) prior = torch::tensor(state_.target_prior_estimate, torch::kDouble);
    group_->broadcast({prior}, "the AdaBN class-mix estimate");
    state_.target_prior_estimate.assign(prior.data_ptr<double>(), prior.data_ptr<double>() + prior.numel());
  }
  torch::Tensor source_weights;
  if (config_.stage2_source_prior == "target_estimate") {
    // In memory (the config refuses streamed sets); both domains have the same classes (load_data).
    const auto labels = memory_source->dataset().labels.to(torch::kCPU, torch::kLong);
    const auto source_prior =
        torch::bincount(labels, {}, source_train_->num_classes()).to(torch::kDouble) / labels.numel();
    const auto target_prior = torch::tensor(state_.target_prior_estimate, torch::kDouble);
    source_weights = (target_prior / source_prior.clamp_min(1e-12)).index_select(0, labels).to(torch::kFloat);
  }
  StageLoop loop;
  loop.stage = 2;
  loop.name = "adaptation";
  loop.total = config_.stage2_iterations;
  loop.streams = {{"source", &source_batcher}, {"target", &target_batcher}};
  loop.learning_rates = {{"target", config_.stage2_lr}, {"discriminator", config_.stage2_discriminator_lr}};
  loop.nan_hint = "try lower stage2 learning rates";
  loop.train_step = [&](int64_t done, int64_t& count) {
    auto source_batch = source_batcher.next();
    if (source_weights.defined()) {
      // One generator per step, seeded by (seed, step): a resumed run draws the same batches.
      auto generator = at::detail::createCPUGenerator(
          stage2_seed(kSourcePriorSalt) + static_cast<uint64_t>(done));
      source_batch.indices = torch::multinomial(source_weights, source_batch.indices.size(0), true, generator);
    }
    const auto target_batch = target_batcher.next().images;
    count = target_batch.size(0);  // the global batch
    // Data-parallel: this rank's rows of both halves (the same share of each).
    const auto [begin, end] = my_slice(count);
    const auto target_images = target_batch.narrow(0, begin, end - begin).to(device_);
    const int64_t n_source = source_batch.indices.size(0);
    const int64_t s_begin = begin * n_source / count, s_end = end * n_source / count;
    return memory_source != nullptr
               ? adapter_->step(source_batch.indices.narrow(0, s_begin, s_end - s_begin).to(device_), target_images)
               : adapter_->step_with_logits(
                     adapter_->source_logits_of(source_batch.images.narrow(0, s_begin, s_end - s_begin).to(device_)),
                     target_images);
  };
  loop.preview = [&](int64_t step, EventSink& s) { preview(s, 2, step, target_net_, *target_test_, "target"); };
  if (!live_rows_[0].empty()) loop.live_embedding = [&](int64_t step, EventSink& s) { live_embedding(s, step); };
  loop.evaluate_at = [&](int64_t step) {
    return (config_.eval_every > 0 && step % config_.eval_every == 0) || step == loop.total;
  };
  loop.evaluate = [&](int64_t step, EventSink& s) {
    // The last evaluation gives the adapted numbers: always on the whole sets.
    const bool last = step == loop.total;
    const auto& test = last ? target_test_ : curve_target_test_;
    const auto e = evaluate(target_net_, *test, config_.eval_batch_size, config_.workers);
    s.on_evaluation(to_event(e, 2, step, "target_test", "target", test->size()));
    if (last) state_.adapted = accuracy_of(e, /*with_classes=*/true);
    update_picks(step, validate(s, target_net_, 2, step, "target"), e.top1);
    if (target_validation_) {
      const auto& validation = last ? target_validation_ : curve_target_validation_;
      const auto v = evaluate(target_net_, *validation, config_.eval_batch_size, config_.workers);
      s.on_evaluation(to_event(v, 2, step, "target_validation", "target", validation->size()));
      if (last) state_.validation_adapted = v.top1;
    }
  };
  run_stage(loop, sink, stop);
}

io::Results Experiment::results(const std::string& status) const {
  io::Results r;
  r.status = status;
  r.name = config_.name;
  r.variant = models::to_string(config_.variant);
  r.encoder = models::to_string(config_.encoder);
  r.seed = config_.seed;
  r.source = config_.resolved["source"];
  r.target = config_.resolved["target"];
  r.framing = config_.preprocess.framing;
  r.source_only = state_.source_only;
  r.source_only_adabn = state_.source_only_adabn;
  r.source_test = state_.source_test;
  r.adapted = state_.adapted;
  r.target_prior_estimate = state_.target_prior_estimate;
  r.loader_wait = state_.loader_wait;
  r.validation_source_only = state_.validation_source_only;
  r.validation_adapted = state_.validation_adapted;
  if (target_validation_) r.validation_images = config_.target.validation;
  r.eval_images = config_.eval_images;
  r.stage1_seconds = state_.stage1.seconds;
  r.stage2_seconds = state_.stage2.seconds;
  r.stage1_steps = state_.stage1.step;
  r.stage2_steps = state_.stage == io::Stage::kSource ? 0 : state_.stage2.step;
  r.seconds = state_.seconds;
  r.picks = pick_results_;
  r.selected = config_.stage2_select;
  r.device = device_.str();
  r.threads = torch::get_num_threads();
  r.fan_version = FAN_VERSION;
  r.fan_commit = util::build_commit();
  r.torch_version = TORCH_VERSION;
  r.cpu = util::cpu_numerics().to_json();
  return r;
}

io::Results Experiment::run(EventSink* external_sink, StopToken* external_stop) {
  const auto started = Clock::now();
  if (!metrics_ && leader())
    metrics_ = std::make_unique<io::MetricsWriter>(run_dir_.metrics_path(), state_.metrics_lines);
  StopToken local_stop;
  StopToken& stop = external_stop ? *external_stop : local_stop;
  if (leader() && config_.eval_live_embedding_images > 0 && !frames_) {
    // A resumed run continues from its checkpoint: frames written after it are produced again.
    io::drop_embedding_frames_after(run_dir_.path(), state_.stage == io::Stage::kAdaptation ? state_.stage2.step : -1);
    frames_ = std::make_unique<io::EmbeddingFrameWriter>(run_dir_.path());
  }
  MultiSink sink({metrics_.get(), frames_.get(), external_sink});
  if (state_.stage == io::Stage::kFinished) {
    sink.on_message(run_dir_.path().string() + ": this run has already finished");
    auto done = run_dir_.read_results();
    sink.on_finished(done);
    return done;
  }
  const int threads = apply_threads(config_.threads);
  device_ = resolve_device(config_.device);
  sink.on_message("device " + device_.str() + ", " + std::to_string(threads) + " threads");
  {
    const auto& cpu = util::cpu_numerics();
    sink.on_message("CPU code paths " + cpu.path() + (cpu.model.empty() ? "" : " (" + cpu.model + ")") +
                    "; the same numbers again need the same paths");
  }
  load_data();
  if (config_.mixed_precision && !mixed_precision())
    sink.on_message("run.mixed_precision applies on CUDA only: this run computes in float32 on " + device_.str());
  sink.on_message("source " + config_.source.dataset + ": " + std::to_string(source_train_->size()) +
                  " training images; target " + config_.target.dataset + ": " +
                  std::to_string(target_train_->size()) + " training, " +
                  std::to_string(target_test_->size()) + " test images" +
                  (target_validation_ ? ", " + std::to_string(target_validation_->size()) + " held out for validation" : "") +
                  (config_.stream ? " (streamed, " + std::to_string(data::loader_threads(config_.workers)) +
                                        " loader threads)" : ""));
  if (validator_images_)
    sink.on_message("validators on " + std::to_string(validator_images_->size()) + " unlabelled target training images" +
                    (source_held_out_ ? " and " + std::to_string(source_held_out_->size()) +
                                            " held-out source images (DEV, DEVN, source accuracy)"
                                      : "; DEV off (no held-out source images: source.validation, or the "
                                        "protocol leaves none unused)"));
  build_networks();
  if (group_) {
    install_gradient_sync();
    sink.on_message("data-parallel: " + group_->environment().describe() + ", each global batch split across " +
                    std::to_string(group_->size()) + " ranks; batch norm " +
                    (config_.sync_batch_norm ? "synchronised" : "per rank") + "; rank 0 writes the run directory");
  }
  if (!run_dir_.has_checkpoint() && !config_.pretrained.empty() && config_.stage1_from.empty()) {
    // A fresh run starts its source encoder from torchvision's weights (a resumed one has its own).
    auto resnet = std::dynamic_pointer_cast<models::ResNetEncoderImpl>(source_net_->encoder);
    if (!resnet) throw Error("model.pretrained: the source encoder is not a ResNet");
    const auto report = models::load_torchvision_resnet(*resnet, config_.pretrained);
    sink.on_message("model.pretrained: " + config_.pretrained + ": " + report.summary() +
                    (config_.imagenet_normalization ? "; inputs normalised with ImageNet mean/std" : ""));
  }

  if (run_dir_.has_checkpoint()) {
    if (state_.stage == io::Stage::kAdaptation) make_adapter();
    restore_checkpoint();
  }
  // Everything before the first step (data, networks, restoring), this process's part.
  state_.seconds["setup"] += seconds_since(started);

  if (state_.stage == io::Stage::kSource && !config_.stage1_from.empty()) {
    // Rank 0 reads the other run; the others receive its networks when stage 2 starts (run_stage2).
    if (leader()) adopt_stage1(sink);
    start_stage2();
  } else if (state_.stage == io::Stage::kSource) {
    run_stage1(sink, stop);
    if (stop.stop_requested()) {
      return stopped(1, sink);
    }
    if (leader()) evaluate_source_only(sink);
    start_stage2();
  }

  run_stage2(sink, stop);
  if (stop.stop_requested()) {
    return stopped(2, sink);
  }
  state_.stage = io::Stage::kFinished;
  if (!leader()) {
    auto r = results("finished");  // rank 0 writes and reports the numbers
    sink.on_finished(r);
    return r;
  }
  pick_results_ = evaluate_picks();
  for (const auto& [name, pick] : pick_results_)
    sink.on_message("picked by " + name + (name == "oracle" ? " (for information: uses test labels)" : "") +
                    ": step " + std::to_string(pick.step) + ", target test top-1 " + std::to_string(pick.top1));
  auto r = results("finished");
  run_dir_.write_results(r);
  checkpoint();
  sink.on_finished(r);
  return r;
}

io::Results Experiment::stopped(int stage, EventSink& sink) {
  // The checkpoint at the stop is what `fan resume` continues from.
  checkpoint();
  sink.on_message("stopped in stage " + std::to_string(stage) + " at step " +
                  std::to_string(state_.position(stage).step) + "; resume with `fan resume " +
                  run_dir_.path().string() + "`");
  auto r = results("stopped");
  sink.on_finished(r);
  return r;
}

uint64_t Experiment::stage1_seed(uint64_t salt) const {
  // Draw 0 is the seed itself (salt 0: the networks' initialisation, as before stage1.draw existed).
  return (static_cast<uint64_t>(config_.seed) ^ salt) + static_cast<uint64_t>(config_.stage1_draw) * kDrawStride;
}

uint64_t Experiment::stage2_seed(uint64_t salt) const {
  return (static_cast<uint64_t>(config_.seed) ^ salt) + static_cast<uint64_t>(config_.stage2_draw) * kDrawStride;
}

void Experiment::start_stage2() {
  // Stage 2 starts from the trained source network.
  models::copy_state(*source_net_, *target_net_);
  if (config_.stage2_draw > 0) {
    // Another draw: D's initial weights from (seed, draw); draw 0 keeps the one built with the networks.
    torch::manual_seed(static_cast<uint64_t>(stage2_seed(kDiscriminatorDrawSalt) & 0x7FFFFFFFFFFFFFFFULL));
    const auto options = config_.net_options(source_train_->num_classes());
    discriminator_ = models::Discriminator(options.num_classes, config_.discriminator_layers(),
                                           config_.discriminator_batch_norm);
    discriminator_->to(device_);
  }
  make_adapter();
  state_.stage = io::Stage::kAdaptation;
  checkpoint();
}

void Experiment::adopt_stage1(EventSink& sink) {
  const std::filesystem::path from = config_.stage1_from;
  io::RunDirectory other(from);
  const auto other_state = stage1_source_state(config_, run_dir_.path());
  const auto path = other.checkpoint_path();
  // In stage 2 (or finished) the checkpoint's source network is the stage-1 network: stage 2 never trains it.
  io::load_checkpoint(path, {{"source", source_net_.get()}}, {});
  state_.stage1 = other_state.stage1;
  state_.source_only = other_state.source_only;
  state_.source_only_adabn = other_state.source_only_adabn;
  state_.source_test = other_state.source_test;
  state_.validation_source_only = other_state.validation_source_only;
  state_.target_prior_estimate = other_state.target_prior_estimate;
  if (const auto it = other_state.loader_wait.find(1); it != other_state.loader_wait.end())
    state_.loader_wait[1] = it->second;
  // Its stage-1 records (curves, source-only evaluations, the validators' starting points), as they were.
  int64_t copied = 0;
  for (const auto& record : other.read_metrics()) {
    if (io::stage_of(record) != 1) continue;
    std::visit([&](const auto& e) {
      using T = std::decay_t<decltype(e)>;
      if constexpr (std::is_same_v<T, events::StageEvent>) sink.on_stage(e);
      else if constexpr (std::is_same_v<T, events::StepEvent>) sink.on_step(e);
      else if constexpr (std::is_same_v<T, events::EvaluationEvent>) sink.on_evaluation(e);
      else sink.on_validators(e);
    }, record);
    ++copied;
  }
  sink.on_message("stage 1 from " + from.string() + " (" + std::to_string(state_.stage1.step) + " steps, " +
                  std::to_string(copied) + " records): source only, target test top-1 " +
                  (state_.source_only ? std::to_string(state_.source_only->top1) : std::string("–")) +
                  "; stage 2 draw " + std::to_string(config_.stage2_draw));
}

void Experiment::make_adapter() {
  TargetAdapterOptions a;
  a.mu = config_.mu;
  a.nu = config_.nu;
  a.beta = config_.beta;
  a.target_mutual_information = config_.target_mutual_information;
  a.information_maximization = config_.stage2_information_maximization;
  a.lm_per_unit = config_.lm_per_unit;
  a.lr = config_.stage2_lr;
  a.discriminator_lr = config_.stage2_discriminator_lr;
  a.beta1 = config_.stage2_beta1;
  a.beta2 = config_.stage2_beta2;
  a.train_classifier = config_.stage2_train_classifier;
  a.logit_batch_size = config_.eval_batch_size;
  a.mixed_precision = mixed_precision();
  adapter_ = std::make_unique<TargetAdapter>(source_net_, target_net_, discriminator_, a);
  if (group_) install_gradient_sync();
}

bool Experiment::leader() const { return group_ == nullptr || group_->rank() == 0; }

std::pair<int64_t, int64_t> Experiment::my_slice(int64_t n) {
  if (!group_) {
    share_ = 1.0;
    return {0, n};
  }
  const int64_t ranks = group_->size(), rank = group_->rank();
  if (n < ranks)
    throw Error("data-parallel: a batch of " + std::to_string(n) + " images cannot be split across " +
                std::to_string(ranks) + " ranks (stage1.batch_size / stage2.batch_size at least the world size)");
  // Fixed order: rank r takes rows [r·n/R, (r+1)·n/R), so R processes see the images one process would.
  const int64_t begin = rank * n / ranks, end = (rank + 1) * n / ranks;
  share_ = static_cast<double>(end - begin) / static_cast<double>(n);
  return {begin, end};
}

bool Experiment::agree_on_step(std::map<std::string, double>& losses, bool stop_requested) {
  // One small all-reduce per step: [stop?, share · loss…] summed = [any stop, the combined batch's losses].
  auto values = torch::zeros({static_cast<int64_t>(losses.size()) + 1}, torch::kDouble);
  auto* v = values.data_ptr<double>();
  v[0] = stop_requested ? 1.0 : 0.0;
  int64_t i = 1;
  for (const auto& [name, value] : losses) v[i++] = share_ * value;
  group_->allreduce_sum(values, "the step's losses");
  i = 1;
  for (auto& [name, value] : losses) value = v[i++];
  return v[0] > 0;
}

void Experiment::broadcast_networks(const std::vector<torch::nn::Module*>& modules) {
  std::vector<torch::Tensor> tensors;
  for (auto* m : modules) {
    if (m == nullptr) continue;
    for (auto& p : m->parameters()) tensors.push_back(p);
    for (auto& b : m->buffers()) tensors.push_back(b);
  }
  torch::NoGradGuard no_grad;
  group_->broadcast(tensors, "rank 0's networks");
}

void Experiment::install_gradient_sync() {
  auto sync = [this](const std::vector<torch::Tensor>& parameters) {
    group_->allreduce_gradients(parameters, share_);
  };
  source_trainer_->set_gradient_sync(sync);
  if (adapter_) adapter_->set_gradient_sync(sync);
}

void Experiment::restore_checkpoint() {
  const auto [modules, optimizers] = checkpoint_contents();
  const auto path = run_dir_.checkpoint_path();
  state_ = io::run_state_from_json(io::load_checkpoint(path, modules, optimizers), path.string());
}

}  // namespace fan::train
