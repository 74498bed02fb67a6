// The selection view.
#include "selection_panel.h"

#include "widgets/loss_plot.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace fan::app {

SelectionPanel::SelectionPanel(QWidget* parent)
    : QWidget(parent),
      plot_(new widgets::LossPlot(tr("Checkpoint selection: validators of the target network (1 = best so far)"))),
      table_(new QTableWidget),
      note_(new QLabel),
      network_(new QComboBox) {
  auto* layout = new QVBoxLayout(this);
  plot_->setAxisLabels(tr("validator, scaled (1 = best)"), tr("held-out target validation accuracy"));
  layout->addWidget(plot_, 3);
  table_->setColumnCount(4);
  table_->setHorizontalHeaderLabels({tr("picked by"), tr("step"), tr("value"), tr("target test top-1")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  layout->addWidget(table_, 1);
  note_->setWordWrap(true);
  note_->setText(tr("Validators read unlabelled target training images only; the test accuracy is shown for "
                    "information once the run has finished (\"oracle\": picked by test labels)."));
  layout->addWidget(note_);
  auto* chooser = new QHBoxLayout;
  chooser->addWidget(new QLabel(tr("Inspector and embedding show the target network picked by")));
  network_->addItem("last");
  network_->setToolTip(tr("The last iterate, or the network a validator picked (finished runs)"));
  chooser->addWidget(network_, 1);
  layout->addLayout(chooser);
  connect(network_, &QComboBox::activated, this, [this](int index) { emit networkChosen(network_->itemText(index)); });
}

void SelectionPanel::setCurves(const analysis::CurveBuilder& curves) {
  plot_->setCurves(curves.selection());
  live_picks_ = curves.picks();
  fillTable();
}

void SelectionPanel::setResults(const std::optional<io::Results>& results) {
  results_ = results;
  network_->clear();
  network_->addItem("last");
  if (results_)
    for (const auto& [name, pick] : results_->picks) network_->addItem(QString::fromStdString(name));
  fillTable();
}

void SelectionPanel::clear() {
  plot_->clear();
  live_picks_.clear();
  results_.reset();
  network_->clear();
  network_->addItem("last");
  fillTable();
}

int SelectionPanel::pickCount() const { return table_->rowCount(); }

void SelectionPanel::fillTable() {
  // A finished run's picks carry their test accuracy; until then, the picks so far.
  std::map<std::string, io::PickResult> rows;
  if (results_ && !results_->picks.empty()) {
    rows = results_->picks;
  } else {
    for (const auto& [name, pick] : live_picks_) rows[name] = {pick.first, pick.second, -1, -1};
  }
  table_->setRowCount(0);
  for (const auto& [name, pick] : rows) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    const bool selected = results_ && results_->selected == name;
    table_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(name) + (selected ? tr(" (selected)") : "")));
    table_->setItem(row, 1, new QTableWidgetItem(QString::number(pick.step)));
    table_->setItem(row, 2, new QTableWidgetItem(QString::number(pick.value, 'g', 5)));
    table_->setItem(row, 3, new QTableWidgetItem(pick.top1 < 0 ? QString("–") : QString::number(pick.top1, 'f', 4)));
  }
  if (results_ && results_->adapted) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    table_->setItem(row, 0, new QTableWidgetItem(results_->selected == "last" ? tr("last (selected)") : tr("last")));
    table_->setItem(row, 1, new QTableWidgetItem(QString::number(results_->stage2_steps)));
    table_->setItem(row, 2, new QTableWidgetItem("–"));
    table_->setItem(row, 3, new QTableWidgetItem(QString::number(results_->adapted->top1, 'f', 4)));
  }
}

}  // namespace fan::app
