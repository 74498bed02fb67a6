// The sweep queue: one planned run after another through the window's launcher; states from the run directories.
#include "sweep_queue.h"

#include "core/io/config_schema.h"
#include "core/io/run_dir.h"

#include <QBrush>
#include <QColor>
#include <QDir>
#include <QTimer>

#include <variant>

namespace fan::app {
namespace {
QString top1_text(const std::optional<double>& top1) { return top1 ? QString::number(*top1, 'f', 4) : QString("–"); }

QString stage_name(io::Stage stage) {
  switch (stage) {
    case io::Stage::kSource: return QObject::tr("stage 1");
    case io::Stage::kAdaptation: return QObject::tr("stage 2");
    case io::Stage::kFinished: return QObject::tr("finished");
  }
  return {};
}
}  // namespace

SweepQueue::SweepQueue(RunLauncher launcher, QObject* parent)
    : QAbstractTableModel(parent), launcher_(std::move(launcher)) {}

QString SweepQueue::stateText(State state) {
  switch (state) {
    case State::kQueued: return tr("queued");
    case State::kRunning: return tr("running");
    case State::kFinished: return tr("finished");
    case State::kSkipped: return tr("skipped");
    case State::kStopped: return tr("stopped");
    case State::kFailed: return tr("failed");
  }
  return {};
}

QString SweepQueue::runDirectory(int index) const {
  return QDir(dir_).filePath(QString::fromStdString(runs_.at(static_cast<size_t>(index)).plan.name));
}

void SweepQueue::load(const QString& sweep_dir, std::vector<sweep::PlannedRun> runs) {
  if (active_) return;  // the running sweep is not swapped under the worker
  beginResetModel();
  dir_ = sweep_dir;
  runs_.clear();
  launched_.clear();
  current_ = -1;
  stopping_ = stopped_ = false;
  for (auto& plan : runs) {
    Entry entry;
    entry.plan = std::move(plan);
    runs_.push_back(std::move(entry));
  }
  for (size_t i = 0; i < runs_.size(); ++i) {
    runs_[i].plan.index = static_cast<int>(i);
    scan(runs_[i]);
  }
  endResetModel();
  emit changed();
}

bool SweepQueue::loadPlan(const QString& sweep_dir, QString* error) {
  if (active_) {
    if (error) *error = tr("a sweep is running; stop it first");
    return false;
  }
  try {
    const auto path = sweep::plan_path(sweep_dir.toStdString());
    if (!std::filesystem::exists(path))
      throw std::runtime_error(path.string() + ": missing (" + sweep_dir.toStdString() + " is not a sweep directory)");
    load(sweep_dir, sweep::plan_from_json(io::read_json_file(path), path.string()));
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
}

void SweepQueue::scan(Entry& entry) const {
  const io::RunDirectory run(QDir(dir_).filePath(QString::fromStdString(entry.plan.name)).toStdString());
  const auto summary = run.summary();
  entry.top1.reset();
  entry.stage = 0;
  entry.step = entry.total = 0;
  using Status = io::RunSummary::Status;
  switch (summary.status) {
    case Status::kFinished:
      entry.state = State::kSkipped;
      if (summary.results && summary.results->adapted) entry.top1 = summary.results->adapted->top1;
      entry.detail = tr("finished before");
      break;
    case Status::kResumable:
      entry.state = State::kQueued;
      entry.detail = tr("resumes from %1, step %2").arg(summary.stage ? stage_name(*summary.stage) : QString("?"))
                         .arg(summary.step);
      break;
    case Status::kUnreadable:
      // Tried all the same: the worker says what is wrong (a corrupt checkpoint fails the resume).
      entry.state = State::kQueued;
      entry.detail = tr("unreadable: %1").arg(QString::fromStdString(summary.problem));
      break;
    case Status::kStarted:
    case Status::kNotARun:
      entry.state = State::kQueued;
      entry.detail.clear();
      break;
  }
}

int SweepQueue::countIn(State state) const {
  int n = 0;
  for (const auto& e : runs_) n += e.state == state;
  return n;
}

int SweepQueue::doneCount() const {
  return countIn(State::kFinished) + countIn(State::kSkipped) + countIn(State::kFailed);
}

double SweepQueue::progress() const {
  if (runs_.empty()) return 0;
  double done = doneCount();
  // The running run counts by its steps; each stage is taken as half of it (their costs are not known ahead).
  if (current_ >= 0) {
    const auto& e = runs_[static_cast<size_t>(current_)];
    if (e.total > 0) done += 0.5 * (e.stage >= 2 ? 1.0 : 0.0) + 0.5 * double(e.step) / double(e.total);
  }
  return std::min(1.0, done / static_cast<double>(runs_.size()));
}

QString SweepQueue::summaryText() const {
  if (runs_.empty()) return tr("No sweep: Run → Sweep… plans one, Run → Open sweep… reopens one.");
  QString text = tr("%1 of %2 done").arg(doneCount()).arg(count());
  if (const int failed = countIn(State::kFailed)) text += tr(" · %1 failed").arg(failed);
  if (const int skipped = countIn(State::kSkipped)) text += tr(" · %1 skipped (finished before)").arg(skipped);
  if (current_ >= 0 && active_) {
    text += tr(" · running %1").arg(name(current_));
    const auto& e = runs_[static_cast<size_t>(current_)];
    if (e.total > 0) text += tr(" (stage %1, step %2/%3)").arg(e.stage).arg(e.step).arg(e.total);
  } else if (stopping_ || stopped_ || countIn(State::kStopped) > 0) {
    text += tr(" · stopped: Resume sweep continues it");
  } else if (doneCount() == count()) {
    text += tr(" · the sweep is complete");
  }
  return text;
}

bool SweepQueue::start(QString* error) {
  auto fail = [error](const QString& message) {
    if (error) *error = message;
    return false;
  };
  if (active_) return fail(tr("the sweep is already running"));
  if (runs_.empty()) return fail(tr("no sweep to run: plan one with Run → Sweep…"));
  if (launcher_.busy && launcher_.busy()) return fail(tr("a run is going; stop it or let it finish first"));
  // The directories decide again: a run finished elsewhere meanwhile (`fan resume`) is skipped.
  for (size_t i = 0; i < runs_.size(); ++i) {
    scan(runs_[i]);
    const QModelIndex left = index(static_cast<int>(i), 0), right = index(static_cast<int>(i), kColumnCount - 1);
    emit dataChanged(left, right);
  }
  if (countIn(State::kQueued) == 0) {
    emit changed();
    return fail(tr("every run of this sweep has finished already: nothing left to run"));
  }
  active_ = true;
  stopping_ = stopped_ = false;
  current_ = -1;
  launched_.clear();
  emit changed();
  launchNext();
  return true;
}

void SweepQueue::stop() {
  if (!active_) return;
  stopping_ = true;
  if (current_ >= 0 && launcher_.stop) launcher_.stop();
  emit changed();
  // Between two runs nothing is going: the queue stops at once.
  if (current_ < 0) end(/*ran_out=*/false);
}

void SweepQueue::scheduleNext() {
  // After the window has handled the run's end (it reopens a finished run from its directory).
  QTimer::singleShot(0, this, [this] {
    if (!active_) return;
    if (stopping_) end(/*ran_out=*/false);
    else launchNext();
  });
}

void SweepQueue::launchNext() {
  for (size_t i = 0; i < runs_.size(); ++i) {
    auto& entry = runs_[i];
    if (entry.state != State::kQueued) continue;
    const int index = static_cast<int>(i);
    // The directory as it is now: finished ones are skipped, interrupted ones resumed.
    scan(entry);
    if (entry.state == State::kSkipped) {
      setState(index, State::kSkipped, entry.detail);
      continue;
    }
    const QString dir = runDirectory(index);
    const io::RunDirectory run(dir.toStdString());
    QString error;
    current_ = index;
    launched_.push_back(index);
    setState(index, State::kRunning, tr("starting"));
    emit runStarted(index);
    bool launched = false;
    if (run.has_checkpoint()) {
      launched = launcher_.resume && launcher_.resume(dir, &error);
    } else {
      // Nothing to continue from (a run that failed or was killed before its first checkpoint):
      // afresh, in an empty directory, as `fan sweep` does.
      std::error_code ec;
      if (!run.has_results()) std::filesystem::remove_all(run.path(), ec);
      if (ec) error = tr("%1: cannot remove the unfinished run (%2)").arg(dir, QString::fromStdString(ec.message()));
      else launched = launcher_.start && launcher_.start(entry.plan.config, dir, &error);
    }
    if (launched) return;
    current_ = -1;
    setState(index, State::kFailed, error.isEmpty() ? tr("could not be started") : error);
    // The next one, after this failure is on screen.
    scheduleNext();
    return;
  }
  end(/*ran_out=*/true);
}

void SweepQueue::end(bool ran_out) {
  const bool was_stopping = stopping_;
  active_ = false;
  stopping_ = false;
  stopped_ = was_stopping || !ran_out;
  current_ = -1;
  emit changed();
  if (ran_out && !was_stopping) emit finished();
  else emit stopped();
}

void SweepQueue::setState(int index, State state, const QString& detail) {
  auto& entry = runs_[static_cast<size_t>(index)];
  entry.state = state;
  entry.detail = detail;
  emit dataChanged(this->index(index, 0), this->index(index, kColumnCount - 1));
  emit changed();
}

void SweepQueue::onRecord(const io::MetricRecord& record) {
  if (!active_ || current_ < 0) return;
  auto& entry = runs_[static_cast<size_t>(current_)];
  if (const auto* step = std::get_if<events::StepEvent>(&record)) {
    entry.stage = step->stage;
    entry.step = step->step;
    entry.total = step->total_steps;
  } else if (const auto* stage = std::get_if<events::StageEvent>(&record)) {
    entry.stage = stage->stage;
    entry.step = 0;
    entry.total = stage->total_steps;
  } else {
    return;
  }
  entry.detail = tr("stage %1 · step %2/%3").arg(entry.stage).arg(entry.step).arg(entry.total);
  emit dataChanged(index(current_, 0), index(current_, kColumnCount - 1));
  emit changed();
}

void SweepQueue::onRunFinished(const io::Results& results) {
  if (!active_ || current_ < 0) return;
  const int index = current_;
  auto& entry = runs_[static_cast<size_t>(index)];
  current_ = -1;
  if (results.finished()) {
    if (results.adapted) entry.top1 = results.adapted->top1;
    setState(index, State::kFinished, tr("%1 s of training").arg(results.total_seconds(), 0, 'f', 1));
    scheduleNext();
  } else {
    // Stopped (the queue's Stop, or the toolbar's): the queue stops with it.
    stopping_ = true;
    setState(index, State::kStopped,
             tr("stopped in stage %1 at step %2; resumes from its checkpoint").arg(entry.stage).arg(entry.step));
    scheduleNext();
  }
}

void SweepQueue::onRunFailed(const QString& error) {
  if (!active_ || current_ < 0) return;
  const int index = current_;
  current_ = -1;
  setState(index, State::kFailed, error);
  scheduleNext();  // the queue goes on (unless it is stopping)
}

int SweepQueue::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int SweepQueue::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant SweepQueue::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kIndexColumn: return tr("#");
    case kNameColumn: return tr("run");
    case kStateColumn: return tr("state");
    case kTop1Column: return tr("adapted top-1");
    case kDetailColumn: return tr("progress / error");
    default: return {};
  }
}

QVariant SweepQueue::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= count()) return {};
  const auto& e = runs_[static_cast<size_t>(index.row())];
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case kIndexColumn: return index.row() + 1;
      case kNameColumn: return QString::fromStdString(e.plan.name);
      case kStateColumn: return stateText(e.state);
      case kTop1Column: return top1_text(e.top1);
      case kDetailColumn: return e.detail;
      default: return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    QStringList settings;
    for (const auto& [key, value] : e.plan.settings)
      settings << QString::fromStdString(key + " = " + (value.is_string() ? value.get<std::string>() : value.dump()));
    settings << tr("seed = %1").arg(e.plan.seed);
    return settings.join("\n") + (e.detail.isEmpty() ? QString() : "\n\n" + e.detail);
  }
  if (role == Qt::ForegroundRole && index.column() == kStateColumn) {
    switch (e.state) {
      case State::kFailed: return QBrush(QColor("#c0392b"));
      case State::kRunning: return QBrush(QColor("#1f6fb2"));
      case State::kFinished: return QBrush(QColor("#2e7d32"));
      case State::kStopped: return QBrush(QColor("#b26a00"));
      default: return {};
    }
  }
  if (role == Qt::TextAlignmentRole && (index.column() == kIndexColumn || index.column() == kTop1Column))
    return int(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

}  // namespace fan::app
