// The experiment form, generated from the config schema.
#include "experiment_form.h"

#include "core/io/config.h"

#include <QCheckBox>
#include <QComboBox>
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
// Order of the groups in the form.
const QStringList kGroups = {"data", "model", "losses", "stage 1", "stage 2", "run"};

bool is_directory_field(const std::string& key) {
  return key == "data.root" || key == "source.folder" || key == "target.folder";
}

// Numbers are shown in JSON's shortest round-trip form, so text → value → text is exact.
QString to_text(const nlohmann::json& v) {
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  return QString::fromStdString(v.dump());
}
}  // namespace

ExperimentForm::ExperimentForm(QWidget* parent) : QWidget(parent) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea;
  scroll->setWidgetResizable(true);
  auto* inner = new QWidget;
  auto* column = new QVBoxLayout(inner);
  QMap<QString, QFormLayout*> forms;
  for (const auto& group : kGroups) {
    auto* box = new QGroupBox(group);
    box->setObjectName("group:" + group);
    forms[group] = new QFormLayout(box);
    forms[group]->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
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
        browse->setToolTip("Choose a directory");
        connect(browse, &QToolButton::clicked, this, [this, edit] {
          const auto dir = QFileDialog::getExistingDirectory(this, "Choose a directory", edit->text());
          if (!dir.isEmpty()) edit->setText(dir);
        });
        h->addWidget(browse);
      }
    }
    control->setObjectName(key);
    QString tip = QString::fromStdString(field.help);
    if (field.has_range)
      tip += QString("\nrange %1%2, %3]").arg(field.min_exclusive ? "(" : "[").arg(field.min).arg(field.max);
    if (field.locked_during_run) tip += "\n(locked while a run is going)";
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
    forms.value(QString::fromStdString(field.group), forms["run"])->addRow(label, cell);
    controls_.insert(key, control);
    problem_labels_.insert(key, problem);
  }
  setConfig(nlohmann::json::object());
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
  if (!filling_) emit changed();
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
