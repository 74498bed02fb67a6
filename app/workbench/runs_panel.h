// The runs panel: runs found in an output directory as a sortable, filterable table (RunsTableModel)
// with chosen columns, grouped by config without the seed, and comparisons (RunCompareDialog).
#pragma once
#include "runs_table_model.h"

#include <QString>
#include <QWidget>

#include <vector>

class QCheckBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace fan::app {

class RunCompareDialog;
struct RunSet;

class RunsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPanel(QWidget* parent = nullptr);
  void setDirectory(const QString& dir);
  QString directory() const;
  void refresh();
  // The rows as shown (sorted, filtered; groups in grouped mode).
  int runCount() const;
  QString runPath(int row) const;  // empty for a group
  QStringList columns() const;     // the table's headers (one "pick: <validator>" column per validator)
  QString cell(int row, int column) const;

  RunsTableModel* model() const { return model_; }
  RunsFilterProxy* proxy() const { return proxy_; }
  QTableView* view() const { return view_; }
  void setFilterText(const QString& text);
  void setGrouped(bool grouped);
  void setShownColumns(std::vector<RunColumn> columns);
  // Selects shown rows (proxy row numbers), replacing the selection.
  void selectRows(const QList<int>& rows);
  // The selection as the model's rows (runs, or groups in grouped mode), in shown order.
  std::vector<size_t> selectedRows() const;

  // The comparisons of the selection; false, with the reason in message(), when it does not fit.
  bool diffSelected();     // two runs
  bool overlaySelected();  // groups (or runs): their curves as mean ± std bands
  bool scatterShown();     // every shown run
  RunCompareDialog* compareDialog();
  // The table as shown, as Markdown (.md) or CSV (any other suffix); false when writing fails.
  bool exportTable(const QString& path);
  QString message() const;

 signals:
  void openRequested(const QString& run_dir);
  void overlayRequested(const QString& run_dir);

 private:
  void chooseColumns();
  void exportDialog();
  void setMessage(const QString& text);
  std::vector<RunSet> selectedSets() const;
  std::vector<io::RunSummary> shownRuns() const;

  QLineEdit* dir_edit_;
  QLineEdit* filter_edit_;
  QCheckBox* group_box_;
  QTableView* view_;
  QLabel* message_;
  RunsTableModel* model_;
  RunsFilterProxy* proxy_;
  RunCompareDialog* compare_ = nullptr;
};

}  // namespace fan::app
