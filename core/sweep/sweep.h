// Sweeps: a base project and axes (config keys with lists of values, seeds, named cases) expanded into
// runs with stable names; and what many runs sum up to — groups over every setting but the seed,
// mean ± std (n), config diffs. No Torch: the runs table and `fan sweep --collect` only read.
#pragma once
#include "core/io/records.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fan::sweep {

// One setting of a run: a dotted config key and its value.
using Setting = std::pair<std::string, nlohmann::json>;

// A named combination that is not a grid (the paper's method × pair table): its own base
// project (optional), settings, and labels for the paper-table layout ("pair": "MNIST→USPS").
struct Case {
  std::string name;
  std::optional<std::filesystem::path> project;  // replaces the sweep's base project
  std::vector<Setting> settings;
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int64_t> seeds;  // empty: the sweep's (e.g. 5 seeds for the sampled cells, 3 for the full ones)
};

// A grid axis: every value of one config key.
struct Axis {
  std::string key;
  std::vector<nlohmann::json> values;
};

// One extra row of the paper-table layout taken from another result of the same runs
// (Table 1's "Source only" row is the source_only result of the FAN runs).
struct ExtraRow {
  std::string title;
  std::string result;  // a result name (result_names())
  std::string from;    // the row whose runs it reads
};

// "table": methods as rows, pairs as columns. rows/columns name a case label or an axis key.
struct TableLayout {
  std::string title;
  std::string rows, columns;
  std::string result = "adapted";
  std::vector<std::string> row_order, column_order;  // empty: first appearance
  std::vector<ExtraRow> extra_rows;                   // placed first
  // Published numbers to show beside ours: row title → column → text ("paper": {"FAN": {"M→U": "0.921"}}).
  std::string reference_name = "paper";
  nlohmann::json reference = nlohmann::json::object();
};

struct SweepSpec {
  std::filesystem::path origin;  // the spec file ("inline" when built in memory)
  std::string name;
  nlohmann::json base;           // the base project, not yet validated (null: every case has its own)
  std::vector<Setting> overrides;  // "set": applied to every case's project before its own settings
  std::filesystem::path base_project;  // where it came from (empty: inline)
  std::vector<Case> cases;       // empty: one case without a name
  std::vector<Axis> axes;
  std::vector<int64_t> seeds;    // empty: the project's own seed
  bool seed_major = false;       // expansion order: every group's seed 0 first (a partial sweep covers every group)
  std::filesystem::path out;     // default sweep directory ("" : sweeps/<name>)
  std::optional<TableLayout> table;
  // The summary lists groups by this result, best first (e.g. "validation_adapted": held-out labelled
  // target training images choose); empty: expansion order.
  std::string rank_by;
  // Other sweep directories (like `out`, from the current directory) whose finished runs join the runs
  // each pair's validator is chosen on (leave one pair out): Table 2 has one pair of its own and
  // chooses on Table 1's other pairs. Their runs are not rows of this sweep's tables.
  std::vector<std::string> validator_pool;
  // Best of several stage-2 draws: runs of one seed whose configs differ only in stage2.draw (and
  // stage1.from, the network they adapt) are draws of one setting, and the summary keeps of each seed's
  // draws the one this validator scores best at its last stage-2 evaluation ("bnm"; no target label
  // chooses), or the one with the best validation_adapted (held-out labelled target training images).
  // Empty: every run counts.
  std::string keep_best;
};

// One expanded run.
struct PlannedRun {
  int index = 0;                  // 0-based position in the expansion (the Slurm array index)
  std::string name;               // directory name: case, then axis values, then seed
  std::string group;              // the name without the seed
  std::string case_name;
  std::vector<Setting> settings;  // the case's and the axes' (the seed excluded)
  std::vector<std::pair<std::string, std::string>> labels;  // the case's labels
  int64_t seed = 0;
  nlohmann::json config;          // validated, complete
};

// Reads and checks a spec: every error names the file, the axis or case, and the key.
// A relative project path is looked up next to the spec file, then from the current directory.
SweepSpec load_spec(const std::filesystem::path& path);
SweepSpec spec_from_json(const nlohmann::json& j, const std::string& origin,
                         const std::filesystem::path& base_dir = {});
// Cases × axes (the first axis varies slowest) × seeds (fastest; slowest with seed_major), each
// config validated; names are unique.
std::vector<PlannedRun> expand(const SweepSpec& spec);

// The expansion as written to SWEEP_DIR/sweep.json before any run starts, and read back.
nlohmann::json plan_to_json(const SweepSpec& spec, const std::vector<PlannedRun>& runs);
std::vector<PlannedRun> plan_from_json(const nlohmann::json& j, const std::string& origin);
std::optional<TableLayout> layout_from_plan(const nlohmann::json& j, const std::string& origin);
std::filesystem::path plan_path(const std::filesystem::path& sweep_dir);  // SWEEP_DIR/sweep.json

// ---- What runs sum up to ----

struct Stats {
  int n = 0;
  double mean = 0, std = 0;  // std: sample standard deviation (n − 1), 0 for one value
  double min = 0, max = 0;
};
Stats stats(const std::vector<double>& values);
std::string format_stats(const Stats& s, int digits = 3);  // "0.912 ± 0.014 (3)", "–" when n = 0

// The results a table can show: "source_only", "source_only_adabn", "adapted", "adapted_top5",
// "source_test", "validation_adapted", "pick:<validator>" (the picked network's target test top-1),
// "seconds". Absent for a run that lacks it.
std::vector<std::string> result_names(const io::Results& results);
std::optional<double> result_value(const io::Results& results, const std::string& name);

// Config fields flattened to dotted keys ("stage2.lr" → 0.0002).
std::vector<Setting> flatten(const nlohmann::json& config);
// The keys whose values differ between a and b (either side null where absent), in key order.
struct Difference {
  std::string key;
  nlohmann::json a, b;
};
std::vector<Difference> diff(const nlohmann::json& a, const nlohmann::json& b);

// Keys that never group runs: the seed, and where and how a run ran.
const std::vector<std::string>& ungrouped_keys();

// Runs grouped by their config without the ungrouped keys. label: the settings that differ
// between the groups ("model.variant=adda, stage2.lr=0.0002"; "all" for one group).
struct Group {
  std::string label;
  std::vector<Setting> settings;  // the differing settings' values in this group
  std::vector<size_t> members;    // indices into the runs given
  int finished = 0;
};
std::vector<Group> group_runs(const std::vector<io::RunSummary>& runs);
// A result over a group's finished members.
Stats group_stats(const Group& group, const std::vector<io::RunSummary>& runs, const std::string& result);

// ---- A sweep directory's summary (`fan sweep --collect`) ----

struct Summary {
  std::string markdown, csv;
  std::string runs_csv;  // one row per planned run: case, labels, seed, threads, device, commit, every result
  int planned = 0, finished = 0;
};
// Grouped by every axis except the seed, in expansion order: mean ± std (n) of every result any
// finished run has; the paper-table layout after it when the plan has one, and, when the runs cover
// more than one pair, the same table for each run's label-free pick by the validator that ranked best
// on the other pairs ("pick:other_pairs", leave one pair out); with keep_best, the kept draws' table.
Summary summarize(const std::filesystem::path& sweep_dir);

}  // namespace fan::sweep
