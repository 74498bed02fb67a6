// The validators' rank study over run directories.
#include "core/analysis/rank_study.h"

#include "core/analysis/validators.h"
#include "core/io/run_dir.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace fan::analysis {
namespace {

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double average = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) r[order[k]] = average;
    i = j + 1;
  }
  return r;
}

// One run's evaluation points: step → (validator values, curve test top-1).
struct RunPoints {
  std::map<int64_t, std::map<std::string, double>> validators;
  std::map<int64_t, double> accuracy;
  std::map<int64_t, double> d_accuracy;  // the discriminator's accuracy logged at that step
  io::Results results;
  std::string pair;
};

std::string task_of(const nlohmann::json& config) {
  const auto& model = config.contains("model") ? config.at("model") : nlohmann::json::object();
  return pair_of(config) + " " + config.at("source").value("protocol", std::string("?")) + ", " +
         model.value("variant", std::string("full"));
}

std::string fixed(double v, int digits = 3) {
  if (!std::isfinite(v)) return "–";
  std::ostringstream s;
  s.precision(digits);
  s << std::fixed << v;
  return s.str();
}

}  // namespace

std::string pair_of(const nlohmann::json& config) {
  auto side = [&](const char* key) {
    const auto& d = config.at(key);
    return d.value("dataset", std::string("?")) +
           (d.value("dataset", "") == "folder" ? ":" + d.value("folder", "") : "");
  };
  return side("source") + "→" + side("target");
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) return std::nan("");
  const auto rx = ranks(x), ry = ranks(y);
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n,
               my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

namespace {

using TaskRuns = std::map<std::string, std::vector<std::pair<std::filesystem::path, RunPoints>>>;

// Finished runs with validator records in `paths`, by task.
TaskRuns read_runs(const std::vector<std::filesystem::path>& paths, std::vector<std::string>* skipped) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& p : paths) {
    if (!std::filesystem::is_directory(p)) throw Error(p.string() + ": not a directory");
    if (io::RunDirectory(p).summary().status != io::RunSummary::Status::kNotARun) {
      dirs.push_back(p);
      continue;
    }
    std::vector<std::filesystem::path> inside;
    for (const auto& entry : std::filesystem::directory_iterator(p))
      if (entry.is_directory()) inside.push_back(entry.path());
    std::sort(inside.begin(), inside.end());
    dirs.insert(dirs.end(), inside.begin(), inside.end());
  }
  auto skip = [&](const std::filesystem::path& d, const std::string& why) {
    if (skipped) skipped->push_back(d.string() + ": " + why);
  };
  std::map<std::string, std::vector<std::pair<std::filesystem::path, RunPoints>>> by_task;
  for (const auto& d : dirs) {
    const io::RunDirectory run(d);
    const auto summary = run.summary();
    if (summary.status != io::RunSummary::Status::kFinished) {
      skip(d, io::to_string(summary.status) + (summary.problem.empty() ? "" : " (" + summary.problem + ")"));
      continue;
    }
    RunPoints points;
    points.results = *summary.results;
    points.pair = pair_of(summary.config);
    for (const auto& record : run.read_metrics()) {
      if (const auto* v = std::get_if<events::ValidatorEvent>(&record);
          v && v->stage == 2 && v->network == "target")
        points.validators[v->step] = v->values;
      if (const auto* step = std::get_if<events::StepEvent>(&record);
          step && step->stage == 2 && step->losses.count("D_acc"))
        points.d_accuracy[step->step] = step->losses.at("D_acc");
      if (const auto* e = std::get_if<events::EvaluationEvent>(&record);
          e && e->stage == 2 && e->split == "target_test" && e->network == "target")
        points.accuracy[e->step] = e->top1;
    }
    if (points.validators.empty()) {
      skip(d, "no validator records (run before eval.validator_images, or with it 0)");
      continue;
    }
    if (!points.results.adapted) {
      skip(d, "no adapted accuracy");
      continue;
    }
    by_task[task_of(summary.config)].emplace_back(d, std::move(points));
  }
  return by_task;
}

// One task's study: every validator's correlation and picks over its runs.
TaskStudy score_task(const std::string& task,
                     const std::vector<std::pair<std::filesystem::path, RunPoints>>& runs) {
  TaskStudy study;
  study.task = task;
  study.pair = runs.empty() ? std::string() : runs.front().second.pair;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>>
      pooled;  // validator → (values, accuracy)
  std::map<std::string, std::vector<double>> minus_last, minus_oracle;
  double sum_last = 0, sum_oracle = 0;
  for (const auto& [dir, p] : runs) {
    study.runs.push_back(dir);
    const double last = p.results.adapted->top1;
    const auto oracle_it = p.results.picks.find("oracle");
    const double oracle = oracle_it != p.results.picks.end() ? oracle_it->second.top1 : std::nan("");
    sum_last += last;
    sum_oracle += oracle;
    for (const auto& [step, values] : p.validators) {
      const auto acc = p.accuracy.find(step);
      if (acc == p.accuracy.end()) continue;
      for (const auto& [name, value] : values) {
        // Oriented so that higher means better for every validator.
        pooled[name].first.push_back(higher_is_better(name) ? value : -value);
        pooled[name].second.push_back(acc->second);
      }
      // The adversarial signal already logged, for comparison: a discriminator near chance
      // (0.5) means domains it cannot tell apart.
      if (const auto d = p.d_accuracy.find(step); d != p.d_accuracy.end()) {
        pooled["d_accuracy (near 0.5)"].first.push_back(-std::abs(d->second - 0.5));
        pooled["d_accuracy (near 0.5)"].second.push_back(acc->second);
      }
    }
    for (const auto& [name, pick] : p.results.picks) {
      if (name == "oracle") continue;
      minus_last[name].push_back(pick.top1 - last);
      minus_oracle[name].push_back(pick.top1 - oracle);
    }
  }
  const double n = static_cast<double>(runs.size());
  study.mean_last = sum_last / n;
  study.mean_oracle = sum_oracle / n;
  for (const auto& [name, xy] : pooled) {
    ValidatorScore s;
    s.validator = name;
    s.spearman = spearman(xy.first, xy.second);
    s.points = static_cast<int64_t>(xy.first.size());
    auto mean = [](const std::vector<double>& v) {
      return v.empty() ? std::nan("")
                       : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    };
    s.pick_minus_last = mean(minus_last[name]);
    s.pick_minus_oracle = mean(minus_oracle[name]);
    s.runs = static_cast<int64_t>(minus_last[name].size());
    study.scores.push_back(s);
  }
  return study;
}

}  // namespace

FinalScores final_validator_scores(const std::filesystem::path& run_dir) {
  FinalScores out;
  for (const auto& record : io::RunDirectory(run_dir).read_metrics()) {
    const auto* v = std::get_if<events::ValidatorEvent>(&record);
    if (v == nullptr || v->stage != 2 || v->network != "target" || v->step < out.step) continue;
    out.step = v->step;
    out.values.clear();
    for (const auto& [name, value] : v->values) out.values[name] = higher_is_better(name) ? value : -value;
  }
  return out;
}

std::vector<TaskStudy> rank_validators(const std::vector<std::filesystem::path>& paths,
                                       std::vector<std::string>* skipped) {
  std::vector<TaskStudy> out;
  for (const auto& [task, runs] : read_runs(paths, skipped)) out.push_back(score_task(task, runs));
  return out;
}

std::vector<HeldOutChoice> choose_leave_one_pair_out(const std::vector<TaskStudy>& tasks,
                                                     const std::map<std::string, std::vector<std::string>>& usable) {
  std::vector<HeldOutChoice> out;
  for (const auto& [pair, candidates] : usable) {
    HeldOutChoice choice;
    choice.pair = pair;
    // Each candidate's ρ on the other pairs' tasks; only those scored on as many tasks as the best
    // covered compete (a mean over fewer tasks is not comparable: DEV and source accuracy exist only
    // where source images were held out).
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, double>>>> scored;
    size_t most = 0;
    for (const auto& v : candidates) {
      std::vector<std::pair<std::string, double>> on;
      for (const auto& t : tasks) {
        if (t.pair == pair) continue;
        const auto it = std::find_if(t.scores.begin(), t.scores.end(), [&](const ValidatorScore& s) { return s.validator == v; });
        if (it != t.scores.end() && std::isfinite(it->spearman)) on.emplace_back(t.task, it->spearman);
      }
      most = std::max(most, on.size());
      scored.emplace_back(v, std::move(on));
    }
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& [v, on] : scored) {
      if (on.empty() || on.size() < most) continue;
      double sum = 0;
      for (const auto& [task, rho] : on) sum += rho;
      const double mean = sum / static_cast<double>(on.size());
      if (mean > best) {  // ties: the first in name order
        best = mean;
        choice.validator = v;
        choice.mean_spearman = mean;
        choice.chosen_on.clear();
        for (const auto& [task, rho] : on) choice.chosen_on.push_back(task);
      }
    }
    out.push_back(std::move(choice));
  }
  return out;
}

std::string rank_study_markdown(const std::vector<TaskStudy>& tasks) {
  std::string md;
  for (const auto& t : tasks) {
    md += "## " + t.task + " (" + std::to_string(t.runs.size()) + " runs; last iterate " +
          fixed(t.mean_last) + ", oracle " + fixed(t.mean_oracle) + " mean target test top-1)\n\n";
    md +=
        "| validator | Spearman ρ with test accuracy | points | pick − last | pick − oracle "
        "|\n|---|---|---|---|---|\n";
    for (const auto& s : t.scores)
      md += "| " + s.validator + " | " + fixed(s.spearman) + " | " + std::to_string(s.points) + " | " +
            fixed(s.pick_minus_last, 4) + " | " + fixed(s.pick_minus_oracle, 4) + " |\n";
    md += "\n";
  }
  return md;
}

std::string rank_study_csv(const std::vector<TaskStudy>& tasks) {
  std::string csv = "task,validator,spearman,points,pick_minus_last,pick_minus_oracle,runs\n";
  for (const auto& t : tasks)
    for (const auto& s : t.scores)
      csv += "\"" + t.task + "\"," + s.validator + "," + fixed(s.spearman, 6) + "," +
             std::to_string(s.points) + "," + fixed(s.pick_minus_last, 6) + "," +
             fixed(s.pick_minus_oracle, 6) + "," + std::to_string(s.runs) + "\n";
  return csv;
}

}  // namespace fan::analysis
