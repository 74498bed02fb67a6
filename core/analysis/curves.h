// The loss and accuracy curves of a run, built from its metric records: one producer for every front end.
// `fan figures`, the workbench's live plots (fed record by record) and a reopened run all draw these.
#pragma once
#include "core/analysis/plot_data.h"
#include "core/io/records.h"

#include <map>
#include <string>
#include <vector>

namespace fan::analysis {

// The names the curves go by (the plots' legends and the CSV's "series" column).
std::string accuracy_series_name(const std::string& split);  // "target_test" → "target test accuracy"
constexpr const char* kDiscriminatorAccuracy = "discriminator accuracy";

// One colour per series name, the same in every figure and every front end.
Rgb series_color(const std::string& name, size_t fallback_index);

// Collects the curves of one run as its records arrive.
class CurveBuilder {
 public:
  CurveBuilder();
  void add(const io::MetricRecord& record);
  // Stage 1 or 2: losses per logged step (left axis); the discriminator's
  // accuracy and the evaluations' top-1 on the right axis.
  const CurveFigure& stage(int stage) const { return stage == 1 ? stage1_ : stage2_; }
  // Every evaluation on one axis of steps (stage 2 counted after stage 1's steps).
  const CurveFigure& accuracy() const { return accuracy_; }
  // Checkpoint selection at a glance: every validator of the target network over the stage-2
  // evaluations, scaled to [0, 1] over the points so far with 1 = best (entropy flipped), a dot
  // where each picks (its best point, as stage2.select keeps it), and the held-out target
  // validation accuracy on the right axis when the run has one.
  CurveFigure selection() const;
  // Each validator's pick so far: step and value (the rule of analysis::improves).
  std::map<std::string, std::pair<int64_t, double>> picks() const;
  int64_t stage1_total() const { return stage1_total_; }
  size_t records() const { return records_; }

 private:
  CurveSeries& series(CurveFigure& figure, std::map<std::string, size_t>& index, const std::string& name,
                      bool right_axis, bool measured);
  CurveFigure stage1_, stage2_, accuracy_;
  std::map<std::string, std::vector<std::pair<int64_t, double>>> validators_;  // target network, stage 2
  std::vector<std::pair<int64_t, double>> validation_;                          // target validation top-1, stage 2
  std::map<std::string, size_t> index1_, index2_, accuracy_index_;
  int64_t stage1_total_ = 0;
  size_t records_ = 0;
};

CurveBuilder curves_from_metrics(const std::vector<io::MetricRecord>& records);

// A figure as CSV: series,step,value (every point, raw).
std::string curves_csv(const CurveFigure& figure);

}  // namespace fan::analysis
