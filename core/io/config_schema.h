// The experiment schema: fields, validation with clear errors, overrides. No Torch, so any front end can use it.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
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
  std::string group;  // "data", "networks", "losses", "stage 1", "stage 2", "evaluation", "run" (the paper's order)
  std::string unit;   // shown beside the control ("images", "steps", …)
  std::string help;
  double min = 0, max = 0;  // inclusive range for numbers when has_range
  bool has_range = false;
  bool min_exclusive = false;
  std::vector<std::string> choices;  // allowed values when non-empty (strings or ints as text)
  bool locked_during_run = true;     // the form disables it while a run is going
  // The paper's value or practice (as FAN-SPEC.md restates it); empty where the paper gives none, so the default is ours.
  std::string paper;
  // When the field takes effect: conditions "key=value|value" joined by ";", all of which must hold;
  // empty: always. The form hides a field that has no effect (field_inapplicable_reason says why).
  std::string applies;
};

const std::vector<FieldSpec>& config_schema();
const FieldSpec* find_field(const std::string& key);
// Empty when `field` takes effect under `config` (missing keys take their defaults), else why not:
// "only with model.encoder = resnet18, resnet34 or resnet50".
std::string field_inapplicable_reason(const FieldSpec& field, const nlohmann::json& config);

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
// stage1.from: the first field (dotted key, in key order) where two resolved configs would train another
// stage-1 network, with both values as JSON; none when only stage 2, evaluation and run fields differ.
struct FieldDifference {
  std::string key, here, there;
};
std::optional<FieldDifference> stage1_difference(const nlohmann::json& here, const nlohmann::json& there);

nlohmann::json get_path(const nlohmann::json& config, const std::string& key);
void set_path(nlohmann::json& config, const std::string& key, const nlohmann::json& value);

}  // namespace fan::io
