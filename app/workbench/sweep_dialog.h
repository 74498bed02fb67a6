// The "Sweep…" dialog: axes over the form's fields, seeds and an output directory, expanded into named runs.
#pragma once
#include "core/sweep/sweep.h"

#include <nlohmann/json.hpp>

#include <QDialog>
#include <QString>
#include <QStringList>

#include <vector>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QVBoxLayout;

namespace fan::app {

// An axis's values typed as text ("full, adda"), parsed for its field's type and checked against the
// schema one by one. Throws fan::Error naming the axis and the bad value.
std::vector<nlohmann::json> parse_axis_values(const std::string& key, const QString& text);
// Seeds as text: "0, 1", ranges "0-4"; empty: none (the project's own seed). Throws fan::Error.
std::vector<int64_t> parse_seeds(const QString& text);

class SweepDialog : public QDialog {
  Q_OBJECT
 public:
  // base: the form's config (the sweep's base project, validated per run by the expansion).
  explicit SweepDialog(const nlohmann::json& base, QWidget* parent = nullptr);

  // The axes, one row each: a field and its values.
  int axisCount() const { return static_cast<int>(axes_.size()); }
  int addAxis(const QString& key = {}, const QString& values = {});
  void setAxis(int index, const QString& key, const QString& values);
  void removeAxis(int index);
  QString axisKey(int index) const;
  // What is wrong with an axis (shown beside it), empty when its values parse.
  QString axisProblem(int index) const;
  void setSeeds(const QString& text);
  QString seedsProblem() const { return seeds_problem_; }
  void setName(const QString& name);
  void setOutputDirectory(const QString& dir);
  QString outputDirectory() const;

  // The first problem of the sweep (naming the axis, the seeds or the field), empty when it expands.
  QString problem() const { return problem_; }
  // The expanded runs' names, as the preview lists them.
  QStringList previewNames() const;
  const sweep::SweepSpec& spec() const { return spec_; }
  const std::vector<sweep::PlannedRun>& plannedRuns() const { return runs_; }
  // True when the output directory already holds this very plan (finished runs are then skipped).
  bool continuesExistingSweep() const { return continues_; }

  // Writes the plan to sweep::plan_path(out) (a .tmp, then renamed). False, with problem(), when it cannot.
  bool writePlan();

 private:
  struct AxisRow {
    QWidget* row = nullptr;
    QComboBox* key = nullptr;
    QLineEdit* values = nullptr;
    QLabel* problem = nullptr;
    QString error;
  };
  void rebuild();
  void showAxisProblem(AxisRow& axis, const QString& error);
  void startClicked();

  nlohmann::json base_;
  std::vector<AxisRow> axes_;
  QVBoxLayout* axes_layout_ = nullptr;
  QLineEdit *seeds_ = nullptr, *name_ = nullptr, *out_ = nullptr;
  QLabel *seeds_label_ = nullptr, *summary_ = nullptr, *problem_label_ = nullptr;
  QListWidget* preview_ = nullptr;
  QPushButton* start_ = nullptr;
  bool out_edited_ = false, filling_out_ = false;
  QString problem_, seeds_problem_;
  bool continues_ = false;
  sweep::SweepSpec spec_;
  std::vector<sweep::PlannedRun> runs_;
};

}  // namespace fan::app
