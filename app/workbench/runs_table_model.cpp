// The runs table's model and its sorting/filtering proxy.
#include "runs_table_model.h"

#include "core/io/run_dir.h"

#include <QDir>

#include <algorithm>
#include <set>

namespace fan::app {
namespace {

// Results that are seconds, not accuracies: shown with one decimal instead of four.
bool is_seconds(const std::string& result) { return result == "seconds"; }

QString result_text(const std::string& name, double value) {
  return QString::number(value, 'f', is_seconds(name) ? 1 : 4);
}

QString status_text(const io::RunSummary& s) {
  if (s.status == io::RunSummary::Status::kResumable && s.stage)
    return QObject::tr("resumable (%1, step %2)")
        .arg(QString::fromStdString(io::to_string(*s.stage)))
        .arg(s.step);
  return QString::fromStdString(io::to_string(s.status));
}

// The sort key of a config value: numbers and booleans as numbers, the rest as text.
QVariant json_sort_key(const nlohmann::json& value) {
  if (value.is_null()) return {};
  if (value.is_boolean()) return value.get<bool>() ? 1.0 : 0.0;
  if (value.is_number()) return value.get<double>();
  return json_text(value);
}

QString csv_field(const QString& text) {
  if (!text.contains(',') && !text.contains('"') && !text.contains('\n')) return text;
  QString quoted = text;
  quoted.replace('"', "\"\"");
  return '"' + quoted + '"';
}

QString markdown_field(QString text) {
  text.replace('|', "\\|");
  text.replace('\n', ' ');
  return text;
}

}  // namespace

QString RunColumn::id() const {
  switch (kind) {
    case Kind::kName:
      return "name";
    case Kind::kStatus:
      return "status";
    case Kind::kConfig:
      return "config:" + QString::fromStdString(key);
    case Kind::kResult:
      return "result:" + QString::fromStdString(key);
  }
  return {};
}

RunColumn RunColumn::fromId(const QString& id) {
  if (id.startsWith("config:")) return config(id.mid(7).toStdString());
  if (id.startsWith("result:")) return result(id.mid(7).toStdString());
  return id == "status" ? status() : name();
}

QString column_title(const RunColumn& column) {
  switch (column.kind) {
    case RunColumn::Kind::kName:
      return QObject::tr("run");
    case RunColumn::Kind::kStatus:
      return QObject::tr("status");
    case RunColumn::Kind::kConfig:
      if (column.key == "model.variant") return QObject::tr("variant");
      return QString::fromStdString(column.key);
    case RunColumn::Kind::kResult: {
      const auto key = QString::fromStdString(column.key);
      if (key.startsWith("pick:")) return QObject::tr("pick: %1").arg(key.mid(5));
      return QString(key).replace('_', ' ');
    }
  }
  return {};
}

QString json_text(const nlohmann::json& value) {
  if (value.is_null()) return QString::fromUtf8("–");
  if (value.is_string()) return QString::fromStdString(value.get<std::string>());
  if (value.is_number_float()) return QString::number(value.get<double>(), 'g', 10);
  return QString::fromStdString(value.dump());
}

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent) { columns_ = defaultColumns(); }

void RunsTableModel::setRuns(std::vector<io::RunSummary> runs) {
  beginResetModel();
  runs_ = std::move(runs);
  flat_.clear();
  for (const auto& run : runs_) {
    auto& flat = flat_.emplace_back();
    if (run.config.is_object())
      for (auto& [key, value] : sweep::flatten(run.config)) flat.emplace(key, value);
  }
  groups_ = sweep::group_runs(runs_);
  if (!custom_columns_) columns_ = defaultColumns();
  endResetModel();
}

void RunsTableModel::setColumns(std::vector<RunColumn> columns) {
  beginResetModel();
  columns_ = std::move(columns);
  custom_columns_ = true;
  endResetModel();
}

void RunsTableModel::resetColumns() {
  beginResetModel();
  custom_columns_ = false;
  columns_ = defaultColumns();
  endResetModel();
}

std::vector<RunColumn> RunsTableModel::defaultColumns() const {
  std::vector<RunColumn> out = {
      RunColumn::name(),   RunColumn::config("model.variant"), RunColumn::config("seed"),
      RunColumn::status(), RunColumn::result("source_only"),   RunColumn::result("adapted")};
  // Every validator some run picked with: one column each.
  std::set<std::string> picks;
  for (const auto& run : runs_)
    if (run.results)
      for (const auto& [validator, pick] : run.results->picks) picks.insert("pick:" + validator);
  for (const auto& pick : picks) out.push_back(RunColumn::result(pick));
  return out;
}

std::vector<RunColumn> RunsTableModel::availableColumns() const {
  std::vector<RunColumn> out = {RunColumn::name(), RunColumn::status()};
  std::vector<std::string> results;  // in result_names' order, first appearance
  for (const auto& run : runs_)
    if (run.results)
      for (const auto& name : sweep::result_names(*run.results))
        if (std::find(results.begin(), results.end(), name) == results.end()) results.push_back(name);
  for (const auto& name : results) out.push_back(RunColumn::result(name));
  std::set<std::string> keys;
  for (const auto& flat : flat_)
    for (const auto& [key, value] : flat) keys.insert(key);
  for (const auto& key : keys) out.push_back(RunColumn::config(key));
  return out;
}

void RunsTableModel::setGrouped(bool grouped) {
  if (grouped == grouped_) return;
  beginResetModel();
  grouped_ = grouped;
  endResetModel();
}

nlohmann::json RunsTableModel::configValue(size_t run, const std::string& key) const {
  if (run >= flat_.size()) return nullptr;
  const auto it = flat_[run].find(key);
  return it == flat_[run].end() ? nlohmann::json() : it->second;
}

std::optional<double> RunsTableModel::resultValue(size_t run, const std::string& name) const {
  if (run >= runs_.size() || !runs_[run].results) return std::nullopt;
  return sweep::result_value(*runs_[run].results, name);
}

int RunsTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid()) return 0;
  return static_cast<int>(grouped_ ? groups_.size() : runs_.size());
}

int RunsTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(columns_.size());
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || section < 0 || section >= static_cast<int>(columns_.size()))
    return QAbstractTableModel::headerData(section, orientation, role);
  const auto& column = columns_[static_cast<size_t>(section)];
  if (role == Qt::DisplayRole) return column_title(column);
  if (role == Qt::ToolTipRole) {
    if (column.kind == RunColumn::Kind::kConfig)
      return tr("config field %1").arg(QString::fromStdString(column.key));
    if (column.kind == RunColumn::Kind::kResult) {
      const QString base = column.key.rfind("pick:", 0) == 0
                               ? tr("the network this validator picked, on the whole target test set (top-1)")
                               : tr("result %1").arg(QString::fromStdString(column.key));
      return grouped_ ? tr("%1: mean ± std (n finished runs)").arg(base) : base;
    }
  }
  return {};
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount()) return {};
  const auto row = static_cast<size_t>(index.row());
  if (role == kRowRole) return index.row();
  if (role == kMembersRole) {
    QStringList paths;
    if (grouped_)
      for (size_t m : groups_[row].members) paths << QString::fromStdString(runs_[m].path.string());
    else
      paths << QString::fromStdString(runs_[row].path.string());
    return paths;
  }
  if (role == kPathRole) return grouped_ ? QVariant() : QString::fromStdString(runs_[row].path.string());
  const auto& column = columns_[static_cast<size_t>(index.column())];
  if (role == Qt::TextAlignmentRole && column.kind == RunColumn::Kind::kResult)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  return grouped_ ? groupData(groups_[row], column, role) : runData(row, column, role);
}

QVariant RunsTableModel::runData(size_t run, const RunColumn& column, int role) const {
  const auto& s = runs_[run];
  switch (column.kind) {
    case RunColumn::Kind::kName: {
      const QString name = QString::fromStdString(s.path.filename().string());
      if (role == Qt::DisplayRole || role == kSortRole) return name;
      if (role == Qt::ToolTipRole)
        return s.problem.empty() ? QString::fromStdString(s.path.string())
                                 : QString::fromStdString(s.problem);
      return {};
    }
    case RunColumn::Kind::kStatus:
      if (role == Qt::DisplayRole || role == kSortRole) return status_text(s);
      if (role == Qt::ToolTipRole && !s.problem.empty()) return QString::fromStdString(s.problem);
      return {};
    case RunColumn::Kind::kConfig: {
      const auto value = configValue(run, column.key);
      if (role == Qt::DisplayRole) return json_text(value);
      if (role == kSortRole) return json_sort_key(value);
      return {};
    }
    case RunColumn::Kind::kResult: {
      const auto value = resultValue(run, column.key);
      if (role == Qt::DisplayRole) return value ? result_text(column.key, *value) : QString::fromUtf8("–");
      if (role == kSortRole) return value ? QVariant(*value) : QVariant();
      if (role == Qt::ToolTipRole && s.results && column.key.rfind("pick:", 0) == 0) {
        const auto validator = column.key.substr(5);
        const auto it = s.results->picks.find(validator);
        if (it != s.results->picks.end())
          return tr("step %1, %2 = %3")
              .arg(it->second.step)
              .arg(QString::fromStdString(validator))
              .arg(it->second.value, 0, 'g', 5);
      }
      return {};
    }
  }
  return {};
}

QVariant RunsTableModel::groupData(const sweep::Group& group, const RunColumn& column, int role) const {
  switch (column.kind) {
    case RunColumn::Kind::kName: {
      const QString label = QString::fromStdString(group.label);
      if (role == Qt::DisplayRole || role == kSortRole) return label;
      if (role == Qt::ToolTipRole) {
        QStringList names;
        for (size_t m : group.members) names << QString::fromStdString(runs_[m].path.filename().string());
        return tr("%n run(s): %1", nullptr, static_cast<int>(names.size())).arg(names.join(", "));
      }
      return {};
    }
    case RunColumn::Kind::kStatus: {
      const QString text = tr("%1 of %2 finished").arg(group.finished).arg(group.members.size());
      if (role == Qt::DisplayRole) return text;
      if (role == kSortRole) return static_cast<double>(group.finished);
      return {};
    }
    case RunColumn::Kind::kConfig: {
      // The members' distinct values: one for a grouping key, the seeds for "seed".
      std::vector<nlohmann::json> values;
      for (size_t m : group.members) {
        auto value = configValue(m, column.key);
        if (std::find(values.begin(), values.end(), value) == values.end())
          values.push_back(std::move(value));
      }
      if (role == kSortRole) return values.size() == 1 ? json_sort_key(values.front()) : QVariant();
      if (role == Qt::DisplayRole) {
        // Seeds in order: numbers by value (nlohmann's ordering), the rest as JSON orders them.
        std::sort(values.begin(), values.end());
        QStringList texts;
        for (const auto& v : values) texts << json_text(v);
        return texts.join(", ");
      }
      return {};
    }
    case RunColumn::Kind::kResult: {
      const auto s = sweep::group_stats(group, runs_, column.key);
      if (role == Qt::DisplayRole)
        return QString::fromStdString(sweep::format_stats(s, is_seconds(column.key) ? 1 : 4));
      if (role == kSortRole) return s.n > 0 ? QVariant(s.mean) : QVariant();
      if (role == Qt::ToolTipRole && s.n > 0)
        return tr("mean %1, std %2, min %3, max %4 over %n finished run(s)", nullptr, s.n)
            .arg(s.mean, 0, 'g', 6)
            .arg(s.std, 0, 'g', 6)
            .arg(s.min, 0, 'g', 6)
            .arg(s.max, 0, 'g', 6);
      return {};
    }
  }
  return {};
}

RunsFilterProxy::RunsFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(RunsTableModel::kSortRole);
  setFilterKeyColumn(-1);  // any column
  setFilterCaseSensitivity(Qt::CaseInsensitive);
  setSortCaseSensitivity(Qt::CaseInsensitive);
}

void RunsFilterProxy::setFilterText(const QString& text) { setFilterFixedString(text.trimmed()); }

bool RunsFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const QVariant a = left.data(sortRole()), b = right.data(sortRole());
  // Absent values go last in either order: sort() reverses lessThan for descending order.
  const bool descending = sortOrder() == Qt::DescendingOrder;
  if (!a.isValid() || !b.isValid()) {
    if (a.isValid() == b.isValid()) return false;
    return descending ? !a.isValid() : a.isValid();
  }
  const bool a_number = a.typeId() == QMetaType::Double, b_number = b.typeId() == QMetaType::Double;
  if (a_number && b_number) return a.toDouble() < b.toDouble();
  if (a_number != b_number) return a_number;  // numbers before text
  return QString::compare(a.toString(), b.toString(), Qt::CaseInsensitive) < 0;
}

QString table_markdown(const QAbstractItemModel& model) {
  QStringList header, rule;
  for (int c = 0; c < model.columnCount(); ++c) {
    header << markdown_field(model.headerData(c, Qt::Horizontal).toString());
    rule << "---";
  }
  QString out = "| " + header.join(" | ") + " |\n|" + rule.join("|") + "|\n";
  for (int r = 0; r < model.rowCount(); ++r) {
    QStringList cells;
    for (int c = 0; c < model.columnCount(); ++c)
      cells << markdown_field(model.index(r, c).data().toString());
    out += "| " + cells.join(" | ") + " |\n";
  }
  return out;
}

QString table_csv(const QAbstractItemModel& model) {
  QStringList header;
  for (int c = 0; c < model.columnCount(); ++c)
    header << csv_field(model.headerData(c, Qt::Horizontal).toString());
  QString out = header.join(',') + '\n';
  for (int r = 0; r < model.rowCount(); ++r) {
    QStringList cells;
    for (int c = 0; c < model.columnCount(); ++c) cells << csv_field(model.index(r, c).data().toString());
    out += cells.join(',') + '\n';
  }
  return out;
}

std::vector<io::RunSummary> read_runs(const QString& dir) {
  std::vector<io::RunSummary> runs;
  const QDir folder(dir);
  for (const auto& entry : folder.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time)) {
    auto s = io::RunDirectory(folder.filePath(entry).toStdString()).summary();
    if (s.status != io::RunSummary::Status::kNotARun) runs.push_back(std::move(s));
  }
  return runs;
}

}  // namespace fan::app
