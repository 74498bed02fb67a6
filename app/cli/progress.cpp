// The command line's event sink.
#include "progress.h"

#include <unistd.h>

#include <cmath>
#include <sstream>

namespace fan::cli {
namespace {
// Width of the bar in characters, and the interval of plain progress lines.
constexpr int kBarWidth = 24;
constexpr double kPlainIntervalSeconds = 5.0;
}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

ConsoleSink::ConsoleSink(bool quiet) : tty_(::isatty(STDERR_FILENO) != 0), quiet_(quiet) {}

void ConsoleSink::end_bar() {
  if (bar_open_) std::fprintf(stderr, "\n");
  bar_open_ = false;
}

void ConsoleSink::on_stage(const train::StageEvent& e) {
  end_bar();
  std::fprintf(stderr, "== stage %d: %s (%lld steps)\n", e.stage, e.name.c_str(), (long long)e.total_steps);
}

void ConsoleSink::on_step(const train::StepEvent& e) {
  if (quiet_) return;
  const double fraction = e.total_steps > 0 ? static_cast<double>(e.step) / e.total_steps : 1.0;
  const double eta = fraction > 0 ? e.elapsed_seconds * (1 - fraction) / fraction : NAN;
  std::ostringstream losses;
  for (const auto& [name, value] : e.losses) {
    char buf[48];
    std::snprintf(buf, sizeof buf, " %s %.4f", name.c_str(), value);
    losses << buf;
  }
  if (tty_) {
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(filled, '#');
    bar.resize(kBarWidth, '.');
    std::fprintf(stderr, "\r\033[K[%s] %d %lld/%lld%s %.0f img/s ETA %s", bar.c_str(), e.stage,
                 (long long)e.step, (long long)e.total_steps, losses.str().c_str(), e.images_per_second,
                 format_duration(eta).c_str());
    bar_open_ = true;
    if (e.step == e.total_steps) end_bar();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (e.step != e.total_steps && std::chrono::duration<double>(now - last_plain_).count() < kPlainIntervalSeconds) return;
  last_plain_ = now;
  std::fprintf(stderr, "stage %d step %lld/%lld%s %.0f img/s elapsed %s ETA %s\n", e.stage, (long long)e.step,
               (long long)e.total_steps, losses.str().c_str(), e.images_per_second,
               format_duration(e.elapsed_seconds).c_str(), format_duration(eta).c_str());
}

void ConsoleSink::on_evaluation(const train::EvaluationEvent& e) {
  if (quiet_) return;
  end_bar();
  std::fprintf(stderr, "eval stage %d step %lld: %s network on %s (%lld images): top-1 %.4f top-5 %.4f\n", e.stage,
               (long long)e.step, e.network.c_str(), e.split.c_str(), (long long)e.images, e.top1, e.top5);
}

void ConsoleSink::on_message(const std::string& m) {
  end_bar();
  std::fprintf(stderr, "%s\n", m.c_str());
}

void ConsoleSink::on_error(const std::string& m) {
  end_bar();
  std::fprintf(stderr, "error: %s\n", m.c_str());
}

}  // namespace fan::cli
