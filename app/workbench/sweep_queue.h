// The sweep queue: a sweep's planned runs trained one after another, with each run's state, as a table model.
#pragma once
#include "core/events/events.h"
#include "core/io/records.h"
#include "core/sweep/sweep.h"

#include <QAbstractTableModel>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

namespace fan::app {

// What the queue drives: the window's one place that starts, resumes and stops runs (the same
// worker connection a single run uses). start/resume return false when they did not launch
// (the error then goes to the queue's failed state, as a message).
struct RunLauncher {
  std::function<bool(const nlohmann::json& config, const QString& run_dir, QString* error)> start;
  std::function<bool(const QString& run_dir, QString* error)> resume;
  std::function<void()> stop;
  std::function<bool()> busy;  // a run (not the queue's) is going
};

class SweepQueue : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum class State { kQueued, kRunning, kFinished, kSkipped, kStopped, kFailed };
  enum Column { kIndexColumn, kNameColumn, kStateColumn, kTop1Column, kDetailColumn, kColumnCount };

  explicit SweepQueue(RunLauncher launcher, QObject* parent = nullptr);

  // A sweep's runs (from the dialog, or sweep.json): each one's state read from out/<run.name>.
  void load(const QString& sweep_dir, std::vector<sweep::PlannedRun> runs);
  // Reads SWEEP_DIR/sweep.json; false, with the message in *error, when it cannot.
  bool loadPlan(const QString& sweep_dir, QString* error);
  // Starts the queue, or continues it ("Resume sweep"): runs that are not finished are queued
  // again (an interrupted one resumes from its checkpoint, a failed one is tried again). False
  // (and *error) when there is nothing to run or another run is going.
  bool start(QString* error = nullptr);
  // Stops the running run (it keeps a resumable checkpoint) and the queue after it.
  void stop();

  bool isActive() const { return active_; }
  bool hasRuns() const { return !runs_.empty(); }
  QString directory() const { return dir_; }
  int count() const { return static_cast<int>(runs_.size()); }
  State state(int index) const { return runs_.at(static_cast<size_t>(index)).state; }
  QString name(int index) const { return QString::fromStdString(runs_.at(static_cast<size_t>(index)).plan.name); }
  QString runDirectory(int index) const;
  QString detail(int index) const { return runs_.at(static_cast<size_t>(index)).detail; }
  std::optional<double> top1(int index) const { return runs_.at(static_cast<size_t>(index)).top1; }
  int current() const { return current_; }
  // Runs done (finished, skipped or failed) and the whole queue's progress in [0, 1].
  int doneCount() const;
  int countIn(State state) const;
  double progress() const;
  // "5 of 8 done · 1 failed · running r3 (stage 2, step 30/50)".
  QString summaryText() const;
  // The runs launched since the last start() (indices, in order).
  const std::vector<int>& launchOrder() const { return launched_; }

  static QString stateText(State state);

  // The window's worker reports, connected once.
  void onRecord(const io::MetricRecord& record);
  void onRunFinished(const io::Results& results);
  void onRunFailed(const QString& error);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 signals:
  void changed();             // a state, the progress, or the queue's activity
  void runStarted(int index);
  void finished();            // the queue ran out of runs (not when stopped)
  void stopped();

 private:
  struct Entry {
    sweep::PlannedRun plan;
    State state = State::kQueued;
    QString detail;
    std::optional<double> top1;
    int stage = 0;
    int64_t step = 0, total = 0;
  };
  // The state a run's directory says it is in (finished: skipped; checkpoint: queued to resume).
  void scan(Entry& entry) const;
  void launchNext();
  void scheduleNext();
  void setState(int index, State state, const QString& detail);
  void end(bool ran_out);

  RunLauncher launcher_;
  QString dir_;
  std::vector<Entry> runs_;
  std::vector<int> launched_;
  int current_ = -1;
  bool active_ = false, stopping_ = false;
  bool stopped_ = false;  // the last start ended by Stop, not by running out of runs
};

}  // namespace fan::app
