// The runs panel.
#include "runs_panel.h"

#include "core/io/run_dir.h"

#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <set>

namespace fan::app {
namespace {
QString accuracy_text(const std::optional<io::Results>& r, std::optional<io::Accuracy> io::Results::*field) {
  return r && (*r).*field ? QString::number(((*r).*field)->top1, 'f', 4) : QString("–");
}
QString status_text(const io::RunSummary& s) {
  if (s.status == io::RunSummary::Status::kResumable && s.stage)
    return QObject::tr("resumable (%1, step %2)").arg(QString::fromStdString(io::to_string(*s.stage))).arg(s.step);
  return QString::fromStdString(io::to_string(s.status));
}
}  // namespace

RunsPanel::RunsPanel(QWidget* parent) : QWidget(parent), dir_edit_(new QLineEdit("runs")), table_(new QTableWidget) {
  auto* layout = new QVBoxLayout(this);
  auto* top = new QHBoxLayout;
  top->addWidget(dir_edit_, 1);
  auto* refresh_button = new QPushButton("Refresh");
  top->addWidget(refresh_button);
  layout->addLayout(top);
  table_->setColumnCount(6);
  table_->setHorizontalHeaderLabels({"run", "variant", "seed", "status", "source only", "adapted"});
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  layout->addWidget(table_, 1);
  auto* buttons = new QHBoxLayout;
  auto* open_button = new QPushButton("Open");
  open_button->setToolTip("View this run's curves, previews and networks");
  auto* overlay_button = new QPushButton("Overlay curves");
  overlay_button->setToolTip("Add this run's curves to the plots for comparison");
  buttons->addWidget(open_button);
  buttons->addWidget(overlay_button);
  layout->addLayout(buttons);
  connect(refresh_button, &QPushButton::clicked, this, &RunsPanel::refresh);
  connect(dir_edit_, &QLineEdit::editingFinished, this, &RunsPanel::refresh);
  connect(open_button, &QPushButton::clicked, this, [this] {
    if (table_->currentRow() >= 0) emit openRequested(runPath(table_->currentRow()));
  });
  connect(overlay_button, &QPushButton::clicked, this, [this] {
    if (table_->currentRow() >= 0) emit overlayRequested(runPath(table_->currentRow()));
  });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { emit openRequested(runPath(row)); });
}

void RunsPanel::setDirectory(const QString& dir) {
  dir_edit_->setText(dir);
  refresh();
}

QString RunsPanel::directory() const { return dir_edit_->text(); }

void RunsPanel::refresh() {
  table_->setRowCount(0);
  QDir dir(directory());
  const auto entries = dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
  std::vector<std::pair<QString, io::RunSummary>> runs;
  std::set<std::string> validators;  // every validator some listed run picked with: one column each
  for (const auto& entry : entries) {
    auto s = io::RunDirectory(dir.filePath(entry).toStdString()).summary();
    if (s.status == io::RunSummary::Status::kNotARun) continue;
    if (s.results)
      for (const auto& [name, pick] : s.results->picks) validators.insert(name);
    runs.emplace_back(entry, std::move(s));
  }
  QStringList headers = {tr("run"), tr("variant"), tr("seed"), tr("status"), tr("source only"), tr("adapted")};
  for (const auto& v : validators) headers << tr("pick: %1").arg(QString::fromStdString(v));
  table_->setColumnCount(headers.size());
  table_->setHorizontalHeaderLabels(headers);
  for (const auto& [entry, s] : runs) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    const QString path = QString::fromStdString(s.path.string());
    auto* name = new QTableWidgetItem(entry);
    name->setData(Qt::UserRole, path);
    name->setToolTip(s.problem.empty() ? path : QString::fromStdString(s.problem));
    table_->setItem(row, 0, name);
    table_->setItem(row, 1, new QTableWidgetItem(QString::fromStdString(s.variant)));
    table_->setItem(row, 2, new QTableWidgetItem(QString::number(s.seed)));
    table_->setItem(row, 3, new QTableWidgetItem(status_text(s)));
    table_->setItem(row, 4, new QTableWidgetItem(accuracy_text(s.results, &io::Results::source_only)));
    table_->setItem(row, 5, new QTableWidgetItem(accuracy_text(s.results, &io::Results::adapted)));
    int column = 6;
    for (const auto& v : validators) {
      // The picked network's whole-test-set top-1, with its step in the tooltip.
      const auto it = s.results ? s.results->picks.find(v) : std::map<std::string, io::PickResult>::const_iterator();
      auto* item = new QTableWidgetItem("–");
      if (s.results && it != s.results->picks.end()) {
        item->setText(QString::number(it->second.top1, 'f', 4));
        item->setToolTip(tr("step %1, %2 = %3").arg(it->second.step).arg(QString::fromStdString(v)).arg(it->second.value, 0, 'g', 5));
      }
      table_->setItem(row, column++, item);
    }
  }
}

QStringList RunsPanel::columns() const {
  QStringList out;
  for (int c = 0; c < table_->columnCount(); ++c) out << table_->horizontalHeaderItem(c)->text();
  return out;
}

QString RunsPanel::cell(int row, int column) const {
  auto* item = table_->item(row, column);
  return item ? item->text() : QString();
}

int RunsPanel::runCount() const { return table_->rowCount(); }

QString RunsPanel::runPath(int row) const {
  auto* item = table_->item(row, 0);
  return item ? item->data(Qt::UserRole).toString() : QString();
}

}  // namespace fan::app
