// The command line's event sink: a progress bar on a terminal, plain lines otherwise.
#pragma once
#include "core/events/events.h"

#include <chrono>
#include <cstdio>

namespace fan::cli {

class ConsoleSink : public train::EventSink {
 public:
  explicit ConsoleSink(bool quiet = false);
  void on_stage(const train::StageEvent& e) override;
  void on_step(const train::StepEvent& e) override;
  void on_evaluation(const train::EvaluationEvent& e) override;
  void on_message(const std::string& m) override;
  void on_error(const std::string& m) override;

 private:
  void end_bar();
  bool tty_;
  bool quiet_;
  bool bar_open_ = false;
  std::chrono::steady_clock::time_point last_plain_{};
};

// "1:02:03" / "2:03".
std::string format_duration(double seconds);

}  // namespace fan::cli
