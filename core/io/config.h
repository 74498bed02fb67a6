// Experiment configuration: schema, validation with clear errors, typed view.
#pragma once
#include "core/data/domain.h"
#include "core/models/fan_net.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace fan::io {

enum class FieldType { kInt, kNumber, kString, kBool };

// One configurable field. The schema drives validation, the CLI's --set, and
// the workbench's form (groups, units, ranges, help).
struct FieldSpec {
  std::string key;  // dotted path, e.g. "stage1.lr"
  FieldType type = FieldType::kNumber;
  nlohmann::json default_value;
  std::string group;  // "data", "model", "losses", "stage 1", "stage 2", "run"
  std::string unit;   // shown beside the control ("images", "steps", …)
  std::string help;
  double min = 0, max = 0;  // inclusive range for numbers when has_range
  bool has_range = false;
  bool min_exclusive = false;
  std::vector<std::string> choices;  // allowed values when non-empty (strings or ints as text)
  bool locked_during_run = true;     // the form disables it while a run is going
};

const std::vector<FieldSpec>& config_schema();
const FieldSpec* find_field(const std::string& key);

// Checks `config` against the schema (unknown keys, types, ranges, choices,
// cross-field rules) and returns it with defaults filled in. `origin` (a file
// name) prefixes every error message.
nlohmann::json validate_config(const nlohmann::json& config, const std::string& origin = "config");
// Problems of one field's value, empty when valid (for the form's live marks).
std::string check_field(const FieldSpec& field, const nlohmann::json& value);

// LeNet's |h| when model.latent_dim is 0.
constexpr int64_t kLeNetLatent = 100;
// (|h|, |hd|) of a validated config, with 0 ("auto") resolved for its encoder.
std::pair<int64_t, int64_t> effective_dims(const nlohmann::json& config);

// Applies "a.b=value": the value parses as JSON when it can, else as a string.
void apply_override(nlohmann::json& config, const std::string& assignment);

nlohmann::json read_json_file(const std::filesystem::path& path);
nlohmann::json get_path(const nlohmann::json& config, const std::string& key);
void set_path(nlohmann::json& config, const std::string& key, const nlohmann::json& value);

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
  bool stage2_train_classifier = true;  // false: the target keeps the source's logit map M (as ADDA)
  // "source": D sees source logits in the source's class mix (the paper);
  // "target_estimate": source images drawn so their class mix matches the
  // class proportions the AdaBN network predicts on the target training set.
  std::string stage2_source_prior = "source";
  int64_t eval_every = 500, eval_batch_size = 1000;
  int64_t log_every = 10, checkpoint_every = 500, preview_every = 250;
  int64_t seed = 0;
  std::string device = "cpu";
  int64_t threads = 0;
  nlohmann::json resolved;  // the validated, complete JSON

  // The networks this config describes, for a domain pair with `num_classes` classes.
  models::FanNetOptions net_options(int64_t num_classes) const;
  std::vector<int64_t> discriminator_layers() const;  // hidden widths

  static ExperimentConfig from_json(const nlohmann::json& config, const std::string& origin = "config");
  static ExperimentConfig load(const std::filesystem::path& path,
                               const std::vector<std::string>& overrides = {});
};

}  // namespace fan::io
