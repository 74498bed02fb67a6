// The loss and accuracy curves of a run from its metric records.
#include "core/analysis/curves.h"

#include "core/analysis/validators.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace fan::analysis {
namespace {

// matplotlib's tab10, for series without a colour of their own.
const Rgb kTab10[10] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
                        {140, 86, 75},   {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

std::string number(double v) {
  char buffer[32];
  const auto [ptr, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  return std::string(buffer, ptr);
}

}  // namespace

std::string accuracy_series_name(const std::string& split) {
  std::string name = split;
  for (auto& c : name)
    if (c == '_') c = ' ';
  return name + " accuracy";
}

Rgb series_color(const std::string& name, size_t fallback_index) {
  // Fixed per name, so a series keeps its colour whichever series came first.
  static const std::map<std::string, Rgb> kColors = {
      {"Lc", kTab10[0]},
      {"Lm", kTab10[1]},
      {"Lr", kTab10[2]},
      {"L_advD", kTab10[3]},
      {"L_advM", kTab10[4]},
      {"Lim", kTab10[5]},  // beyond the paper: stage2.information_maximization
      {"total", kTab10[7]},
      // D's accuracy sits on the accuracy axis beside the test accuracies: a colour no loss or
      // test accuracy has (its dash-dot pen is FigureRenderer::styleGraph's).
      {kDiscriminatorAccuracy, kTab10[6]},
      {"source test accuracy", kTab10[9]},
      {"target test accuracy", Rgb{0, 0, 0}},
      {"target validation accuracy", kTab10[8]},
      // The validators (their own plot: the selection view).
      {"entropy", kTab10[0]},
      {"class_ami", kTab10[1]},
      {"im", kTab10[2]},
      {"dev", kTab10[3]},
      {"snd", kTab10[4]},
      {"devn", kTab10[5]},
      {"bnm", kTab10[6]},
      {"source_accuracy", kTab10[7]},
  };
  const auto it = kColors.find(name);
  return it != kColors.end() ? it->second : kTab10[fallback_index % 10];
}

CurveBuilder::CurveBuilder() {
  for (int stage : {1, 2}) {
    auto& fig = stage == 1 ? stage1_ : stage2_;
    fig.title = stage == 1 ? "stage 1 (source network) losses" : "stage 2 (adaptation) losses";
    fig.x_label = "step";
    fig.y_label = "loss";
    fig.y2_label = "accuracy";
    fig.log_y = stage == 1;
  }
  accuracy_.x_label = "step (stage 1, then stage 2)";
  accuracy_.y_label = "top-1 accuracy";
  accuracy_.title = "test accuracy";
}

CurveSeries& CurveBuilder::series(CurveFigure& figure, std::map<std::string, size_t>& index, const std::string& name,
                                  bool right_axis, bool measured) {
  auto it = index.find(name);
  if (it == index.end()) {
    CurveSeries s;
    s.name = name;
    s.right_axis = right_axis;
    s.color = series_color(name, figure.series.size());
    s.dashed = measured;
    s.markers = measured;
    it = index.emplace(name, figure.series.size()).first;
    figure.series.push_back(std::move(s));
  }
  return figure.series[it->second];
}

void CurveBuilder::add(const io::MetricRecord& record) {
  ++records_;
  if (const auto* stage = std::get_if<events::StageEvent>(&record)) {
    if (stage->stage == 1) {
      stage1_total_ = stage->total_steps;
      accuracy_.title = "test accuracy (stage 2 steps counted after the " + std::to_string(stage1_total_) +
                        " of stage 1)";
    }
    return;
  }
  if (const auto* step = std::get_if<events::StepEvent>(&record)) {
    auto& fig = step->stage == 1 ? stage1_ : stage2_;
    auto& index = step->stage == 1 ? index1_ : index2_;
    for (const auto& [name, value] : step->losses) {
      // The discriminator's accuracy is logged with the losses but is no loss.
      const bool accuracy = name == "D_acc";
      auto& s = series(fig, index, accuracy ? kDiscriminatorAccuracy : name, accuracy, /*measured=*/false);
      s.x.push_back(static_cast<double>(step->step));
      s.y.push_back(value);
    }
    return;
  }
  // The validators are drawn by their own view (selection()).
  if (const auto* v = std::get_if<events::ValidatorEvent>(&record)) {
    if (v->stage == 2 && v->network == "target")
      for (const auto& [name, value] : v->values) validators_[name].emplace_back(v->step, value);
    return;
  }
  const auto& e = std::get<events::EvaluationEvent>(record);
  if (e.stage == 2 && e.split == "target_validation") validation_.emplace_back(e.step, e.top1);
  const std::string name = accuracy_series_name(e.split);
  auto& fig = e.stage == 1 ? stage1_ : stage2_;
  auto& s = series(fig, e.stage == 1 ? index1_ : index2_, name, /*right_axis=*/true, /*measured=*/true);
  s.x.push_back(static_cast<double>(e.step));
  s.y.push_back(e.top1);
  auto& global = series(accuracy_, accuracy_index_, name + ", " + e.network + " network", false, true);
  global.x.push_back(static_cast<double>(e.stage == 2 ? stage1_total_ + e.step : e.step));
  global.y.push_back(e.top1);
}

std::map<std::string, std::pair<int64_t, double>> CurveBuilder::picks() const {
  std::map<std::string, std::pair<int64_t, double>> out;
  for (const auto& [name, points] : validators_) {
    std::optional<double> best;
    for (const auto& [step, value] : points)
      if (improves(best, value, name)) {
        best = value;
        out[name] = {step, value};
      }
  }
  return out;
}

CurveFigure CurveBuilder::selection() const {
  CurveFigure fig;
  fig.title = "checkpoint selection: label-free validators of the target network (1 = best so far)";
  fig.x_label = "step";
  fig.y_label = "validator, scaled (1 = best)";
  fig.y2_label = "held-out target validation accuracy";
  const auto chosen = picks();
  size_t index = 0;
  for (const auto& [name, points] : validators_) {
    double lo = points.front().second, hi = lo;
    for (const auto& [step, value] : points) {
      lo = std::min(lo, value);
      hi = std::max(hi, value);
    }
    CurveSeries s;
    s.name = name;
    s.color = series_color(name, index++);
    const bool higher = higher_is_better(name);
    for (const auto& [step, value] : points) {
      // A validator that has not moved yet sits at the top.
      const double scaled = hi > lo ? (value - lo) / (hi - lo) : 1.0;
      s.x.push_back(static_cast<double>(step));
      s.y.push_back(higher ? scaled : 1.0 - scaled);
    }
    CurveSeries pick;
    pick.name = name + " pick";
    pick.color = s.color;
    pick.markers = true;
    pick.in_legend = false;
    if (const auto it = chosen.find(name); it != chosen.end()) {
      for (size_t i = 0; i < points.size(); ++i)
        if (points[i].first == it->second.first) {
          pick.x.push_back(s.x[i]);
          pick.y.push_back(s.y[i]);
        }
    }
    fig.series.push_back(std::move(s));
    fig.series.push_back(std::move(pick));
  }
  if (!validation_.empty()) {
    CurveSeries v;
    v.name = accuracy_series_name("target_validation");
    v.color = series_color(v.name, 0);
    v.right_axis = v.dashed = v.markers = true;
    for (const auto& [step, top1] : validation_) {
      v.x.push_back(static_cast<double>(step));
      v.y.push_back(top1);
    }
    fig.series.push_back(std::move(v));
  }
  return fig;
}

CurveBuilder curves_from_metrics(const std::vector<io::MetricRecord>& records) {
  CurveBuilder builder;
  for (const auto& r : records) builder.add(r);
  return builder;
}

std::string curves_csv(const CurveFigure& figure) {
  std::string csv = "series,step,value\n";
  for (const auto& s : figure.series)
    for (size_t i = 0; i < s.x.size(); ++i) csv += s.name + "," + number(s.x[i]) + "," + number(s.y[i]) + "\n";
  return csv;
}

}  // namespace fan::analysis
