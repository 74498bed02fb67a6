// The runs panel.
#include "runs_panel.h"

#include "run_compare.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSaveFile>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

namespace fan::app {

RunsPanel::RunsPanel(QWidget* parent)
    : QWidget(parent),
      dir_edit_(new QLineEdit("runs")),
      filter_edit_(new QLineEdit),
      group_box_(new QCheckBox(tr("Group by config without seed"))),
      view_(new QTableView),
      message_(new QLabel),
      model_(new RunsTableModel(this)),
      proxy_(new RunsFilterProxy(this)) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  top->addWidget(dir_edit_, 1);
  auto* refresh_button = new QPushButton(tr("Refresh"));
  top->addWidget(refresh_button);
  layout->addLayout(top);

  auto* filters = new QHBoxLayout;
  filter_edit_->setPlaceholderText(tr("Filter: run name or any shown cell"));
  filter_edit_->setClearButtonEnabled(true);
  filters->addWidget(filter_edit_, 1);
  auto* columns_button = new QPushButton(tr("Columns…"));
  columns_button->setToolTip(tr("Choose the columns: any config field, result or validator pick"));
  filters->addWidget(columns_button);
  layout->addLayout(filters);
  group_box_->setToolTip(
      tr("One row per group of runs that differ only in their seed: mean ± std (n) of each result"));
  layout->addWidget(group_box_);

  proxy_->setSourceModel(model_);
  view_->setModel(proxy_);
  view_->setSelectionBehavior(QAbstractItemView::SelectRows);
  view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  view_->verticalHeader()->hide();
  view_->horizontalHeader()->setSectionsMovable(false);
  view_->horizontalHeader()->setStretchLastSection(false);
  view_->horizontalHeader()->setSortIndicator(-1,
                                              Qt::AscendingOrder);  // newest first until a header is clicked
  view_->setSortingEnabled(true);
  view_->setWordWrap(false);
  layout->addWidget(view_, 1);

  auto* buttons = new QGridLayout;
  auto* open_button = new QPushButton(tr("Open"));
  open_button->setToolTip(tr("View this run's curves, previews and networks"));
  auto* overlay_button = new QPushButton(tr("Overlay on plots"));
  overlay_button->setToolTip(tr("Add this run's curves to the main plots for comparison"));
  auto* diff_button = new QPushButton(tr("Diff"));
  diff_button->setToolTip(
      tr("The config fields that differ between the two selected runs, and their results"));
  auto* bands_button = new QPushButton(tr("Curves ± std"));
  bands_button->setToolTip(
      tr("The selected groups' (or runs') curves: mean and a ±std band, one colour per group"));
  auto* scatter_button = new QPushButton(tr("Scatter"));
  scatter_button->setToolTip(tr("A config field against a result across the shown runs"));
  auto* export_button = new QPushButton(tr("Export…"));
  export_button->setToolTip(tr("The table as shown, as Markdown or CSV"));
  buttons->addWidget(open_button, 0, 0);
  buttons->addWidget(overlay_button, 0, 1);
  buttons->addWidget(export_button, 0, 2);
  buttons->addWidget(diff_button, 1, 0);
  buttons->addWidget(bands_button, 1, 1);
  buttons->addWidget(scatter_button, 1, 2);
  layout->addLayout(buttons);
  message_->setWordWrap(true);
  layout->addWidget(message_);

  connect(refresh_button, &QPushButton::clicked, this, &RunsPanel::refresh);
  connect(dir_edit_, &QLineEdit::editingFinished, this, &RunsPanel::refresh);
  connect(filter_edit_, &QLineEdit::textChanged, proxy_, &RunsFilterProxy::setFilterText);
  connect(group_box_, &QCheckBox::toggled, this, &RunsPanel::setGrouped);
  connect(columns_button, &QPushButton::clicked, this, &RunsPanel::chooseColumns);
  connect(export_button, &QPushButton::clicked, this, &RunsPanel::exportDialog);
  connect(diff_button, &QPushButton::clicked, this, &RunsPanel::diffSelected);
  connect(bands_button, &QPushButton::clicked, this, &RunsPanel::overlaySelected);
  connect(scatter_button, &QPushButton::clicked, this, &RunsPanel::scatterShown);
  auto current_path = [this] {
    return view_->currentIndex().isValid() ? runPath(view_->currentIndex().row()) : QString();
  };
  connect(open_button, &QPushButton::clicked, this, [this, current_path] {
    if (const auto path = current_path(); !path.isEmpty())
      emit openRequested(path);
    else
      setMessage(tr("Select a run (not a group) to open."));
  });
  connect(overlay_button, &QPushButton::clicked, this, [this, current_path] {
    if (const auto path = current_path(); !path.isEmpty())
      emit overlayRequested(path);
    else
      setMessage(tr("Select a run (not a group) to overlay."));
  });
  connect(view_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    if (model_->grouped())
      overlaySelected();
    else
      emit openRequested(runPath(index.row()));
  });
}

void RunsPanel::setDirectory(const QString& dir) {
  dir_edit_->setText(dir);
  refresh();
}

QString RunsPanel::directory() const { return dir_edit_->text(); }

void RunsPanel::refresh() {
  model_->setRuns(read_runs(directory()));
  view_->resizeColumnsToContents();
  setMessage(tr("%n run(s) in %1", nullptr, static_cast<int>(model_->runs().size())).arg(directory()));
}

void RunsPanel::setFilterText(const QString& text) {
  if (filter_edit_->text() != text)
    filter_edit_->setText(text);  // textChanged filters
  else
    proxy_->setFilterText(text);
}

void RunsPanel::setGrouped(bool grouped) {
  if (group_box_->isChecked() != grouped) {
    group_box_->setChecked(grouped);  // toggled comes back here
    return;
  }
  model_->setGrouped(grouped);
  view_->resizeColumnsToContents();
  view_->scrollTo(proxy_->index(0, 0));
  setMessage(grouped ? tr("%n group(s) of runs that differ only in their seed", nullptr, proxy_->rowCount())
                     : tr("%n run(s) in %1", nullptr, proxy_->rowCount()).arg(directory()));
}

void RunsPanel::setShownColumns(std::vector<RunColumn> columns) {
  model_->setColumns(std::move(columns));
  view_->resizeColumnsToContents();
}

int RunsPanel::runCount() const { return proxy_->rowCount(); }

QString RunsPanel::runPath(int row) const {
  return proxy_->index(row, 0).data(RunsTableModel::kPathRole).toString();
}

QStringList RunsPanel::columns() const {
  QStringList out;
  for (int c = 0; c < proxy_->columnCount(); ++c) out << proxy_->headerData(c, Qt::Horizontal).toString();
  return out;
}

QString RunsPanel::cell(int row, int column) const { return proxy_->index(row, column).data().toString(); }

void RunsPanel::selectRows(const QList<int>& rows) {
  auto* selection = view_->selectionModel();
  selection->clearSelection();
  for (int row : rows)
    selection->select(proxy_->index(row, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
  if (!rows.isEmpty())
    selection->setCurrentIndex(proxy_->index(rows.front(), 0), QItemSelectionModel::NoUpdate);
}

std::vector<size_t> RunsPanel::selectedRows() const {
  auto rows = view_->selectionModel()->selectedRows();
  std::sort(rows.begin(), rows.end(),
            [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
  std::vector<size_t> out;
  for (const auto& index : rows) out.push_back(static_cast<size_t>(proxy_->mapToSource(index).row()));
  return out;
}

RunCompareDialog* RunsPanel::compareDialog() {
  if (!compare_) compare_ = new RunCompareDialog(this);
  // Whichever view opens it, the scatter tab shows the runs shown in the table.
  compare_->scatter()->setRuns(shownRuns());
  return compare_;
}

bool RunsPanel::diffSelected() {
  const auto rows = selectedRows();
  if (model_->grouped() || rows.size() != 2) {
    setMessage(model_->grouped() ? tr("Diff compares two runs: turn grouping off and select two runs.")
                                 : tr("Select exactly two runs to diff (%n selected).", nullptr,
                                      static_cast<int>(rows.size())));
    return false;
  }
  auto* dialog = compareDialog();
  dialog->showDiff(model_->runs()[rows[0]], model_->runs()[rows[1]]);
  dialog->show();
  dialog->raise();
  setMessage(
      tr("%n config field(s) differ.", nullptr, static_cast<int>(dialog->diff()->changedFields().size())));
  return true;
}

std::vector<RunSet> RunsPanel::selectedSets() const {
  std::vector<RunSet> sets;
  for (size_t row : selectedRows()) {
    const auto index = model_->index(static_cast<int>(row), 0);
    RunSet set;
    set.label =
        model_->grouped() ? QString::fromStdString(model_->groups()[row].label) : index.data().toString();
    set.paths = index.data(RunsTableModel::kMembersRole).toStringList();
    sets.push_back(std::move(set));
  }
  return sets;
}

bool RunsPanel::overlaySelected() {
  auto sets = selectedSets();
  if (sets.empty()) {
    setMessage(tr("Select one or more groups (or runs) to draw their curves."));
    return false;
  }
  auto* dialog = compareDialog();
  dialog->showOverlay(std::move(sets));
  dialog->show();
  dialog->raise();
  setMessage(dialog->overlay()->message());
  return true;
}

std::vector<io::RunSummary> RunsPanel::shownRuns() const {
  std::vector<io::RunSummary> runs;
  std::set<size_t> taken;
  for (int r = 0; r < proxy_->rowCount(); ++r) {
    const auto row = static_cast<size_t>(proxy_->mapToSource(proxy_->index(r, 0)).row());
    const std::vector<size_t> members =
        model_->grouped() ? model_->groups()[row].members : std::vector<size_t>{row};
    for (size_t m : members)
      if (taken.insert(m).second) runs.push_back(model_->runs()[m]);
  }
  return runs;
}

bool RunsPanel::scatterShown() {
  auto runs = shownRuns();
  if (runs.empty()) {
    setMessage(tr("No runs shown: refresh, or clear the filter."));
    return false;
  }
  auto* dialog = compareDialog();
  dialog->showScatter(std::move(runs));
  dialog->show();
  dialog->raise();
  return true;
}

bool RunsPanel::exportTable(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  const QString text = suffix == "md" || suffix == "markdown" ? table_markdown(*proxy_) : table_csv(*proxy_);
  QSaveFile file(path);
  const bool ok =
      file.open(QIODevice::WriteOnly | QIODevice::Text) && file.write(text.toUtf8()) >= 0 && file.commit();
  setMessage(ok ? tr("Wrote %1").arg(path) : tr("Could not write %1: %2").arg(path, file.errorString()));
  return ok;
}

void RunsPanel::exportDialog() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export runs table"), "runs.md",
                                                    tr("Markdown (*.md);;CSV (*.csv)"));
  if (!path.isEmpty()) exportTable(path);
}

void RunsPanel::chooseColumns() {
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Runs table columns"));
  auto* layout = new QVBoxLayout(&dialog);
  auto* search = new QLineEdit;
  search->setPlaceholderText(tr("Find a field or result"));
  search->setClearButtonEnabled(true);
  layout->addWidget(search);
  auto* list = new QListWidget;
  layout->addWidget(list, 1);
  // The shown columns first, in their order; then every other one the runs offer.
  std::vector<RunColumn> order = model_->shownColumns();
  for (const auto& column : model_->availableColumns())
    if (std::find(order.begin(), order.end(), column) == order.end()) order.push_back(column);
  const auto& shown = model_->shownColumns();
  for (const auto& column : order) {
    const QString kind = column.kind == RunColumn::Kind::kConfig   ? tr("config")
                         : column.kind == RunColumn::Kind::kResult ? tr("result")
                                                                   : tr("run");
    auto* item = new QListWidgetItem(tr("%1  (%2)").arg(column_title(column), kind), list);
    item->setData(Qt::UserRole, column.id());
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(std::find(shown.begin(), shown.end(), column) != shown.end() ? Qt::Checked
                                                                                     : Qt::Unchecked);
  }
  connect(search, &QLineEdit::textChanged, list, [list](const QString& text) {
    for (int i = 0; i < list->count(); ++i)
      list->item(i)->setHidden(!text.isEmpty() && !list->item(i)->text().contains(text, Qt::CaseInsensitive));
  });
  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel |
                                   QDialogButtonBox::RestoreDefaults);
  layout->addWidget(box);
  connect(box, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(box, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  bool defaults = false;
  connect(box->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, &dialog, [&] {
    defaults = true;
    dialog.accept();
  });
  dialog.resize(420, 560);
  if (dialog.exec() != QDialog::Accepted) return;
  if (defaults) {
    model_->resetColumns();
  } else {
    std::vector<RunColumn> chosen;
    for (int i = 0; i < list->count(); ++i)
      if (list->item(i)->checkState() == Qt::Checked)
        chosen.push_back(RunColumn::fromId(list->item(i)->data(Qt::UserRole).toString()));
    if (chosen.empty()) chosen.push_back(RunColumn::name());
    model_->setColumns(std::move(chosen));
  }
  view_->resizeColumnsToContents();
}

void RunsPanel::setMessage(const QString& text) { message_->setText(text); }

QString RunsPanel::message() const { return message_->text(); }

}  // namespace fan::app
