// The runs table: io::RunSummary rows (or groups of runs over every setting but the seed) and chosen
// columns (config fields, results, validator picks), sorted and filtered through RunsFilterProxy.
#pragma once
#include "core/io/records.h"
#include "core/sweep/sweep.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QStringList>

#include <map>
#include <string>
#include <vector>

namespace fan::app {

// One column of the runs table.
struct RunColumn {
  enum class Kind { kName, kStatus, kConfig, kResult };
  Kind kind = Kind::kName;
  std::string
      key;  // kConfig: a dotted config key (sweep::flatten); kResult: a result name (sweep::result_names)

  static RunColumn name() { return {Kind::kName, {}}; }
  static RunColumn status() { return {Kind::kStatus, {}}; }
  static RunColumn config(std::string key) { return {Kind::kConfig, std::move(key)}; }
  static RunColumn result(std::string key) { return {Kind::kResult, std::move(key)}; }
  bool operator==(const RunColumn& other) const { return kind == other.kind && key == other.key; }
  // "config:stage2.lr", "result:adapted", "name", "status": for settings and the column chooser.
  QString id() const;
  static RunColumn fromId(const QString& id);
};

// The header of a column: "run", "variant", "source only", "pick: snd", "stage2.lr".
QString column_title(const RunColumn& column);

class RunsTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  // What a cell holds besides its text.
  enum Role {
    kSortRole =
        Qt::UserRole + 1,  // a double for numbers (a group's mean), else the text; invalid when absent
    kPathRole,             // ungrouped: the run's directory
    kMembersRole,          // the directories of the row's runs (one in ungrouped mode)
    kRowRole,              // the row in this model (a run's or a group's index)
  };

  explicit RunsTableModel(QObject* parent = nullptr);

  // Replaces the runs (every one shown, in the order given). Unless setColumns chose the columns,
  // they are the defaults: run, variant, seed, status, source only, adapted and one per validator pick.
  void setRuns(std::vector<io::RunSummary> runs);
  const std::vector<io::RunSummary>& runs() const { return runs_; }
  void setColumns(std::vector<RunColumn> columns);
  const std::vector<RunColumn>& shownColumns() const { return columns_; }
  // Back to the default columns for the runs (and they follow the runs again).
  void resetColumns();
  std::vector<RunColumn> defaultColumns() const;
  // Every column the runs could show: name, status, each result some run has, each config field.
  std::vector<RunColumn> availableColumns() const;

  // One row per group of runs that differ only in ungrouped keys (the seed): mean ± std (n) of the results.
  void setGrouped(bool grouped);
  bool grouped() const { return grouped_; }
  const std::vector<sweep::Group>& groups() const { return groups_; }

  // A run's value of a config field (null when absent) and of a result.
  nlohmann::json configValue(size_t run, const std::string& key) const;
  std::optional<double> resultValue(size_t run, const std::string& name) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  QVariant runData(size_t run, const RunColumn& column, int role) const;
  QVariant groupData(const sweep::Group& group, const RunColumn& column, int role) const;
  std::vector<RunColumn> columnsFor() const;

  std::vector<io::RunSummary> runs_;
  std::vector<std::map<std::string, nlohmann::json>> flat_;  // each run's config, flattened
  std::vector<sweep::Group> groups_;
  std::vector<RunColumn> columns_;
  bool custom_columns_ = false;
  bool grouped_ = false;
};

// Sorts numbers as numbers (absent values last, whatever the order) and filters on any shown cell's text.
class RunsFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  explicit RunsFilterProxy(QObject* parent = nullptr);
  // Case-insensitive: a row stays when its name or any shown cell contains the text.
  void setFilterText(const QString& text);

 protected:
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

// The table as shown (its rows in their order, every column): a Markdown table and CSV.
QString table_markdown(const QAbstractItemModel& model);
QString table_csv(const QAbstractItemModel& model);

// Reads the run directories directly under `dir` (newest first), skipping what is not a run.
std::vector<io::RunSummary> read_runs(const QString& dir);

// A config value as a cell shows it: strings bare, numbers shortest, null "–".
QString json_text(const nlohmann::json& value);

}  // namespace fan::app
