// The experiment form, generated from the config schema.
#include "experiment_form.h"

#include "core/io/config.h"

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QScrollArea>
#include <QToolButton>
#include <QVBoxLayout>

namespace fan::app {
namespace {
// The groups in the paper's order (the schema's FieldSpec::group), with their titles.
const QStringList kGroups = {"data", "networks", "losses", "stage 1", "stage 2", "evaluation", "run"};
QString group_title(const QString& group) {
  if (group == "data") return ExperimentForm::tr("Data: source, target, preprocessing");
  if (group == "networks") return ExperimentForm::tr("Networks: encoder, hd/ht split, decoder, discriminator");
  if (group == "losses") return ExperimentForm::tr("Losses: α·Lc + β·Lm + Lr, then μ·L_advD and ν·L_advM + Lr");
  if (group == "stage 1") return ExperimentForm::tr("Stage 1: the source network");
  if (group == "stage 2") return ExperimentForm::tr("Stage 2: adaptation");
  if (group == "evaluation") return ExperimentForm::tr("Evaluation");
  if (group == "run") return ExperimentForm::tr("Run");
  return group;
}

QString format_number(double v) { return QString::number(v, 'g', 10); }

// FieldSpec::applies in words: "model.encoder=resnet18|resnet34" → "model.encoder = resnet18 or resnet34".
QString applies_text(const std::string& applies) {
  QStringList conditions;
  for (const auto& rule : QString::fromStdString(applies).split(';', Qt::SkipEmptyParts)) {
    QStringList alternatives = rule.section('=', 1).split('|');
    const QString last = alternatives.takeLast();
    conditions << QString("%1 = %2").arg(rule.section('=', 0, 0),
                                         alternatives.isEmpty() ? last : alternatives.join(", ") + " or " + last);
  }
  return conditions.join(" and ");
}

bool is_directory_field(const std::string& key) {
  return key == "data.root" || key == "source.folder" || key == "target.folder" || key == "stage1.from";
}

// Numbers are shown in JSON's shortest round-trip form, so text → value → text is exact.
QString to_text(const nlohmann::json& v) {
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  return QString::fromStdString(v.dump());
}
}  // namespace

bool ExperimentForm::eventFilter(QObject* watched, QEvent* event) {
  // Scrolling the form over a combo box must not change the field under the pointer.
  if (event->type() == QEvent::Wheel) {
    if (auto* widget = qobject_cast<QWidget*>(watched); widget != nullptr && !widget->hasFocus()) {
      event->ignore();
      return true;
    }
  }
  return QWidget::eventFilter(watched, event);
}

ExperimentForm::ExperimentForm(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  auto* inner = new QWidget;
  auto* column = new QVBoxLayout(inner);
  QMap<QString, QFormLayout*> forms;
  for (const auto& group : kGroups) {
    auto* box = new QGroupBox(group_title(group));
    box->setObjectName("group:" + group);
    auto* v = new QVBoxLayout(box);
    forms[group] = new QFormLayout;
    forms[group]->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    v->addLayout(forms[group]);
    auto* note = new QLabel;
    note->setObjectName("hidden:" + group);
    note->setWordWrap(true);
    note->setStyleSheet("color: #777; font-size: 8pt;");
    note->hide();
    v->addWidget(note);
    hidden_notes_.insert(group, note);
    column->addWidget(box);
  }
  column->addStretch(1);
  scroll->setWidget(inner);
  outer->addWidget(scroll);

  for (const auto& field : io::config_schema()) {
    const QString key = QString::fromStdString(field.key);
    QWidget* control = nullptr;
    QWidget* row = nullptr;
    if (field.type == io::FieldType::kBool) {
      auto* box = new QCheckBox;
      connect(box, &QCheckBox::toggled, this, [this, key] { check(key); });
      control = box;
    } else if (!field.choices.empty()) {
      auto* combo = new QComboBox;
      combo->setFocusPolicy(Qt::StrongFocus);
      combo->installEventFilter(this);
      for (const auto& c : field.choices) combo->addItem(QString::fromStdString(c));
      connect(combo, &QComboBox::currentTextChanged, this, [this, key] { check(key); });
      control = combo;
    } else {
      auto* edit = new QLineEdit;
      connect(edit, &QLineEdit::textChanged, this, [this, key] { check(key); });
      control = edit;
      if (is_directory_field(field.key)) {
        row = new QWidget;
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        h->addWidget(edit, 1);
        auto* browse = new QToolButton;
        browse->setText("…");
        browse->setToolTip(tr("Choose a directory"));
        connect(browse, &QToolButton::clicked, this, [this, edit] {
          const auto dir = QFileDialog::getExistingDirectory(this, tr("Choose a directory"), edit->text());
          if (!dir.isEmpty()) edit->setText(dir);
        });
        h->addWidget(browse);
      }
    }
    control->setObjectName(key);
    // Rich text, so that Qt wraps the tooltip instead of drawing one very long line.
    const QString tip = "<qt>" + describe(key).toHtmlEscaped().replace("\n", "<br>") + "</qt>";
    control->setToolTip(tip);
    QString label = key.section('.', -1);
    if (key.contains('.') && (key.startsWith("source.") || key.startsWith("target.") || key.startsWith("stage")))
      label = key;
    if (!field.unit.empty()) label += QString(" [%1]").arg(QString::fromStdString(field.unit));
    auto* cell = new QWidget;
    auto* v = new QVBoxLayout(cell);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(1);
    v->addWidget(row ? row : control);
    auto* problem = new QLabel;
    problem->setStyleSheet("color: #c0392b; font-size: 8pt;");
    problem->setWordWrap(true);
    problem->hide();
    v->addWidget(problem);
    auto* unused = new QLabel;
    unused->setObjectName("unused:" + key);
    unused->setStyleSheet("color: #777; font-size: 8pt;");
    unused->setWordWrap(true);
    unused->hide();
    v->addWidget(unused);
    auto* label_widget = new QLabel(label);
    label_widget->setToolTip(tip);
    QString group = QString::fromStdString(field.group);
    if (!forms.contains(group)) group = "run";
    forms.value(group)->addRow(label_widget, cell);
    forms_.insert(key, forms.value(group));
    cells_.insert(key, cell);
    controls_.insert(key, control);
    problem_labels_.insert(key, problem);
  }
  setConfig(nlohmann::json::object());
}

QString ExperimentForm::describe(const QString& key) {
  const auto* field = io::find_field(key.toStdString());
  if (field == nullptr) return {};
  QStringList lines;
  lines << key + ": " + QString::fromStdString(field->help);
  QString unit = field->unit.empty() ? QString() : " " + QString::fromStdString(field->unit);
  if (field->has_range)
    lines << tr("Range: %1%2, %3]%4")
                 .arg(field->min_exclusive ? "(" : "[", format_number(field->min), format_number(field->max), unit);
  if (!field->choices.empty()) {
    QStringList choices;
    for (const auto& c : field->choices) choices << QString::fromStdString(c);
    lines << tr("Choices: %1").arg(choices.join(", "));
  }
  const auto& d = field->default_value;
  lines << tr("Default: %1").arg(d.is_string() ? (d.get<std::string>().empty() ? tr("(empty)") : QString::fromStdString(d.get<std::string>()))
                                               : QString::fromStdString(d.dump()));
  lines << tr("Paper: %1").arg(field->paper.empty() ? tr("not given (the default is ours)")
                                                    : QString::fromStdString(field->paper));
  if (!field->applies.empty()) lines << tr("Takes effect only with %1").arg(applies_text(field->applies));
  if (field->locked_during_run) lines << tr("(locked while a run is going)");
  return lines.join("\n");
}

bool ExperimentForm::isFieldShown(const QString& key) const {
  auto* form = forms_.value(key);
  auto* cell = cells_.value(key);
  return form != nullptr && cell != nullptr && form->isRowVisible(cell);
}

QString ExperimentForm::hiddenNote(const QString& group) const {
  const auto* note = hidden_notes_.value(group);
  return note != nullptr && !note->isHidden() ? note->text() : QString();
}

void ExperimentForm::updateApplicability() {
  const auto now = config();
  inapplicable_.clear();
  QMap<QString, QMap<QString, QStringList>> hidden;  // group → reason → fields
  for (const auto& field : io::config_schema()) {
    if (field.applies.empty()) continue;
    const QString key = QString::fromStdString(field.key);
    const QString reason = QString::fromStdString(io::field_inapplicable_reason(field, now));
    if (!reason.isEmpty()) inapplicable_.insert(key, reason);
    // A value set on purpose stays in sight, so that it can be seen (and cleared) although it has no effect.
    const bool at_default = value(key) == field.default_value;
    const bool shown = reason.isEmpty() || !at_default;
    forms_.value(key)->setRowVisible(cells_.value(key), shown);
    if (auto* unused = cells_.value(key)->findChild<QLabel*>("unused:" + key)) {
      unused->setText(tr("no effect: %1").arg(reason));
      unused->setVisible(!reason.isEmpty() && shown);
    }
    if (!shown) hidden[QString::fromStdString(field.group)][reason] << key;
  }
  for (auto it = hidden_notes_.begin(); it != hidden_notes_.end(); ++it) {
    QStringList parts;
    const auto& reasons = hidden.value(it.key());
    for (auto r = reasons.cbegin(); r != reasons.cend(); ++r) parts << tr("• %1: %2").arg(r.value().join(", "), r.key());
    it.value()->setText(parts.isEmpty() ? QString() : tr("Hidden, as they have no effect here:\n%1").arg(parts.join("\n")));
    it.value()->setVisible(!parts.isEmpty());
  }
}

nlohmann::json ExperimentForm::value(const QString& key) const {
  const auto* field = io::find_field(key.toStdString());
  QWidget* control = controls_.value(key);
  if (field == nullptr || control == nullptr) return {};
  if (auto* box = qobject_cast<QCheckBox*>(control)) return box->isChecked();
  QString text;
  if (auto* combo = qobject_cast<QComboBox*>(control)) text = combo->currentText();
  if (auto* edit = qobject_cast<QLineEdit*>(control)) text = edit->text();
  if (field->type == io::FieldType::kString) return text.toStdString();
  const auto parsed = nlohmann::json::parse(text.trimmed().toStdString(), nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? nlohmann::json(text.toStdString()) : parsed;
}

void ExperimentForm::setValue(const QString& key, const nlohmann::json& v) {
  QWidget* control = controls_.value(key);
  if (control == nullptr) return;
  if (auto* box = qobject_cast<QCheckBox*>(control)) box->setChecked(v.is_boolean() && v.get<bool>());
  if (auto* combo = qobject_cast<QComboBox*>(control)) combo->setCurrentText(to_text(v));
  if (auto* edit = qobject_cast<QLineEdit*>(control)) edit->setText(to_text(v));
  check(key);
}

void ExperimentForm::setConfig(const nlohmann::json& config) {
  filling_ = true;
  for (const auto& field : io::config_schema()) {
    auto v = io::get_path(config, field.key);
    if (v.is_null()) v = field.default_value;
    setValue(QString::fromStdString(field.key), v);
  }
  filling_ = false;
  updateApplicability();
  emit changed();
}

nlohmann::json ExperimentForm::config() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& field : io::config_schema())
    io::set_path(out, field.key, value(QString::fromStdString(field.key)));
  return out;
}

void ExperimentForm::check(const QString& key) {
  const auto* field = io::find_field(key.toStdString());
  const QString problem = QString::fromStdString(io::check_field(*field, value(key)));
  if (problem.isEmpty()) problems_.remove(key);
  else problems_.insert(key, problem);
  auto* label = problem_labels_.value(key);
  if (label != nullptr) {
    label->setText(problem);
    label->setVisible(!problem.isEmpty());
  }
  if (auto* control = controls_.value(key))
    control->setStyleSheet(problem.isEmpty() ? QString() : QString("border: 1px solid #c0392b;"));
  if (!filling_) {
    updateApplicability();
    emit changed();
  }
}

QString ExperimentForm::firstProblem() const {
  if (!problems_.isEmpty()) return problems_.firstKey() + ": " + problems_.first();
  // Rules across fields (e.g. the full variant's equal halves).
  try {
    io::validate_config(config(), "form");
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what()).remove(QRegularExpression("^form: "));
  }
  return {};
}

void ExperimentForm::setRunning(bool running) {
  for (const auto& field : io::config_schema())
    if (field.locked_during_run) controls_.value(QString::fromStdString(field.key))->setEnabled(!running);
}

}  // namespace fan::app
