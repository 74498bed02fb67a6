// The runs panel: runs found in an output directory (their io::RunSummary), with config summary and accuracies.
#pragma once
#include <QString>
#include <QWidget>

class QTableWidget;
class QLineEdit;

namespace fan::app {

class RunsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPanel(QWidget* parent = nullptr);
  void setDirectory(const QString& dir);
  QString directory() const;
  void refresh();
  int runCount() const;
  QString runPath(int row) const;
  QStringList columns() const;         // the table's headers (one "pick: <validator>" column per validator)
  QString cell(int row, int column) const;

 signals:
  void openRequested(const QString& run_dir);
  void overlayRequested(const QString& run_dir);

 private:
  QLineEdit* dir_edit_;
  QTableWidget* table_;
};

}  // namespace fan::app
