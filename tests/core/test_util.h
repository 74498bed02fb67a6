// Helpers shared by the core tests: scratch directories and the data root.
#pragma once
#include "core/events/events.h"
#include "core/util/error.h"

#include <QString>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace fan::test {

// A fresh, empty directory under the system temp dir, removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "fan-test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// $FAN_DATA when it is set and holds `dataset`'s folder, else empty: tests on
// the real datasets skip themselves when it is empty.
std::filesystem::path real_data_root(const std::string& dataset);

// A project that runs in seconds on write_synthetic_domains(root, …) (synthetic.h): MNIST→USPS
// digits, full protocol, 3 stage-1 epochs of 32, 24 stage-2 steps, evaluations every 8, 1 thread.
nlohmann::json tiny_project(const std::filesystem::path& root);

// Asks for a stop once a given step of a given stage has been logged.
class StopAt : public events::EventSink {
 public:
  StopAt(events::StopToken& token, int stage, int64_t step) : token_(token), stage_(stage), step_(step) {}
  void on_step(const events::StepEvent& e) override {
    if (e.stage == stage_ && e.step == step_) token_.request_stop();
  }

 private:
  events::StopToken& token_;
  int stage_;
  int64_t step_;
};

// Writes bytes to a file (binary), creating parent folders.
void write_file(const std::filesystem::path& path, const std::string& bytes);

// The message of the fan::Error that `call` throws; empty when it throws none.
template <class Call>
QString error_of(Call&& call) {
  try {
    call();
  } catch (const fan::Error& error) {
    return QString::fromStdString(error.what());
  } catch (const std::exception& error) {
    return QStringLiteral("not a fan::Error: ") + error.what();
  }
  return {};
}

}  // namespace fan::test
