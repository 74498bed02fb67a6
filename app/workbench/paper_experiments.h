// "New from paper experiment…": the shipped projects (projects/*.json) listed by name and what they set up.
#pragma once
#include <QDialog>
#include <QString>
#include <QVector>

class QListWidget;
class QLabel;

namespace fan::app {

struct PaperExperiment {
  QString path;
  QString name;         // the project's "name"
  QString description;  // "MNIST → USPS · sampled · full variant · lenet · 40 epochs, 3000 iterations"
  QString problem;      // non-empty: the file does not validate (listed, not loadable)
};

// The folder of the shipped projects: ./projects, else next to the executable's source tree
// (build/app/../../projects) or an installed share/fan-workbench/projects; empty when none exists.
QString find_projects_dir();
// Every projects/*.json of `dir`, sorted by name.
QVector<PaperExperiment> list_paper_experiments(const QString& dir);

class PaperExperimentDialog : public QDialog {
  Q_OBJECT
 public:
  explicit PaperExperimentDialog(const QString& dir, QWidget* parent = nullptr);
  int count() const;
  QString name(int row) const;
  void select(int row);
  // The chosen project file (empty when none).
  QString selectedPath() const;

 private:
  QVector<PaperExperiment> experiments_;
  QListWidget* list_;
  QLabel* details_;
};

}  // namespace fan::app
