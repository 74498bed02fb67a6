// The run records' JSON: one writer and one strict reader per record, old formats included.
#include "core/io/records.h"

#include "core/util/error.h"

namespace fan::io {
namespace {

using nlohmann::json;

const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a number";
    default: return "an integer";
  }
}

// Reads the fields of one JSON object; every error names the origin and the field's dotted path.
class Fields {
 public:
  Fields(const json& j, const std::string& origin, std::string path = {})
      : j_(j), origin_(origin), path_(std::move(path)) {
    if (!j_.is_object())
      throw Error(origin_ + ": " + (path_.empty() ? std::string("the record") : "field \"" + path_ + "\"") +
                  ": expected an object, found " + type_name(j_));
  }

  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  std::string path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& origin() const { return origin_; }

  const json& at(const char* key) const {
    if (!j_.contains(key)) throw Error(origin_ + ": field \"" + path(key) + "\" is missing");
    return j_.at(key);
  }
  Fields object(const char* key) const { return Fields(at(key), origin_, path(key)); }

  int64_t integer(const char* key) const { return check(key, at(key).is_number_integer(), "an integer").get<int64_t>(); }
  double number(const char* key) const { return check(key, at(key).is_number(), "a number").get<double>(); }
  std::string string(const char* key) const { return check(key, at(key).is_string(), "a string").get<std::string>(); }

  int64_t integer_or(const char* key, int64_t fallback) const { return has(key) ? integer(key) : fallback; }
  double number_or(const char* key, double fallback) const { return has(key) ? number(key) : fallback; }
  std::string string_or(const char* key, const std::string& fallback) const { return has(key) ? string(key) : fallback; }
  std::optional<double> optional_number(const char* key) const {
    return has(key) ? std::optional<double>(number(key)) : std::nullopt;
  }
  std::optional<Accuracy> optional_accuracy(const char* key) const {
    return has(key) ? std::optional<Accuracy>(accuracy_from_json(at(key), origin_ + ": " + path(key))) : std::nullopt;
  }
  std::vector<double> numbers_or_empty(const char* key) const {
    if (!has(key)) return {};
    const auto& a = check(key, at(key).is_array(), "an array of numbers");
    std::vector<double> out;
    for (const auto& v : a) {
      if (!v.is_number()) throw Error(origin_ + ": field \"" + path(key) + "\": expected an array of numbers");
      out.push_back(v.get<double>());
    }
    return out;
  }
  std::map<std::string, double> number_map(const char* key) const {
    std::map<std::string, double> out;
    if (!has(key)) return out;
    const auto& o = check(key, at(key).is_object(), "an object of numbers");
    for (const auto& [name, v] : o.items()) {
      if (!v.is_number())
        throw Error(origin_ + ": field \"" + path(key) + "." + name + "\": expected a number, found " + type_name(v));
      out[name] = v.get<double>();
    }
    return out;
  }

 private:
  const json& check(const char* key, bool ok, const char* expected) const {
    if (!ok)
      throw Error(origin_ + ": field \"" + path(key) + "\": expected " + expected + ", found " + type_name(at(key)));
    return at(key);
  }
  const json& j_;
  const std::string& origin_;
  std::string path_;
};

json stream_json(const StreamPosition& p) { return {{"epoch", p.epoch}, {"cursor", p.cursor}}; }
StreamPosition stream_from(const Fields& f) { return {f.integer("epoch"), f.integer("cursor")}; }

json loader_wait_json(const std::map<int, LoaderWait>& waits) {
  json out = json::object();
  for (const auto& [stage, w] : waits)
    out["stage" + std::to_string(stage)] = {{"waited_seconds", w.waited_seconds}, {"stage_seconds", w.stage_seconds}};
  return out;
}
std::map<int, LoaderWait> loader_wait_from(const Fields& f, const char* key) {
  std::map<int, LoaderWait> out;
  if (!f.has(key)) return out;
  const auto waits = f.object(key);
  for (int stage : {1, 2}) {
    const std::string name = "stage" + std::to_string(stage);
    if (!waits.has(name.c_str())) continue;
    const auto w = waits.object(name.c_str());
    out[stage] = {w.number("waited_seconds"), w.number("stage_seconds")};
  }
  return out;
}

Stage stage_from_name(const std::string& name, const Fields& f) {
  if (name == "source") return Stage::kSource;
  if (name == "adaptation") return Stage::kAdaptation;
  if (name == "finished") return Stage::kFinished;
  throw Error(f.origin() + ": field \"" + f.path("stage") + "\": expected \"source\", \"adaptation\" or \"finished\", found \"" +
              name + "\"");
}

json position_json(const StagePosition& p) {
  json streams = json::object();
  for (const auto& [name, s] : p.streams) streams[name] = stream_json(s);
  return {{"step", p.step}, {"seconds", p.seconds}, {"streams", streams}};
}
StagePosition position_from(const Fields& f) {
  StagePosition p;
  p.step = f.integer("step");
  p.seconds = f.number("seconds");
  const auto streams = f.object("streams");
  for (const auto& [name, v] : f.at("streams").items())
    p.streams[name] = stream_from(Fields(v, f.origin(), streams.path(name.c_str())));
  return p;
}

// A checkpoint written before the records (no "format"): one "step" for the
// current stage, "stage" 3 for finished, the batchers under their own keys.
RunState run_state_from_format1(const Fields& f) {
  RunState s;
  const int64_t stage = f.integer("stage");
  if (stage < 1 || stage > 3)
    throw Error(f.origin() + ": field \"stage\": expected 1, 2 or 3, found " + std::to_string(stage));
  s.stage = static_cast<Stage>(stage);
  const int64_t step = f.integer_or("step", 0);
  s.stage1.seconds = f.number_or("stage1_seconds", 0.0);
  s.stage2.seconds = f.number_or("stage2_seconds", 0.0);
  if (s.stage == Stage::kSource) {
    s.stage1.step = step;
    if (f.has("batcher")) s.stage1.streams["source"] = stream_from(f.object("batcher"));
  } else {
    s.stage1.step = f.integer_or("stage1_steps", 0);
    s.stage2.step = step;
    if (f.has("source_batcher")) s.stage2.streams["source"] = stream_from(f.object("source_batcher"));
    if (f.has("target_batcher")) s.stage2.streams["target"] = stream_from(f.object("target_batcher"));
  }
  s.metrics_lines = f.integer_or("metrics_lines", 0);
  s.source_only = f.optional_accuracy("source_only");
  s.source_only_adabn = f.optional_accuracy("source_only_adabn");
  s.source_test = f.optional_accuracy("source_test");
  s.adapted = f.optional_accuracy("adapted");
  if (f.has("target_validation")) {
    const auto v = f.object("target_validation");
    s.validation_source_only = v.optional_number("source_only");
    s.validation_adapted = v.optional_number("adapted");
  }
  s.target_prior_estimate = f.numbers_or_empty("target_prior_estimate");
  s.loader_wait = loader_wait_from(f, "loader_wait");
  return s;
}

void put_accuracy(json& j, const char* key, const std::optional<Accuracy>& a) {
  j[key] = a ? to_json(*a) : json();
}

int format_of(const Fields& f) {
  const int64_t format = f.integer_or("format", 1);
  if (format < 1 || format > kRecordFormat)
    throw Error(f.origin() + ": field \"format\": this build reads formats 1 to " + std::to_string(kRecordFormat) +
                ", found " + std::to_string(format) + " (written by a newer FAN Workbench?)");
  return static_cast<int>(format);
}

}  // namespace

std::string to_string(Stage stage) {
  switch (stage) {
    case Stage::kSource: return "source";
    case Stage::kAdaptation: return "adaptation";
    case Stage::kFinished: return "finished";
  }
  return "?";
}

std::string to_string(RunSummary::Status status) {
  switch (status) {
    case RunSummary::Status::kNotARun: return "not a run";
    case RunSummary::Status::kStarted: return "started";
    case RunSummary::Status::kResumable: return "resumable";
    case RunSummary::Status::kFinished: return "finished";
    case RunSummary::Status::kUnreadable: return "unreadable";
  }
  return "?";
}

int stage_of(const MetricRecord& record) {
  return std::visit([](const auto& r) { return r.stage; }, record);
}

json to_json(const Accuracy& a) {
  json j = {{"top1", a.top1}, {"top5", a.top5}};
  if (!a.per_class.empty()) j["per_class"] = a.per_class;
  if (!a.confusion.empty()) j["confusion"] = a.confusion;
  return j;
}

Accuracy accuracy_from_json(const json& j, const std::string& origin) {
  const Fields f(j, origin);
  Accuracy a;
  a.top1 = f.number("top1");
  a.top5 = f.number("top5");
  a.per_class = f.numbers_or_empty("per_class");
  if (f.has("confusion")) {
    const auto& rows = f.at("confusion");
    auto bad = [&] { return Error(origin + ": field \"confusion\": expected an array of arrays of integers"); };
    if (!rows.is_array()) throw bad();
    for (const auto& row : rows) {
      if (!row.is_array()) throw bad();
      std::vector<int64_t> counts;
      for (const auto& v : row) {
        if (!v.is_number_integer()) throw bad();
        counts.push_back(v.get<int64_t>());
      }
      a.confusion.push_back(std::move(counts));
    }
  }
  return a;
}

json to_json(const RunState& s) {
  json j;
  j["format"] = kRecordFormat;
  j["stage"] = to_string(s.stage);
  j["stage1"] = position_json(s.stage1);
  j["stage2"] = position_json(s.stage2);
  j["metrics_lines"] = s.metrics_lines;
  put_accuracy(j, "source_only", s.source_only);
  put_accuracy(j, "source_only_adabn", s.source_only_adabn);
  put_accuracy(j, "source_test", s.source_test);
  put_accuracy(j, "adapted", s.adapted);
  j["validation"] = {{"source_only", s.validation_source_only ? json(*s.validation_source_only) : json()},
                     {"adapted", s.validation_adapted ? json(*s.validation_adapted) : json()}};
  j["target_prior_estimate"] = s.target_prior_estimate;
  j["loader_wait"] = loader_wait_json(s.loader_wait);
  j["time_spent"] = s.seconds;
  json picks = json::object();
  for (const auto& [name, pick] : s.picks) picks[name] = {{"step", pick.step}, {"value", pick.value}};
  j["picks"] = picks;
  return j;
}

RunState run_state_from_json(const json& j, const std::string& origin) {
  const Fields f(j, origin);
  if (format_of(f) == 1) return run_state_from_format1(f);
  RunState s;
  s.stage = stage_from_name(f.string("stage"), f);
  s.stage1 = position_from(f.object("stage1"));
  s.stage2 = position_from(f.object("stage2"));
  s.metrics_lines = f.integer("metrics_lines");
  s.source_only = f.optional_accuracy("source_only");
  s.source_only_adabn = f.optional_accuracy("source_only_adabn");
  s.source_test = f.optional_accuracy("source_test");
  s.adapted = f.optional_accuracy("adapted");
  const auto v = f.object("validation");
  s.validation_source_only = v.optional_number("source_only");
  s.validation_adapted = v.optional_number("adapted");
  s.target_prior_estimate = f.numbers_or_empty("target_prior_estimate");
  s.loader_wait = loader_wait_from(f, "loader_wait");
  s.seconds = f.number_map("time_spent");
  if (f.has("picks")) {
    const auto picks = f.object("picks");
    for (const auto& [name, v] : f.at("picks").items()) {
      const Fields pick(v, f.origin(), picks.path(name.c_str()));
      s.picks[name] = {pick.integer("step"), pick.number("value")};
    }
  }
  return s;
}

json to_json(const Results& r) {
  json j;
  j["format"] = r.format;
  j["status"] = r.status;
  j["name"] = r.name;
  j["variant"] = r.variant;
  j["encoder"] = r.encoder;
  j["seed"] = r.seed;
  j["source"] = r.source;
  j["target"] = r.target;
  j["framing"] = r.framing;
  put_accuracy(j, "source_only", r.source_only);
  put_accuracy(j, "source_only_adabn", r.source_only_adabn);
  put_accuracy(j, "source_test", r.source_test);
  put_accuracy(j, "adapted", r.adapted);
  if (!r.target_prior_estimate.empty()) j["target_prior_estimate"] = r.target_prior_estimate;
  if (!r.loader_wait.empty()) j["loader_wait"] = loader_wait_json(r.loader_wait);
  if (r.validation_source_only || r.validation_adapted) {
    auto& v = j["target_validation"];
    if (r.validation_source_only) v["source_only"] = *r.validation_source_only;
    if (r.validation_adapted) v["adapted"] = *r.validation_adapted;
    v["images"] = r.validation_images;
  }
  j["eval_images"] = r.eval_images;
  j["wall_seconds"] = {{"stage1", r.stage1_seconds}, {"stage2", r.stage2_seconds}, {"total", r.total_seconds()}};
  j["stage1_steps"] = r.stage1_steps;
  j["stage2_steps"] = r.stage2_steps;
  if (!r.seconds.empty()) j["time_spent"] = r.seconds;
  j["device"] = r.device;
  j["threads"] = r.threads;
  j["versions"] = {{"fan", r.fan_version}, {"torch", r.torch_version}};
  if (!r.fan_commit.empty()) j["versions"]["commit"] = r.fan_commit;
  if (!r.cpu.is_null()) j["cpu"] = r.cpu;
  if (!r.proxy_a_distance.is_null()) j["proxy_a_distance"] = r.proxy_a_distance;
  if (!r.picks.empty()) {
    auto& picks = j["picks"];
    for (const auto& [name, p] : r.picks)
      picks[name] = {{"step", p.step}, {"value", p.value}, {"top1", p.top1}, {"top5", p.top5}};
    if (r.picks.count("oracle")) picks["oracle"]["note"] = "for information: picked by target test labels";
  }
  j["selected"] = r.selected;
  return j;
}

Results results_from_json(const json& j, const std::string& origin) {
  const Fields f(j, origin);
  Results r;
  r.format = format_of(f);
  r.status = f.string("status");
  if (r.status != "finished" && r.status != "stopped")
    throw Error(origin + ": field \"status\": expected \"finished\" or \"stopped\", found \"" + r.status + "\"");
  r.name = f.string("name");
  r.variant = f.string("variant");
  r.encoder = f.string_or("encoder", "lenet");
  r.framing = f.string_or("framing", "");
  r.seed = f.integer("seed");
  r.source = f.has("source") ? f.at("source") : json();
  r.target = f.has("target") ? f.at("target") : json();
  r.source_only = f.optional_accuracy("source_only");
  r.source_only_adabn = f.optional_accuracy("source_only_adabn");
  r.source_test = f.optional_accuracy("source_test");
  r.adapted = f.optional_accuracy("adapted");
  r.target_prior_estimate = f.numbers_or_empty("target_prior_estimate");
  r.loader_wait = loader_wait_from(f, "loader_wait");
  if (f.has("target_validation")) {
    const auto v = f.object("target_validation");
    r.validation_source_only = v.optional_number("source_only");
    r.validation_adapted = v.optional_number("adapted");
    r.validation_images = v.integer_or("images", 0);
  }
  r.eval_images = f.integer_or("eval_images", 0);  // format 1: every evaluation used the whole set
  const auto wall = f.object("wall_seconds");
  r.stage1_seconds = wall.number("stage1");
  r.stage2_seconds = wall.number("stage2");
  r.stage1_steps = f.integer("stage1_steps");
  r.stage2_steps = f.integer("stage2_steps");
  r.seconds = f.number_map("time_spent");
  r.device = f.string_or("device", "");
  r.threads = f.integer_or("threads", 0);
  if (f.has("versions")) {
    const auto v = f.object("versions");
    r.fan_version = v.string_or("fan", "");
    r.torch_version = v.string_or("torch", "");
    r.fan_commit = v.string_or("commit", "");
  }
  if (f.has("cpu")) {
    f.object("cpu");  // an object, or the error names the field
    r.cpu = f.at("cpu");
  }
  if (f.has("proxy_a_distance")) r.proxy_a_distance = f.at("proxy_a_distance");
  if (f.has("picks")) {
    const auto picks = f.object("picks");
    for (const auto& [name, v] : f.at("picks").items()) {
      const Fields pick(v, origin, picks.path(name.c_str()));
      r.picks[name] = {pick.integer("step"), pick.number("value"), pick.number("top1"), pick.number("top5")};
    }
  }
  r.selected = f.string_or("selected", "last");
  return r;
}

json to_json(const MetricRecord& record) {
  struct Writer {
    json operator()(const events::StageEvent& e) const {
      return {{"type", "stage"}, {"stage", e.stage}, {"name", e.name}, {"total_steps", e.total_steps}};
    }
    json operator()(const events::StepEvent& e) const {
      return {{"type", "step"},
              {"stage", e.stage},
              {"step", e.step},
              {"epoch", e.epoch},
              {"losses", e.losses},
              {"lr", e.learning_rates},
              {"images_per_second", e.images_per_second},
              {"elapsed_seconds", e.elapsed_seconds}};
    }
    json operator()(const events::EvaluationEvent& e) const {
      return {{"type", "evaluation"}, {"stage", e.stage},   {"step", e.step},     {"split", e.split},
              {"network", e.network}, {"images", e.images}, {"top1", e.top1},     {"top5", e.top5},
              {"per_class", e.per_class}};
    }
    json operator()(const events::ValidatorEvent& e) const {
      return {{"type", "validators"}, {"stage", e.stage},   {"step", e.step},
              {"network", e.network}, {"images", e.images}, {"values", e.values}};
    }
  };
  return std::visit(Writer{}, record);
}

MetricRecord metric_record_from_json(const json& j, const std::string& origin) {
  const Fields f(j, origin);
  const std::string type = f.string("type");
  const int stage = static_cast<int>(f.integer("stage"));
  if (stage != 1 && stage != 2)
    throw Error(origin + ": field \"stage\": expected 1 or 2, found " + std::to_string(stage));
  if (type == "stage") {
    events::StageEvent e;
    e.stage = stage;
    e.name = f.string("name");
    e.total_steps = f.integer("total_steps");
    return e;
  }
  if (type == "step") {
    events::StepEvent e;
    e.stage = stage;
    e.step = f.integer("step");
    e.epoch = f.integer_or("epoch", 0);
    e.losses = f.number_map("losses");
    e.learning_rates = f.number_map("lr");
    e.images_per_second = f.number_or("images_per_second", 0.0);
    e.elapsed_seconds = f.number_or("elapsed_seconds", 0.0);
    return e;
  }
  if (type == "evaluation") {
    events::EvaluationEvent e;
    e.stage = stage;
    e.step = f.integer("step");
    e.split = f.string("split");
    e.network = f.string("network");
    e.images = f.integer_or("images", 0);  // format 1: the whole split
    e.top1 = f.number("top1");
    e.top5 = f.number_or("top5", 0.0);
    e.per_class = f.numbers_or_empty("per_class");
    return e;
  }
  if (type == "validators") {
    events::ValidatorEvent e;
    e.stage = stage;
    e.step = f.integer("step");
    e.network = f.string("network");
    e.images = f.integer("images");
    e.values = f.number_map("values");
    return e;
  }
  throw Error(origin + ": field \"type\": expected \"stage\", \"step\", \"evaluation\" or \"validators\", found \"" +
              type + "\"");
}

}  // namespace fan::io
