// Experiment configuration: the typed view the trainers use (the schema and validation: config_schema.h).
#pragma once
#include "core/data/domain.h"
#include "core/io/config_schema.h"
#include "core/models/fan_net.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace fan::io {

// The typed view the trainers use; built from a validated JSON.
struct ExperimentConfig {
  std::string name;
  data::DomainSpec source, target;
  data::Preprocess preprocess;
  std::string data_root;
  models::Variant variant = models::Variant::kFull;
  models::EncoderKind encoder = models::EncoderKind::kLeNet;
  int64_t latent_dim = 100, domain_specific_dim = 50;  // resolved (never 0)
  int64_t shared_stages = 3, decoder_size = 64;
  std::string pretrained;               // model.pretrained: torchvision ResNet weights for the source encoder
  bool imagenet_normalization = false;  // data.normalize resolved
  bool image_standardization = false;   // data.normalize == "image"

  int64_t discriminator_hidden = 500, discriminator_hidden2 = 0;
  bool stream = false;  // data.loader == "stream"
  int64_t workers = 0;
  bool mixed_precision = false;
  bool discriminator_batch_norm = true;
  double alpha = 2, beta = 1, mu = 2, nu = 1;
  bool target_mutual_information = false;
  bool lm_per_unit = true;  // loss.mutual_information == "mean"
  int64_t stage1_epochs = 20, stage1_batch_size = 128;
  double stage1_lr = 2e-4, stage1_beta1 = 0.5, stage1_beta2 = 0.999;
  int64_t stage2_iterations = 3000, stage2_batch_size = 128;
  double stage2_lr = 2e-4, stage2_discriminator_lr = 2e-4, stage2_beta1 = 0.5, stage2_beta2 = 0.999;
  double stage2_information_maximization = 0;  // beyond the paper (SHOT): 0 = FAN as published
  bool stage2_train_classifier = true;  // false: the target keeps the source's logit map M (as ADDA)
  // "source": D sees source logits in the source's class mix (the paper);
  // "target_estimate": source images drawn so their class mix matches the
  // class proportions the AdaBN network predicts on the target training set.
  std::string stage2_source_prior = "source";
  int64_t eval_every = 500, eval_batch_size = 1000;
  int64_t eval_images = 1000;  // the curves' evaluations: a fixed subset per test set (0: all)
  std::string stage1_from;  // stage1.from: a run directory whose stage-1 network this run adapts ("": train one)
  int64_t stage1_draw = 0;  // stage1.draw: 0 = stage 1 draws from the seed as always; k > 0 another draw
  int64_t stage2_draw = 0;  // stage2.draw: 0 = stage 2 draws from the seed as always; k > 0 another draw
  std::string stage2_select = "last";  // "last" or a validator name: the network reported as selected
  int64_t eval_validator_images = 1000;  // unlabelled target training images for the validators (0: off)
  int64_t eval_live_embedding_images = 500;  // test images per domain in each live-embedding frame (0: off)
  int64_t log_every = 10, checkpoint_every = 500, preview_every = 250;
  int64_t seed = 0;
  std::string device = "cpu";
  int64_t threads = 0;
  std::string backend = "auto";    // run.backend (data-parallel runs)
  bool sync_batch_norm = false;    // run.sync_batch_norm
  int64_t timeout_seconds = 1800;  // run.timeout
  nlohmann::json resolved;  // the validated, complete JSON

  // The networks this config describes, for a domain pair with `num_classes` classes.
  models::FanNetOptions net_options(int64_t num_classes) const;
  std::vector<int64_t> discriminator_layers() const;  // hidden widths

  static ExperimentConfig from_json(const nlohmann::json& config, const std::string& origin = "config");
  static ExperimentConfig load(const std::filesystem::path& path,
                               const std::vector<std::string>& overrides = {});
};

}  // namespace fan::io
