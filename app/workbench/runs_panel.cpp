// The runs panel.
#include "runs_panel.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace fan::app {
namespace {
nlohmann::json read_json(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  auto j = nlohmann::json::parse(f.readAll().toStdString(), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json() : j;
}
double top1(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_object() || !j[key].contains("top1")) return -1;
  return j[key]["top1"].is_number() ? j[key]["top1"].get<double>() : -1;
}
QString accuracy_text(double a) { return a < 0 ? QString("–") : QString::number(a, 'f', 4); }
}  // namespace

RunSummary summarize_run(const QString& path) {
  RunSummary s;
  s.path = path;
  const auto config = read_json(path + "/config.json");
  if (config.is_object()) {
    s.name = QString::fromStdString(config.value("name", ""));
    if (config.contains("model") && config["model"].is_object())
      s.variant = QString::fromStdString(config["model"].value("variant", ""));
    if (config.contains("seed") && config["seed"].is_number_integer()) s.seed = config["seed"].get<qint64>();
  }
  const auto results = read_json(path + "/results.json");
  if (results.is_object()) {
    s.status = QString::fromStdString(results.value("status", "finished"));
    s.source_only = top1(results, "source_only");
    s.adapted = top1(results, "adapted");
  } else if (QFile::exists(path + "/checkpoint.pt")) {
    s.status = "resumable";
  } else {
    s.status = config.is_object() ? "started" : "not a run";
  }
  return s;
}

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
  for (const auto& entry : entries) {
    const auto s = summarize_run(dir.filePath(entry));
    if (s.status == "not a run") continue;
    const int row = table_->rowCount();
    table_->insertRow(row);
    auto* name = new QTableWidgetItem(entry);
    name->setData(Qt::UserRole, s.path);
    name->setToolTip(s.path);
    table_->setItem(row, 0, name);
    table_->setItem(row, 1, new QTableWidgetItem(s.variant));
    table_->setItem(row, 2, new QTableWidgetItem(QString::number(s.seed)));
    table_->setItem(row, 3, new QTableWidgetItem(s.status));
    table_->setItem(row, 4, new QTableWidgetItem(accuracy_text(s.source_only)));
    table_->setItem(row, 5, new QTableWidgetItem(accuracy_text(s.adapted)));
  }
}

int RunsPanel::runCount() const { return table_->rowCount(); }

QString RunsPanel::runPath(int row) const {
  auto* item = table_->item(row, 0);
  return item ? item->data(Qt::UserRole).toString() : QString();
}

}  // namespace fan::app
