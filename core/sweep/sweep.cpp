#include "core/sweep/sweep.h"

#include "core/analysis/rank_study.h"

#include "core/io/config_schema.h"
#include "core/io/run_dir.h"
#include "core/util/error.h"
#include "core/util/numerics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace fan::sweep {
namespace {

using nlohmann::json;

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// A value as a name or a label shows it: strings bare, numbers and booleans as JSON.
std::string text_of(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// A directory-name part: no separators or spaces.
std::string name_part(std::string s) {
  for (char& c : s)
    if (c == '/' || c == '\\' || c == ' ' || c == ':' || c == '*' || c == '?') c = '_';
  return s;
}

std::filesystem::path resolve_project(const std::filesystem::path& p, const std::filesystem::path& base_dir,
                                      const std::string& where) {
  if (p.is_absolute()) {
    if (!std::filesystem::exists(p)) throw Error(where + ": project " + p.string() + " does not exist");
    return p;
  }
  const auto beside = base_dir / p;
  if (!base_dir.empty() && std::filesystem::exists(beside)) return beside;
  if (std::filesystem::exists(p)) return p;
  throw Error(where + ": project \"" + p.string() + "\" not found (looked next to the spec: " + beside.string() +
              ", and from the current directory)");
}

// "set" / case settings: an object of dotted keys, each a schema field with a valid value.
std::vector<Setting> read_settings(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an object of \"key.path\": value");
  std::vector<Setting> out;
  for (const auto& [key, value] : j.items()) {
    const auto* field = io::find_field(key);
    if (field == nullptr) throw Error(where + ": unknown config key \"" + key + "\"");
    const auto problem = io::check_field(*field, value);
    if (!problem.empty()) throw Error(where + ": " + key + " = " + value.dump() + ": " + problem);
    out.emplace_back(key, value);
  }
  return out;
}

void check_keys(const json& j, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [key, value] : j.items())
    if (!known.count(key)) {
      std::vector<std::string> all(known.begin(), known.end());
      throw Error(where + ": unknown field \"" + key + "\"; expected one of " + join(all, ", "));
    }
}

json settings_json(const std::vector<Setting>& settings) {
  json out = json::array();
  for (const auto& [k, v] : settings) out.push_back({k, v});
  return out;
}

std::vector<Setting> settings_from(const json& j, const std::string& origin) {
  std::vector<Setting> out;
  if (!j.is_array()) throw Error(origin + ": settings: expected an array of [key, value]");
  for (const auto& kv : j) {
    if (!kv.is_array() || kv.size() != 2 || !kv[0].is_string())
      throw Error(origin + ": settings: expected [key, value] pairs");
    out.emplace_back(kv[0].get<std::string>(), kv[1]);
  }
  return out;
}

json layout_json(const TableLayout& t) {
  json extra = json::array();
  for (const auto& e : t.extra_rows) extra.push_back({{"title", e.title}, {"result", e.result}, {"from", e.from}});
  return {{"title", t.title},         {"rows", t.rows},           {"columns", t.columns}, {"result", t.result},
          {"row_order", t.row_order}, {"column_order", t.column_order}, {"extra_rows", extra},
          {"reference_name", t.reference_name}, {"reference", t.reference}};
}

TableLayout layout_from(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an object");
  check_keys(j, {"title", "rows", "columns", "result", "row_order", "column_order", "extra_rows", "reference_name",
                 "reference"}, where);
  TableLayout t;
  try {
    t.title = j.value("title", std::string());
    t.rows = j.at("rows").get<std::string>();
    t.columns = j.at("columns").get<std::string>();
    t.result = j.value("result", std::string("adapted"));
    t.row_order = j.value("row_order", std::vector<std::string>{});
    t.column_order = j.value("column_order", std::vector<std::string>{});
    for (const auto& e : j.value("extra_rows", json::array()))
      t.extra_rows.push_back({e.at("title").get<std::string>(), e.at("result").get<std::string>(),
                              e.at("from").get<std::string>()});
    t.reference_name = j.value("reference_name", std::string("paper"));
    t.reference = j.value("reference", json::object());
    if (!t.reference.is_object()) throw Error(where + ": reference: expected {row: {column: text}}");
    for (const auto& [row, cols] : t.reference.items()) {
      if (!cols.is_object()) throw Error(where + ": reference." + row + ": expected {column: text}");
      for (const auto& [col, text] : cols.items())
        if (!text.is_string()) throw Error(where + ": reference." + row + "." + col + ": expected a string");
    }
  } catch (const json::exception& e) {
    throw Error(where + ": " + e.what() + " (rows and columns are strings; extra_rows: {title, result, from})");
  }
  return t;
}

}  // namespace

namespace {

std::vector<int64_t> read_seeds(const json& s, const std::string& where) {
  if (!s.is_array() || s.empty()) throw Error(where + ": seeds: expected a non-empty list of integers");
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (const auto& v : s) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) throw Error(where + ": seeds: expected integers ≥ 0, got " + v.dump());
    if (!seen.insert(v.get<int64_t>()).second) throw Error(where + ": seeds: " + v.dump() + " listed twice");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

}  // namespace

SweepSpec spec_from_json(const json& j, const std::string& origin, const std::filesystem::path& base_dir) {
  if (!j.is_object()) throw Error(origin + ": expected a JSON object at the top level");
  check_keys(j, {"name", "project", "base", "set", "axes", "seeds", "seed_major", "cases", "out", "table",
                 "description", "rank_by", "validator_pool", "keep_best"}, origin);
  SweepSpec spec;
  spec.origin = origin;
  spec.name = j.value("name", std::filesystem::path(origin).stem().string());
  if (spec.name.empty()) throw Error(origin + ": name: expected a non-empty string");
  if (j.contains("project") && j.contains("base"))
    throw Error(origin + ": give either \"project\" (a file) or \"base\" (inline), not both");
  if (j.contains("project")) {
    if (!j["project"].is_string()) throw Error(origin + ": project: expected a path");
    spec.base_project = resolve_project(j["project"].get<std::string>(), base_dir, origin + ": project");
    spec.base = io::read_json_file(spec.base_project);
  } else if (j.contains("base")) {
    spec.base = j["base"];
  } else if (!j.contains("cases")) {
    throw Error(origin + ": expected \"project\" (a project file) or \"base\" (an inline project)");
  }
  if (!spec.base.is_null() && !spec.base.is_object()) throw Error(origin + ": base: expected a project object");
  if (j.contains("set")) spec.overrides = read_settings(j["set"], origin + ": set");

  if (j.contains("axes")) {
    const auto& axes = j["axes"];
    std::vector<std::pair<std::string, json>> listed;
    if (axes.is_object()) {
      for (const auto& [k, v] : axes.items()) listed.emplace_back(k, v);
    } else if (axes.is_array()) {
      for (size_t i = 0; i < axes.size(); ++i) {
        const auto& a = axes[i];
        const std::string where = origin + ": axes[" + std::to_string(i) + "]";
        if (!a.is_object() || !a.contains("key") || !a["key"].is_string() || !a.contains("values"))
          throw Error(where + ": expected {\"key\": \"a.b\", \"values\": [...]}");
        check_keys(a, {"key", "values"}, where);
        listed.emplace_back(a["key"].get<std::string>(), a["values"]);
      }
    } else {
      throw Error(origin + ": axes: expected an object {\"key\": [values]} or an array of {key, values}");
    }
    std::set<std::string> seen;
    for (const auto& [key, values] : listed) {
      const std::string where = origin + ": axis " + key;
      if (key == "seed") throw Error(where + ": give seeds as \"seeds\": [0, 1, 2]");
      const auto* field = io::find_field(key);
      if (field == nullptr) {
        std::vector<std::string> all;
        for (const auto& f : io::config_schema()) all.push_back(f.key);
        throw Error(where + ": unknown config key; known keys: " + join(all, ", "));
      }
      if (!seen.insert(key).second) throw Error(where + ": listed twice");
      if (!values.is_array() || values.empty()) throw Error(where + ": values: expected a non-empty list");
      Axis axis{key, {}};
      for (const auto& v : values) {
        const auto problem = io::check_field(*field, v);
        if (!problem.empty()) throw Error(where + ": value " + v.dump() + ": " + problem);
        axis.values.push_back(v);
      }
      spec.axes.push_back(std::move(axis));
    }
  }

  if (j.contains("seeds")) spec.seeds = read_seeds(j["seeds"], origin);

  if (j.contains("seed_major")) {
    if (!j["seed_major"].is_boolean()) throw Error(origin + ": seed_major: expected true or false");
    spec.seed_major = j["seed_major"].get<bool>();
  }
  if (j.contains("cases")) {
    const auto& cases = j["cases"];
    if (!cases.is_array() || cases.empty()) throw Error(origin + ": cases: expected a non-empty list");
    std::set<std::string> names;
    for (size_t i = 0; i < cases.size(); ++i) {
      const auto& c = cases[i];
      std::string where = origin + ": cases[" + std::to_string(i) + "]";
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string() || c["name"].get<std::string>().empty())
        throw Error(where + ": expected an object with a non-empty \"name\"");
      check_keys(c, {"name", "project", "set", "labels", "description", "seeds"}, where);
      Case kase;
      kase.name = c["name"].get<std::string>();
      where += " (" + kase.name + ")";
      if (!names.insert(kase.name).second) throw Error(where + ": name listed twice");
      if (c.contains("project")) {
        if (!c["project"].is_string()) throw Error(where + ": project: expected a path");
        kase.project = resolve_project(c["project"].get<std::string>(), base_dir, where);
      } else if (spec.base.is_null()) {
        throw Error(where + ": no project: give the case a \"project\" or the sweep a \"project\"/\"base\"");
      }
      if (c.contains("set")) kase.settings = read_settings(c["set"], where + ": set");
      if (c.contains("seeds")) kase.seeds = read_seeds(c["seeds"], where);
      if (c.contains("labels")) {
        if (!c["labels"].is_object()) throw Error(where + ": labels: expected an object of strings");
        for (const auto& [k, v] : c["labels"].items()) {
          if (!v.is_string()) throw Error(where + ": labels." + k + ": expected a string");
          kase.labels.emplace_back(k, v.get<std::string>());
        }
      }
      spec.cases.push_back(std::move(kase));
    }
  }
  if (j.contains("out")) {
    if (!j["out"].is_string() || j["out"].get<std::string>().empty())
      throw Error(origin + ": out: expected a directory path");
    spec.out = j["out"].get<std::string>();
  }
  if (j.contains("table")) spec.table = layout_from(j["table"], origin + ": table");
  if (j.contains("rank_by")) {
    if (!j["rank_by"].is_string() || j["rank_by"].get<std::string>().empty())
      throw Error(origin + ": rank_by: expected a result name (e.g. \"validation_adapted\")");
    spec.rank_by = j["rank_by"].get<std::string>();
    if (spec.rank_by == "adapted" || spec.rank_by == "adapted_top5" || spec.rank_by.rfind("pick:", 0) == 0 ||
        spec.rank_by == "source_only" || spec.rank_by == "source_only_adabn")
      throw Error(origin + ": rank_by: \"" + spec.rank_by + "\" is a target test accuracy, and no target test "
                  "label chooses anything; rank by validation_adapted (target.validation) instead");
  }
  if (j.contains("keep_best")) {
    static const std::vector<std::string> kKeepers{"bnm", "class_ami", "dev", "devn", "entropy", "im", "snd",
                                                   "validation_adapted"};
    const auto& k = j["keep_best"];
    const std::string by = k.is_string() ? k.get<std::string>() : std::string();
    if (std::find(kKeepers.begin(), kKeepers.end(), by) == kKeepers.end())
      throw Error(origin + ": keep_best: expected a label-free validator (" + join({kKeepers.begin(), kKeepers.end() - 1}, ", ") +
                  ") or validation_adapted (held-out labelled target training images), got " + k.dump() +
                  (by == "oracle" || by == "adapted" ? ": that is target test accuracy, and no target test label chooses anything" : ""));
    spec.keep_best = by;
  }
  if (j.contains("validator_pool")) {
    const auto& pool = j["validator_pool"];
    if (!pool.is_array()) throw Error(origin + ": validator_pool: expected a list of sweep directories");
    for (const auto& d : pool) {
      if (!d.is_string() || d.get<std::string>().empty())
        throw Error(origin + ": validator_pool: expected sweep directory paths, got " + d.dump());
      spec.validator_pool.push_back(d.get<std::string>());
    }
  }
  return spec;
}

SweepSpec load_spec(const std::filesystem::path& path) {
  const auto j = io::read_json_file(path);
  return spec_from_json(j, path.string(), path.parent_path());
}

std::vector<PlannedRun> expand(const SweepSpec& spec) {
  // Short axis names in run names: the key's last part unless two axes share it.
  std::map<std::string, int> last_count;
  auto last_part = [](const std::string& key) {
    const auto dot = key.rfind('.');
    return dot == std::string::npos ? key : key.substr(dot + 1);
  };
  for (const auto& a : spec.axes) ++last_count[last_part(a.key)];

  std::vector<Case> cases = spec.cases;
  if (cases.empty()) cases.push_back(Case{});
  // Every combination of axis values, first axis slowest.
  std::vector<std::vector<size_t>> combos{{}};
  for (const auto& axis : spec.axes) {
    std::vector<std::vector<size_t>> next;
    for (const auto& c : combos)
      for (size_t v = 0; v < axis.values.size(); ++v) {
        auto n = c;
        n.push_back(v);
        next.push_back(std::move(n));
      }
    combos = std::move(next);
  }
  std::vector<PlannedRun> runs;
  std::set<std::string> names;
  for (const auto& kase : cases) {
    json base = spec.base.is_null() ? json::object() : spec.base;
    if (kase.project) {
      base = io::read_json_file(*kase.project);
      if (!base.is_object()) throw Error(kase.project->string() + ": expected a JSON object at the top level");
    }
    for (const auto& [k, v] : spec.overrides) io::set_path(base, k, v);  // the sweep's "set": every case
    for (const auto& combo : combos) {
      PlannedRun run;
      run.case_name = kase.name;
      run.labels = kase.labels;
      run.settings = kase.settings;
      std::vector<std::string> parts;
      if (!kase.name.empty()) parts.push_back(name_part(kase.name));
      for (size_t a = 0; a < combo.size(); ++a) {
        const auto& axis = spec.axes[a];
        const auto& value = axis.values[combo[a]];
        run.settings.emplace_back(axis.key, value);
        const auto shown = last_count[last_part(axis.key)] > 1 ? axis.key : last_part(axis.key);
        parts.push_back(name_part(shown + "=" + text_of(value)));
      }
      run.group = parts.empty() ? spec.name : join(parts, "-");
      const std::vector<int64_t> seeds = !kase.seeds.empty() ? kase.seeds
                                         : spec.seeds.empty() ? std::vector<int64_t>{-1} : spec.seeds;
      for (const auto seed : seeds) {
        PlannedRun r = run;
        json config = base;
        for (const auto& [k, v] : r.settings) io::set_path(config, k, v);
        if (seed >= 0) io::set_path(config, "seed", seed);
        r.name = seed >= 0 ? (parts.empty() ? "" : r.group + "-") + "seed" + std::to_string(seed) : r.group;
        std::string where = spec.origin.string() + ": run " + r.name;
        if (!r.settings.empty()) {
          std::vector<std::string> s;
          for (const auto& [k, v] : r.settings) s.push_back(k + "=" + text_of(v));
          where += " (" + join(s, ", ") + ")";
        }
        r.config = io::validate_config(config, where);
        r.seed = r.config.value("seed", int64_t{0});
        if (!names.insert(r.name).second) throw Error(where + ": two runs would have the same name");
        runs.push_back(std::move(r));
      }
    }
  }
  // Every group's first seed first; the seeds only some cases have (listed after the sweep's) come last,
  // so that adding seeds to cases only appends runs to a plan.
  std::vector<int64_t> all_seeds = spec.seeds;
  for (const auto& kase : spec.cases)
    for (const auto seed : kase.seeds)
      if (std::find(all_seeds.begin(), all_seeds.end(), seed) == all_seeds.end()) all_seeds.push_back(seed);
  if (spec.seed_major && !all_seeds.empty()) {
    std::vector<PlannedRun> by_seed;
    for (const auto seed : all_seeds)
      for (const auto& r : runs)
        if (r.seed == seed) by_seed.push_back(r);
    runs = std::move(by_seed);
  }
  for (size_t i = 0; i < runs.size(); ++i) runs[i].index = static_cast<int>(i);
  return runs;
}

std::filesystem::path plan_path(const std::filesystem::path& sweep_dir) { return sweep_dir / "sweep.json"; }

json plan_to_json(const SweepSpec& spec, const std::vector<PlannedRun>& runs) {
  json list = json::array();
  for (const auto& r : runs) {
    json labels = json::object();
    for (const auto& [k, v] : r.labels) labels[k] = v;
    list.push_back({{"index", r.index},
                    {"name", r.name},
                    {"group", r.group},
                    {"case", r.case_name},
                    {"settings", settings_json(r.settings)},
                    {"labels", labels},
                    {"seed", r.seed},
                    {"config", r.config}});
  }
  json out = {{"format", 1}, {"name", spec.name}, {"spec", spec.origin.string()}, {"runs", list}};
  if (spec.table) out["table"] = layout_json(*spec.table);
  if (!spec.rank_by.empty()) out["rank_by"] = spec.rank_by;
  if (!spec.validator_pool.empty()) out["validator_pool"] = spec.validator_pool;
  if (!spec.keep_best.empty()) out["keep_best"] = spec.keep_best;
  return out;
}

std::vector<PlannedRun> plan_from_json(const json& j, const std::string& origin) {
  if (!j.is_object() || !j.contains("runs") || !j["runs"].is_array())
    throw Error(origin + ": not a sweep plan (expected an object with \"runs\")");
  std::vector<PlannedRun> runs;
  for (size_t i = 0; i < j["runs"].size(); ++i) {
    const auto& r = j["runs"][i];
    const std::string where = origin + ": runs[" + std::to_string(i) + "]";
    try {
      PlannedRun p;
      p.index = r.at("index").get<int>();
      p.name = r.at("name").get<std::string>();
      p.group = r.at("group").get<std::string>();
      p.case_name = r.value("case", std::string());
      p.settings = settings_from(r.at("settings"), where);
      const json labels = r.value("labels", json::object());  // a named value: items() must not outlive it
      for (const auto& [k, v] : labels.items()) p.labels.emplace_back(k, v.get<std::string>());
      p.seed = r.at("seed").get<int64_t>();
      p.config = r.at("config");
      if (p.index != static_cast<int>(i)) throw Error(where + ": index " + std::to_string(p.index) + " out of order");
      if (p.name.empty() || p.name.find('/') != std::string::npos) throw Error(where + ": name: not a directory name");
      runs.push_back(std::move(p));
    } catch (const json::exception& e) {
      throw Error(where + ": " + e.what());
    }
  }
  return runs;
}

std::optional<TableLayout> layout_from_plan(const json& j, const std::string& origin) {
  if (!j.contains("table")) return std::nullopt;
  return layout_from(j["table"], origin + ": table");
}

// ---- statistics and results ----

Stats stats(const std::vector<double>& values) {
  Stats s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / s.n;
  double sq = 0;
  for (double v : values) sq += (v - s.mean) * (v - s.mean);
  s.std = s.n > 1 ? std::sqrt(sq / (s.n - 1)) : 0.0;
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

std::string format_stats(const Stats& s, int digits) {
  if (s.n == 0) return "–";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f ± %.*f (%d)", digits, s.mean, digits, s.std, s.n);
  return buf;
}

std::vector<std::string> result_names(const io::Results& r) {
  std::vector<std::string> out;
  if (r.source_only) out.push_back("source_only");
  if (r.source_only_adabn) out.push_back("source_only_adabn");
  if (r.adapted) out.push_back("adapted");
  if (r.adapted) out.push_back("adapted_top5");
  if (r.source_test) out.push_back("source_test");
  if (r.validation_adapted) out.push_back("validation_adapted");
  for (const auto& [name, pick] : r.picks) out.push_back("pick:" + name);
  out.push_back("seconds");
  return out;
}

std::optional<double> result_value(const io::Results& r, const std::string& name) {
  if (name == "source_only" && r.source_only) return r.source_only->top1;
  if (name == "source_only_adabn" && r.source_only_adabn) return r.source_only_adabn->top1;
  if (name == "adapted" && r.adapted) return r.adapted->top1;
  if (name == "adapted_top5" && r.adapted) return r.adapted->top5;
  if (name == "source_test" && r.source_test) return r.source_test->top1;
  if (name == "validation_adapted") return r.validation_adapted;
  if (name == "validation_source_only") return r.validation_source_only;
  if (name == "seconds") return r.total_seconds();
  if (name.rfind("pick:", 0) == 0) {
    const auto it = r.picks.find(name.substr(5));
    if (it != r.picks.end()) return it->second.top1;
  }
  return std::nullopt;
}

std::vector<Setting> flatten(const json& config) {
  std::vector<Setting> out;
  std::function<void(const json&, const std::string&)> walk = [&](const json& j, const std::string& prefix) {
    if (j.is_object() && !j.empty()) {
      for (const auto& [k, v] : j.items()) walk(v, prefix.empty() ? k : prefix + "." + k);
    } else if (!prefix.empty()) {
      out.emplace_back(prefix, j);
    }
  };
  walk(config, "");
  return out;
}

std::vector<Difference> diff(const json& a, const json& b) {
  std::map<std::string, Difference> by_key;
  for (const auto& [k, v] : flatten(a)) by_key[k] = {k, v, nullptr};
  for (const auto& [k, v] : flatten(b)) {
    auto& d = by_key[k];
    d.key = k;
    d.b = v;
  }
  std::vector<Difference> out;
  for (auto& [k, d] : by_key)
    if (d.a != d.b) out.push_back(std::move(d));
  return out;
}

const std::vector<std::string>& ungrouped_keys() {
  static const std::vector<std::string> keys{"seed", "threads", "device", "data.root", "stage1.from"};
  return keys;
}

namespace {

// A config's settings that group runs (every flattened key but the ungrouped ones and `also_ignored`),
// and one string naming them.
std::map<std::string, json> grouping_settings(const json& config, const std::string& also_ignored = {}) {
  const auto& skip = ungrouped_keys();
  std::map<std::string, json> settings;
  for (auto& [k, v] : flatten(config))
    if (k != also_ignored && std::find(skip.begin(), skip.end(), k) == skip.end()) settings[k] = v;
  return settings;
}

std::string settings_key(const std::map<std::string, json>& settings) {
  std::string key;
  for (const auto& [k, v] : settings) key += k + "=" + v.dump() + "\n";
  return key;
}

}  // namespace

std::vector<Group> group_runs(const std::vector<io::RunSummary>& runs) {
  std::vector<Group> groups;
  std::vector<std::map<std::string, json>> group_settings;
  std::map<std::string, size_t> by_key;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].config.is_null()) continue;
    auto settings = grouping_settings(runs[i].config);
    const auto key = settings_key(settings);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      it = by_key.emplace(key, groups.size()).first;
      groups.emplace_back();
      group_settings.push_back(std::move(settings));
    }
    auto& g = groups[it->second];
    g.members.push_back(i);
    if (runs[i].results && runs[i].results->finished()) ++g.finished;
  }
  // The keys whose values differ between groups name them.
  std::set<std::string> all_keys;
  for (const auto& s : group_settings)
    for (const auto& [k, v] : s) all_keys.insert(k);
  std::vector<std::string> differing;
  for (const auto& k : all_keys) {
    const json* first = nullptr;
    bool differs = false;
    for (const auto& s : group_settings) {
      const auto it = s.find(k);
      static const json null_value;
      const json& v = it == s.end() ? null_value : it->second;
      if (first == nullptr) first = &v;
      else if (*first != v) differs = true;
    }
    if (differs) differing.push_back(k);
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::string> parts;
    for (const auto& k : differing) {
      const auto it = group_settings[g].find(k);
      const json v = it == group_settings[g].end() ? json() : it->second;
      groups[g].settings.emplace_back(k, v);
      parts.push_back(k + "=" + text_of(v));
    }
    groups[g].label = parts.empty() ? "all" : join(parts, ", ");
  }
  return groups;
}

Stats group_stats(const Group& group, const std::vector<io::RunSummary>& runs, const std::string& result) {
  std::vector<double> values;
  for (const auto i : group.members) {
    const auto& r = runs.at(i).results;
    if (!r || !r->finished()) continue;
    if (const auto v = result_value(*r, result)) values.push_back(*v);
  }
  return stats(values);
}

// ---- summary ----

namespace {

// Results in a stable, readable order: the paper's numbers first, then the picks, then time.
std::vector<std::string> ordered_results(const std::set<std::string>& present) {
  static const std::vector<std::string> first{"source_only", "source_only_adabn", "adapted", "adapted_top5",
                                              "source_test", "validation_adapted"};
  std::vector<std::string> out;
  for (const auto& r : first)
    if (present.count(r)) out.push_back(r);
  for (const auto& r : present)
    if (r.rfind("pick:", 0) == 0) out.push_back(r);
  if (present.count("seconds")) out.push_back("seconds");
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// A number with `digits` decimals, `missing` when there is none.
std::string fixed(const std::optional<double>& v, int digits, const char* missing) {
  if (!v) return missing;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, *v);
  return buf;
}

std::string md_cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

// A run's value on a layout dimension: a case label, else an axis setting.
std::optional<std::string> dimension(const PlannedRun& run, const std::string& name) {
  for (const auto& [k, v] : run.labels)
    if (k == name) return v;
  for (const auto& [k, v] : run.settings)
    if (k == name) return text_of(v);
  if (name == "case") return run.case_name;
  if (name == "seed") return std::to_string(run.seed);
  return std::nullopt;
}

}  // namespace

Summary summarize(const std::filesystem::path& sweep_dir) {
  const auto path = plan_path(sweep_dir);
  if (!std::filesystem::exists(path))
    throw Error(sweep_dir.string() + ": not a sweep directory (no sweep.json; run `fan sweep SPEC --out " +
                sweep_dir.string() + "` first)");
  const auto plan_json = io::read_json_file(path);
  const auto plan = plan_from_json(plan_json, path.string());
  const auto layout = layout_from_plan(plan_json, path.string());
  std::vector<io::RunSummary> summaries;
  for (const auto& r : plan) summaries.push_back(io::RunDirectory(sweep_dir / r.name).summary());

  Summary out;
  out.planned = static_cast<int>(plan.size());
  std::set<std::string> present;
  auto finished = [&](size_t i) { return summaries[i].results && summaries[i].results->finished(); };
  for (size_t i = 0; i < summaries.size(); ++i)
    if (finished(i)) {
      ++out.finished;
      for (const auto& r : result_names(*summaries[i].results)) present.insert(r);
    }

  // The label-free pick with the validator chosen on the other pairs (leave one pair out): the
  // validators' rank correlations over the finished runs of each other pair choose it.
  std::vector<std::filesystem::path> finished_dirs;
  std::map<std::string, std::vector<std::string>> usable;  // pair → validators every finished run of it picked with
  std::map<std::string, std::set<std::string>> seen;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!finished(i) || summaries[i].results->picks.empty()) continue;
    finished_dirs.push_back(sweep_dir / plan[i].name);
    std::set<std::string> names;
    for (const auto& [name, pick] : summaries[i].results->picks)
      if (name != "oracle") names.insert(name);
    const auto pair = analysis::pair_of(summaries[i].config);
    if (!seen.count(pair)) {
      seen[pair] = names;
    } else {
      std::set<std::string> both;
      std::set_intersection(seen[pair].begin(), seen[pair].end(), names.begin(), names.end(), std::inserter(both, both.end()));
      seen[pair] = both;
    }
  }
  for (const auto& [pair, names] : seen) usable[pair] = {names.begin(), names.end()};
  // Other sweeps' runs that join the choice (their pairs' tasks only count for the other pairs).
  std::vector<std::string> pool;
  if (plan_json.contains("validator_pool")) {
    for (const auto& d : plan_json["validator_pool"]) {
      const std::string p = d.is_string() ? d.get<std::string>() : std::string();
      if (p.empty() || !std::filesystem::is_directory(p))
        throw Error(path.string() + ": validator_pool: " + (p.empty() ? d.dump() : p) +
                    ": not a directory (expected a sweep directory, from the current directory, whose runs join "
                    "the validator choice)");
      finished_dirs.emplace_back(p);
      pool.push_back(p);
    }
  }
  std::map<std::string, analysis::HeldOutChoice> held_out;
  if (seen.size() > 1 || (!seen.empty() && !pool.empty())) {
    for (auto& c : analysis::choose_leave_one_pair_out(analysis::rank_validators(finished_dirs), usable))
      if (!c.validator.empty()) held_out[c.pair] = std::move(c);
  }
  const std::string kHeldOut = "pick:other_pairs";
  // A run's value of a result; kHeldOut: its pick by its pair's held-out validator.
  auto value_of = [&](size_t i, const std::string& result) -> std::optional<double> {
    if (!finished(i)) return std::nullopt;
    if (result == kHeldOut) {
      const auto it = held_out.find(analysis::pair_of(summaries[i].config));
      if (it == held_out.end()) return std::nullopt;
      return result_value(*summaries[i].results, "pick:" + it->second.validator);
    }
    return result_value(*summaries[i].results, result);
  };
  if (!held_out.empty()) present.insert(kHeldOut);
  const auto results = ordered_results(present);

  // Groups in expansion order.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!members.count(plan[i].group)) group_order.push_back(plan[i].group);
    members[plan[i].group].push_back(i);
  }
  auto values_of = [&](const std::vector<size_t>& idx, const std::string& result) {
    std::vector<double> v;
    for (auto i : idx)
      if (auto x = value_of(i, result)) v.push_back(*x);
    return v;
  };

  const std::string rank_by = plan_json.value("rank_by", std::string());
  if (!rank_by.empty()) {
    auto mean_of = [&](const std::string& g) {
      const auto s = stats(values_of(members[g], rank_by));
      return s.n > 0 ? s.mean : -std::numeric_limits<double>::infinity();
    };
    std::stable_sort(group_order.begin(), group_order.end(),
                     [&](const std::string& a, const std::string& b) { return mean_of(a) > mean_of(b); });
  }

  std::ostringstream md, csv;
  const std::string sweep_name = plan_json.value("name", std::string("sweep"));
  md << "## Sweep " << sweep_name << "\n\n"
     << out.finished << " of " << out.planned << " runs finished. Cells: mean ± sample std (n finished runs) "
     << "over seeds; top-1 on the whole target test set unless named otherwise (`pick:V`: the network validator V "
     << "picked; `pick:oracle` uses test labels and is for information only" << (held_out.empty() ? "" :
        "; `pick:other_pairs`: the pick of the validator that ranked best on the other pairs, named below") << ").\n\n";
  {
    // Which CPU code paths made the numbers: a rerun reproduces a run on its own path only.
    std::map<std::string, int> paths;
    for (size_t i = 0; i < plan.size(); ++i)
      if (summaries[i].results && summaries[i].results->finished()) ++paths[util::numerics_path(summaries[i].results->cpu)];
    if (!paths.empty()) {
      md << "CPU code paths of the finished runs (a rerun gives a run's numbers on its own path, `runs.csv` has it per run): ";
      bool first = true;
      for (const auto& [path, n] : paths) {
        md << (first ? "" : "; ") << (path.empty() ? "not recorded (runs made before the paths were)" : path) << " (" << n << ")";
        first = false;
      }
      md << ".\n\n";
    }
  }
  if (!rank_by.empty())
    md << "Groups ranked by " << rank_by << ", best first" << (rank_by == "validation_adapted" ?
          " (top-1 on held-out labelled target *training* images, `target.validation`: these choose; the test "
          "columns are for information)" : "") << ".\n\n";
  md << "| group | runs |";
  for (const auto& r : results) md << " " << r << " |";
  md << "\n|---|---|";
  for (size_t i = 0; i < results.size(); ++i) md << "---|";
  md << "\n";
  csv << "group,planned,finished,result,n,mean,std,min,max\n";
  for (const auto& g : group_order) {
    const auto& idx = members[g];
    int done = 0;
    for (auto i : idx) done += summaries[i].results && summaries[i].results->finished();
    md << "| " << md_cell(g) << " | " << done << "/" << idx.size() << " |";
    for (const auto& r : results) {
      const auto s = stats(values_of(idx, r));
      md << " " << (r == "seconds" ? (s.n ? std::to_string(static_cast<int64_t>(std::lround(s.mean))) + " s" : "–")
                                   : format_stats(s))
         << " |";
      if (s.n > 0)
        csv << csv_field(g) << "," << idx.size() << "," << done << "," << r << "," << s.n << "," << s.mean << ","
            << s.std << "," << s.min << "," << s.max << "\n";
    }
    md << "\n";
  }

  if (layout) {
    std::vector<std::string> rows = layout->row_order, cols = layout->column_order;
    std::map<std::pair<std::string, std::string>, std::vector<size_t>> cell;
    for (size_t i = 0; i < plan.size(); ++i) {
      const auto row = dimension(plan[i], layout->rows);
      const auto col = dimension(plan[i], layout->columns);
      if (!row || !col) continue;
      if (std::find(rows.begin(), rows.end(), *row) == rows.end()) rows.push_back(*row);
      if (std::find(cols.begin(), cols.end(), *col) == cols.end()) cols.push_back(*col);
      cell[{*row, *col}].push_back(i);
    }
    md << "\n### " << (layout->title.empty() ? sweep_name : layout->title) << "\n\n"
       << "Rows: " << layout->rows << "; columns: " << layout->columns << "; cells: " << layout->result
       << ", mean ± std (n).\n\n|  |";
    for (const auto& c : cols) md << " " << md_cell(c) << " |";
    md << "\n|---|";
    for (size_t i = 0; i < cols.size(); ++i) md << "---|";
    md << "\n";
    const auto& ref = layout->reference;
    auto row_line = [&](const std::string& title, const std::string& from, const std::string& result) {
      md << "| " << md_cell(title) << " |";
      for (const auto& c : cols) {
        const auto it = cell.find({from, c});
        std::string text;
        if (it != cell.end()) {
          const int planned_here = static_cast<int>(it->second.size());
          const auto s = stats(values_of(it->second, result));
          text = s.n > 0 ? format_stats(s) : "– (0 of " + std::to_string(planned_here) + " finished)";
        }
        if (ref.contains(title) && ref[title].contains(c))
          text += (text.empty() ? "" : " · ") + layout->reference_name + " " + ref[title][c].get<std::string>();
        md << " " << md_cell(text) << " |";
      }
      md << "\n";
    };
    for (const auto& e : layout->extra_rows) row_line(e.title, e.from, e.result);
    for (const auto& r : rows) row_line(r, r, layout->result);

    if (!held_out.empty()) {
      // The same table with each run's label-free pick, its validator chosen on the other pairs.
      md << "\n### " << (layout->title.empty() ? sweep_name : layout->title)
         << " — label-free pick (validator chosen on the other pairs)\n\n"
         << "Cells: " << kHeldOut << ", mean ± std (n): the checkpoint that the validator named below picked "
         << "(its target test top-1). Each pair's validator is the one with the highest mean Spearman ρ "
         << "(against target test accuracy along the curves) over the *other* pairs' runs, so no pair's own "
         << "target labels choose anything.\n\n|  |";
      for (const auto& c : cols) md << " " << md_cell(c) << " |";
      md << "\n|---|";
      for (size_t i = 0; i < cols.size(); ++i) md << "---|";
      md << "\n";
      for (const auto& r : rows) row_line(r, r, kHeldOut);
      md << "\nValidator per pair:\n\n";
      for (const auto& [pair, c] : held_out) {
        md << "- " << pair << ": **" << c.validator << "**, mean ρ " << std::fixed;
        md.precision(3);
        md << c.mean_spearman << " over " << c.chosen_on.size() << " task(s) of the other pairs (";
        for (size_t k = 0; k < c.chosen_on.size(); ++k) md << (k ? "; " : "") << c.chosen_on[k];
        md << ")\n";
        md.unsetf(std::ios::floatfield);
      }
      if (!pool.empty()) {
        md << "\nThe other pairs' runs include those of ";
        for (size_t k = 0; k < pool.size(); ++k) md << (k ? ", " : "") << "`" << pool[k] << "`";
        md << " (`validator_pool`).\n";
      }
    }
  }

  // Best of each seed's stage-2 draws, kept by one validator (keep_best): runs of one seed whose configs
  // agree but for stage2.draw and the ungrouped keys are one setting's draws.
  const std::string keep_by = plan_json.value("keep_best", std::string());
  std::map<size_t, bool> kept;  // planned run → kept; only runs whose seed's draws all finished
  if (!keep_by.empty()) {
    std::vector<std::string> setting_order;
    std::map<std::string, std::vector<std::pair<int64_t, std::vector<size_t>>>> families;  // setting → seed → draws
    for (size_t i = 0; i < plan.size(); ++i) {
      const auto key = settings_key(grouping_settings(plan[i].config, "stage2.draw"));
      if (!families.count(key)) setting_order.push_back(key);
      auto& seeds = families[key];
      auto it = std::find_if(seeds.begin(), seeds.end(), [&](const auto& f) { return f.first == plan[i].seed; });
      if (it == seeds.end()) it = seeds.insert(seeds.end(), std::make_pair(plan[i].seed, std::vector<size_t>{}));
      it->second.push_back(i);
    }
    auto draw_of = [&](size_t i) {
      const auto& c = plan[i].config;
      return c.contains("stage2") && c["stage2"].contains("draw") ? c["stage2"]["draw"].get<int64_t>() : int64_t{0};
    };
    // The keeper's value for run i (higher is better), or an error naming the run.
    auto score_of = [&](size_t i) {
      const auto dir = sweep_dir / plan[i].name;
      if (keep_by == "validation_adapted") {
        const auto v = summaries[i].results->validation_adapted;
        if (!v) throw Error(dir.string() + ": keep_best validation_adapted: the run has no held-out accuracy "
                            "(set target.validation to hold out labelled target training images)");
        return *v;
      }
      const auto scores = analysis::final_validator_scores(dir);
      const auto it = scores.values.find(keep_by);
      if (it == scores.values.end())
        throw Error(dir.string() + ": keep_best " + keep_by + ": no " + keep_by + " value at the end of stage 2 in " +
                    (dir / "metrics.jsonl").string() + " (eval.validator_images 0?)");
      return it->second;
    };
    const bool held_out_labels = keep_by == "validation_adapted";
    md << "\n### Best of the stage-2 draws, kept by " << keep_by << "\n\n"
       << "Runs of one seed whose configs differ only in `stage2.draw` (and `stage1.from`, the stage-1 network "
       << "they adapt) are draws of one setting. Of each seed's draws the one with the best " << keep_by
       << (held_out_labels ? " (top-1 on held-out labelled target *training* images, `target.validation`)"
                           : " at its last stage-2 evaluation (a label-free validator: no target label chose it)")
       << " is kept; a seed counts once all its draws have finished. Cells: the kept draws' results over seeds, "
       << "mean ± std (n) [min–max]; test columns " << (held_out_labels ? "are for information" : "choose nothing")
       << ".\n\n| setting | seeds | draws |";
    std::vector<std::string> shown;
    for (const auto& r : results)
      if (r != "seconds") shown.push_back(r);
    for (const auto& r : shown) md << " " << r << " |";
    md << "\n|---|---|---|";
    for (size_t i = 0; i < shown.size(); ++i) md << "---|";
    md << "\n";
    std::ostringstream detail;
    detail << "\nEvery draw (" << keep_by << (held_out_labels ? "" : " oriented so that higher is better")
           << "; adapted: the last iterate's target test top-1):\n\n| setting | seed | draw | " << keep_by
           << " | adapted | validation_adapted | kept |\n|---|---|---|---|---|---|---|\n";
    auto number = [](const std::optional<double>& v, int digits = 3) { return fixed(v, digits, "–"); };
    for (const auto& key : setting_order) {
      const auto& seeds = families[key];
      // The setting's name: the labels its runs share, else the first run's group.
      std::vector<std::string> title_parts;
      const auto first = seeds.front().second.front();
      for (const auto& [k, v] : plan[first].labels) {
        bool shared = true;
        for (const auto& [seed, idx] : seeds)
          for (auto i : idx) shared = shared && dimension(plan[i], k) == v;
        if (shared) title_parts.push_back(v);
      }
      for (const auto& [k, v] : plan[first].settings)
        if (k != "stage2.draw" && k != "stage1.from") title_parts.push_back(k + "=" + text_of(v));
      const std::string title = !title_parts.empty() ? join(title_parts, " · ")
                                : setting_order.size() == 1 ? std::string("all") : plan[first].group;
      std::vector<size_t> kept_runs;
      size_t most_draws = 0;
      for (const auto& [seed, idx] : seeds) {
        most_draws = std::max(most_draws, idx.size());
        const bool complete = std::all_of(idx.begin(), idx.end(), [&](size_t i) { return finished(i); });
        std::optional<size_t> best;
        std::map<size_t, double> score;
        if (complete) {
          for (auto i : idx) {
            score[i] = score_of(i);
            if (!best || score[i] > score[*best]) best = i;  // a tie keeps the earlier draw
          }
          for (auto i : idx) kept[i] = i == *best;
          kept_runs.push_back(*best);
        }
        for (auto i : idx) {
          detail << "| " << md_cell(title) << " | " << seed << " | " << draw_of(i) << " | "
                 << (score.count(i) ? number(score[i], 6) : (finished(i) ? "(waiting for the other draws)" : "not finished"))
                 << " | " << number(value_of(i, "adapted")) << " | " << number(value_of(i, "validation_adapted")) << " | "
                 << (kept.count(i) && kept[i] ? "**kept**" : "") << " |\n";
        }
      }
      md << "| " << md_cell(title) << " | " << kept_runs.size() << "/" << seeds.size() << " | " << most_draws << " |";
      for (const auto& r : shown) {
        const auto s = stats(values_of(kept_runs, r));
        std::string text = format_stats(s);
        if (s.n > 0 && (r == "adapted" || r == "validation_adapted")) {
          char buf[48];
          std::snprintf(buf, sizeof buf, " [%.3f–%.3f]", s.min, s.max);
          text += buf;
        }
        md << " " << md_cell(text) << " |";
        if (s.n > 0)
          csv << csv_field(title + " (best of draws by " + keep_by + ")") << "," << seeds.size() << "," << kept_runs.size()
              << "," << r << "," << s.n << "," << s.mean << "," << s.std << "," << s.min << "," << s.max << "\n";
      }
      md << "\n";
    }
    md << detail.str();
  }

  // One row per run: what anyone needs to rerun it and compare their number.
  {
    std::set<std::string> validators;
    for (size_t i = 0; i < plan.size(); ++i)
      if (finished(i))
        for (const auto& [name, pick] : summaries[i].results->picks)
          if (name != "oracle") validators.insert(name);
    std::vector<std::string> label_keys;
    for (const auto& r : plan)
      for (const auto& [k, v] : r.labels)
        if (std::find(label_keys.begin(), label_keys.end(), k) == label_keys.end()) label_keys.push_back(k);
    std::ostringstream rc;
    rc << "run,case";
    for (const auto& k : label_keys) rc << "," << csv_field(k);
    rc << ",seed,status,threads,device,cpu,commit,source_only,source_only_adabn,last";
    for (const auto& v : validators) rc << ",pick:" << v;
    rc << ",other_pairs_validator," << kHeldOut << ",oracle,validation_adapted,seconds";
    if (!keep_by.empty()) rc << ",kept_by_" << keep_by;
    rc << "\n";
    auto number = [](const std::optional<double>& v) { return fixed(v, 6, ""); };
    for (size_t i = 0; i < plan.size(); ++i) {
      const auto& run = plan[i];
      rc << csv_field(run.name) << "," << csv_field(run.case_name);
      for (const auto& k : label_keys) rc << "," << csv_field(dimension(run, k).value_or(""));
      rc << "," << run.seed << "," << io::to_string(summaries[i].status);
      if (!finished(i)) {
        rc << "\n";
        continue;
      }
      const auto& r = *summaries[i].results;
      const auto it = held_out.find(analysis::pair_of(summaries[i].config));
      rc << "," << r.threads << "," << csv_field(r.device) << "," << csv_field(util::numerics_path(r.cpu)) << ","
         << csv_field(r.fan_commit) << ","
         << number(value_of(i, "source_only")) << "," << number(value_of(i, "source_only_adabn")) << ","
         << number(value_of(i, "adapted"));
      for (const auto& v : validators) rc << "," << number(value_of(i, "pick:" + v));
      rc << "," << (it != held_out.end() ? it->second.validator : std::string()) << ","
         << number(value_of(i, kHeldOut)) << "," << number(value_of(i, "pick:oracle")) << ","
         << number(value_of(i, "validation_adapted")) << "," << number(value_of(i, "seconds"));
      if (!keep_by.empty()) rc << "," << (kept.count(i) ? (kept[i] ? "yes" : "no") : "");
      rc << "\n";
    }
    out.runs_csv = rc.str();
  }
  out.markdown = md.str();
  out.csv = csv.str();
  return out;
}

}  // namespace fan::sweep
