// Compiled without Torch's include paths: the records, the events, the config schema and the
// plot descriptions are usable by a front end that has no Torch (a runs table, a sweep collector and runner).
#include "core/analysis/curves.h"
#include "core/analysis/live_embedding.h"
#include "core/analysis/plot_data.h"
#include "core/events/events.h"
#include "core/io/config_schema.h"
#include "core/io/embedding_frames.h"
#include "core/io/records.h"
#include "core/util/blas_kernels.h"
#include "core/util/numerics.h"
#include "core/sweep/runner.h"
#include "core/sweep/sweep.h"

namespace fan::test {
// One use of each, so that the headers are not only parsed but instantiated.
int headers_without_torch() {
  io::Results results;
  analysis::CurveBuilder curves;
  curves.add(io::MetricRecord(events::StageEvent{1, "source", 10}));
  sweep::RunnerOptions runner;
  return static_cast<int>(results.seed + curves.stage1_total() + io::config_schema().size() +
                          sweep::stats({1.0, 2.0}).n + runner.jobs);
}
}  // namespace fan::test
