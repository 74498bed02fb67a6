// The results card.
#include "results_card.h"

#include "widgets/bar_chart.h"
#include "widgets/heat_map.h"

#include <QGridLayout>
#include <QLabel>
#include <QScrollArea>
#include <QVBoxLayout>

namespace fan::app {
namespace {
// The rows of the summary: results.json's accuracies, in the order the method produces them.
struct Row {
  const char* key;
  const char* title;
  const char* help;
};
const Row kRows[] = {
    {"source_only", QT_TRANSLATE_NOOP("fan::app::ResultsCard", "source only"),
     QT_TRANSLATE_NOOP("fan::app::ResultsCard",
                       "The stage-1 network on the target test set (the paper's \"source only\")")},
    {"source_only_adabn", QT_TRANSLATE_NOOP("fan::app::ResultsCard", "source only + AdaBN"),
     QT_TRANSLATE_NOOP("fan::app::ResultsCard",
                       "The stage-1 network with batch-norm statistics re-estimated on target images")},
    {"adapted", QT_TRANSLATE_NOOP("fan::app::ResultsCard", "adapted (FAN)"),
     QT_TRANSLATE_NOOP("fan::app::ResultsCard", "The target network after stage 2 on the target test set")},
};
const QColor kBefore(160, 160, 160);
const QColor kAfter(31, 119, 180);

QString dataset_of(const nlohmann::json& domain) {
  return domain.is_object() && domain.contains("dataset") && domain["dataset"].is_string()
             ? QString::fromStdString(domain["dataset"].get<std::string>())
             : QString("?");
}

const std::optional<io::Accuracy>& accuracy(const io::Results& r, const QString& key) {
  if (key == "source_only") return r.source_only;
  if (key == "source_only_adabn") return r.source_only_adabn;
  return r.adapted;
}
}  // namespace

QString accuracy_text(double value) { return QString::number(value, 'f', 4); }

ResultsCard::ResultsCard(QWidget* parent)
    : QWidget(parent),
      heading_(new QLabel),
      note_(new QLabel),
      per_class_(new widgets::BarChart),
      confusion_(new widgets::HeatMap) {
  // A short dock scrolls instead of squashing the charts.
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* content = new QWidget;
  scroll->setWidget(content);
  outer->addWidget(scroll);
  auto* layout = new QVBoxLayout(content);
  heading_->setObjectName("results_heading");
  heading_->setWordWrap(true);
  heading_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  layout->addWidget(heading_);
  auto* grid = new QGridLayout;
  grid->addWidget(new QLabel(tr("<b>target test</b>")), 0, 0);
  grid->addWidget(new QLabel(tr("<b>top-1</b>")), 0, 1, Qt::AlignRight);
  grid->addWidget(new QLabel(tr("<b>top-5</b>")), 0, 2, Qt::AlignRight);
  int r = 1;
  for (const auto& row : kRows) {
    auto* title = new QLabel(tr(row.title));
    title->setToolTip(tr(row.help));
    grid->addWidget(title, r, 0);
    for (int c = 0; c < 2; ++c) {
      const QString column = c == 0 ? "top1" : "top5";
      auto* cell = new QLabel("–");
      cell->setObjectName(QString("%1/%2").arg(row.key, column));
      cell->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
      cell->setTextInteractionFlags(Qt::TextSelectableByMouse);
      cell->setToolTip(tr(row.help));
      grid->addWidget(cell, r, c + 1);
      cells_.insert(cell->objectName(), cell);
    }
    ++r;
  }
  grid->setColumnStretch(0, 1);
  grid->setColumnMinimumWidth(1, 70);
  grid->setColumnMinimumWidth(2, 70);
  layout->addLayout(grid);
  note_->setWordWrap(true);
  note_->setStyleSheet("color: #555; font-size: 8pt;");
  layout->addWidget(note_);
  per_class_->setObjectName("per_class_accuracy");
  per_class_->setTitle(tr("per-class accuracy (target test): before vs after adaptation"));
  per_class_->setAxisLabels(tr("true class"), tr("accuracy (%)"));
  per_class_->setPercent(true);
  per_class_->setMinimumHeight(240);
  layout->addWidget(per_class_, 2);
  confusion_->setObjectName("confusion_heat_map");
  confusion_->setMinimumHeight(330);
  layout->addWidget(confusion_, 3);
  clear();
}

void ResultsCard::clear() {
  has_results_ = false;
  heading_->setText(tr("No results yet: they appear when a run finishes, or open a run (File → Open run)."));
  for (auto* cell : cells_) cell->setText("–");
  note_->clear();
  per_class_->clear();
  confusion_->clear();
}

void ResultsCard::setResults(const io::Results& r, const QString& source) {
  clear();
  has_results_ = true;
  QString heading =
      tr("<b>%1</b> — %2 → %3, %4 variant, %5 encoder, seed %6")
          .arg(QString::fromStdString(r.name).toHtmlEscaped(), dataset_of(r.source), dataset_of(r.target),
               QString::fromStdString(r.variant), QString::fromStdString(r.encoder))
          .arg(r.seed);
  if (!r.finished()) heading += tr(" (stopped: the numbers so far)");
  if (!source.isEmpty()) heading += "<br><span style='color:#555'>" + source.toHtmlEscaped() + "</span>";
  heading_->setText(heading);
  for (const auto& row : kRows) {
    const auto& a = accuracy(r, row.key);
    cells_.value(QString(row.key) + "/top1")->setText(a ? accuracy_text(a->top1) : "–");
    cells_.value(QString(row.key) + "/top5")->setText(a ? accuracy_text(a->top5) : "–");
  }
  QStringList notes;
  if (r.validation_adapted)
    notes << tr("held-out target validation: %1 → %2")
                 .arg(r.validation_source_only ? accuracy_text(*r.validation_source_only) : "–",
                      accuracy_text(*r.validation_adapted));
  if (r.selected != "last" && r.picks.count(r.selected))
    notes << tr("selected by %1: step %2, top-1 %3")
                 .arg(QString::fromStdString(r.selected))
                 .arg(r.picks.at(r.selected).step)
                 .arg(accuracy_text(r.picks.at(r.selected).top1));
  note_->setText(notes.join("; "));

  // Per class: source only (before) vs adapted (after).
  const std::vector<double> none;
  const auto& before = r.source_only ? r.source_only->per_class : none;
  const auto& after = r.adapted ? r.adapted->per_class : none;
  const int classes = static_cast<int>(std::max(before.size(), after.size()));
  QStringList labels;
  for (int c = 0; c < classes; ++c) labels << QString::number(c);
  per_class_->setCategories(labels);
  if (!before.empty())
    per_class_->setBars(tr("source only"), QVector<double>(before.begin(), before.end()), kBefore);
  if (!after.empty()) per_class_->setBars(tr("adapted"), QVector<double>(after.begin(), after.end()), kAfter);

  if (r.adapted && !r.adapted->confusion.empty()) {
    analysis::MatrixFigure figure;
    figure.title = tr("confusion matrix of the adapted network (target test)").toStdString();
    figure.x_label = tr("predicted class").toStdString();
    figure.y_label = tr("true class").toStdString();
    figure.counts = r.adapted->confusion;
    for (size_t c = 0; c < figure.counts.size(); ++c) figure.labels.push_back(std::to_string(c));
    confusion_->setMatrix(figure);
  }
}

QString ResultsCard::cell(const QString& row, const QString& column) const {
  const auto* label = cells_.value(row + "/" + column);
  return label ? label->text() : QString();
}

QString ResultsCard::heading() const { return heading_->text(); }

}  // namespace fan::app
