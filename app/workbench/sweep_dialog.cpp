// The "Sweep…" dialog: builds a sweep::SweepSpec from the widgets, previews its expansion, writes the plan.
#include "sweep_dialog.h"

#include "core/io/config_schema.h"
#include "core/sweep/runner.h"
#include "core/util/error.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

#include <filesystem>
#include <set>

namespace fan::app {
namespace {
// Fields that are no axis: the seed has its own row, and every run of a sweep keeps the base's name.
const std::set<std::string> kNotAnAxis = {"seed", "name"};
// More seeds than this in one range is a typing slip ("0-100000"), not a sweep.
constexpr int64_t kMaxSeedRange = 1000;
// The largest seed the schema allows.
constexpr int64_t kMaxSeed = 4294967295LL;
const char* kProblemStyle = "color: #c0392b;";

QString to_text(const nlohmann::json& v) {
  return v.is_string() ? QString::fromStdString(v.get<std::string>()) : QString::fromStdString(v.dump());
}

std::string quoted(const QString& text) { return "'" + text.toStdString() + "'"; }
}  // namespace

std::vector<nlohmann::json> parse_axis_values(const std::string& key, const QString& text) {
  const auto* field = io::find_field(key);
  if (field == nullptr) throw Error("axis " + key + ": not a config field");
  const QString trimmed = text.trimmed();
  if (trimmed.isEmpty()) throw Error("axis " + key + ": no values (separate them with commas)");
  std::vector<nlohmann::json> values;
  for (const QString& raw : trimmed.split(',')) {
    const QString item = raw.trimmed();
    if (item.isEmpty()) throw Error("axis " + key + ": an empty value (two commas, or one at the end)");
    nlohmann::json value;
    switch (field->type) {
      case io::FieldType::kString: value = item.toStdString(); break;
      case io::FieldType::kBool: {
        const QString lower = item.toLower();
        if (lower == "true" || lower == "yes" || lower == "on") value = true;
        else if (lower == "false" || lower == "no" || lower == "off") value = false;
        else throw Error("axis " + key + ": " + quoted(item) + ": expected true or false");
        break;
      }
      case io::FieldType::kInt:
      case io::FieldType::kNumber: {
        // JSON's own number syntax, so "2e-4" stays the value a project file would hold.
        value = nlohmann::json::parse(item.toStdString(), nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded() || !value.is_number())
          throw Error("axis " + key + ": " + quoted(item) + ": expected " +
                      (field->type == io::FieldType::kInt ? "an integer" : "a number"));
        break;
      }
    }
    const std::string problem = io::check_field(*field, value);
    if (!problem.empty()) throw Error("axis " + key + ": " + quoted(item) + ": " + problem);
    for (const auto& earlier : values)
      if (earlier == value) throw Error("axis " + key + ": " + quoted(item) + " is given twice");
    values.push_back(std::move(value));
  }
  return values;
}

std::vector<int64_t> parse_seeds(const QString& text) {
  std::vector<int64_t> seeds;
  if (text.trimmed().isEmpty()) return seeds;
  auto number = [](const QString& item) {
    bool ok = false;
    const qlonglong v = item.trimmed().toLongLong(&ok);
    if (!ok || v < 0 || v > kMaxSeed)
      throw Error("seeds: " + quoted(item.trimmed()) + ": expected an integer in [0, 4294967295]");
    return static_cast<int64_t>(v);
  };
  for (const QString& raw : text.split(',')) {
    const QString item = raw.trimmed();
    if (item.isEmpty()) throw Error("seeds: an empty value (two commas, or one at the end)");
    const auto dash = item.indexOf('-', 1);
    std::vector<int64_t> these;
    if (dash > 0) {
      const int64_t from = number(item.left(dash)), to = number(item.mid(dash + 1));
      if (to < from) throw Error("seeds: " + quoted(item) + ": the range runs backwards");
      if (to - from >= kMaxSeedRange) throw Error("seeds: " + quoted(item) + ": more than 1000 seeds");
      for (int64_t s = from; s <= to; ++s) these.push_back(s);
    } else {
      these.push_back(number(item));
    }
    for (const int64_t s : these) {
      if (std::find(seeds.begin(), seeds.end(), s) != seeds.end())
        throw Error("seeds: " + std::to_string(s) + " is given twice");
      seeds.push_back(s);
    }
  }
  return seeds;
}

SweepDialog::SweepDialog(const nlohmann::json& base, QWidget* parent) : QDialog(parent), base_(base) {
  setWindowTitle(tr("Sweep"));
  setObjectName("sweep_dialog");
  auto* layout = new QVBoxLayout(this);
  const QString base_name = to_text(base_.value("name", nlohmann::json("experiment")));
  auto* intro = new QLabel(tr("Runs the form's project <b>%1</b> once per combination of the axes' values "
                              "and per seed. Every run gets its own directory in the output directory; "
                              "finished runs are skipped when the sweep is started again.")
                               .arg(base_name.toHtmlEscaped()));
  intro->setWordWrap(true);
  layout->addWidget(intro);

  auto* axes_box = new QGroupBox(tr("Axes (the first varies slowest)"));
  auto* axes_outer = new QVBoxLayout(axes_box);
  axes_layout_ = new QVBoxLayout;
  axes_layout_->setSpacing(4);
  axes_outer->addLayout(axes_layout_);
  auto* add = new QPushButton(tr("Add axis"));
  add->setObjectName("add_axis");
  connect(add, &QPushButton::clicked, this, [this] { addAxis(); });
  auto* add_row = new QHBoxLayout;
  add_row->addWidget(add);
  add_row->addStretch(1);
  axes_outer->addLayout(add_row);
  layout->addWidget(axes_box);

  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  seeds_ = new QLineEdit("0");
  seeds_->setObjectName("seeds");
  seeds_->setToolTip(tr("Comma-separated seeds, ranges allowed (\"0, 1\", \"0-4\"); empty: the project's own seed"));
  seeds_label_ = new QLabel;
  seeds_label_->setStyleSheet(kProblemStyle);
  seeds_label_->setWordWrap(true);
  seeds_label_->hide();
  auto* seeds_cell = new QWidget;
  auto* seeds_v = new QVBoxLayout(seeds_cell);
  seeds_v->setContentsMargins(0, 0, 0, 0);
  seeds_v->setSpacing(1);
  seeds_v->addWidget(seeds_);
  seeds_v->addWidget(seeds_label_);
  form->addRow(tr("Seeds"), seeds_cell);
  name_ = new QLineEdit(base_name + "-sweep");
  name_->setObjectName("sweep_name");
  form->addRow(tr("Sweep name"), name_);
  out_ = new QLineEdit;
  out_->setObjectName("sweep_out");
  auto* out_row = new QWidget;
  auto* out_h = new QHBoxLayout(out_row);
  out_h->setContentsMargins(0, 0, 0, 0);
  out_h->addWidget(out_, 1);
  auto* browse = new QToolButton;
  browse->setText("…");
  browse->setToolTip(tr("Choose the output directory"));
  connect(browse, &QToolButton::clicked, this, [this] {
    const auto dir = QFileDialog::getExistingDirectory(this, tr("Sweep output directory"), out_->text());
    if (!dir.isEmpty()) out_->setText(dir);
  });
  out_h->addWidget(browse);
  form->addRow(tr("Output directory"), out_row);
  layout->addLayout(form);

  summary_ = new QLabel;
  summary_->setObjectName("sweep_summary");
  summary_->setWordWrap(true);
  layout->addWidget(summary_);
  preview_ = new QListWidget;
  preview_->setObjectName("sweep_preview");
  layout->addWidget(preview_, 1);
  problem_label_ = new QLabel;
  problem_label_->setObjectName("sweep_problem");
  problem_label_->setStyleSheet(kProblemStyle);
  problem_label_->setWordWrap(true);
  layout->addWidget(problem_label_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  start_ = buttons->addButton(tr("Start sweep"), QDialogButtonBox::AcceptRole);
  start_->setObjectName("start_sweep");
  connect(start_, &QPushButton::clicked, this, &SweepDialog::startClicked);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  layout->addWidget(buttons);

  connect(seeds_, &QLineEdit::textChanged, this, &SweepDialog::rebuild);
  connect(name_, &QLineEdit::textChanged, this, [this] {
    // The output directory follows the name until it is edited by hand.
    if (!out_edited_) {
      filling_out_ = true;
      out_->setText(QDir::current().absoluteFilePath("sweeps/" + name_->text().trimmed()));
      filling_out_ = false;
    }
    rebuild();
  });
  connect(out_, &QLineEdit::textChanged, this, [this] {
    if (!filling_out_) out_edited_ = true;
    rebuild();
  });
  filling_out_ = true;
  out_->setText(QDir::current().absoluteFilePath("sweeps/" + name_->text()));
  filling_out_ = false;
  resize(720, 640);
  rebuild();
}

int SweepDialog::addAxis(const QString& key, const QString& values) {
  AxisRow axis;
  axis.row = new QWidget;
  auto* v = new QVBoxLayout(axis.row);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(1);
  auto* h = new QHBoxLayout;
  axis.key = new QComboBox;
  axis.key->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  axis.key->setMaxVisibleItems(20);
  axis.key->addItem(tr("(choose a field)"), QString());
  for (const auto& field : io::config_schema()) {
    if (kNotAnAxis.count(field.key)) continue;
    axis.key->addItem(QString::fromStdString(field.key), QString::fromStdString(field.key));
    axis.key->setItemData(axis.key->count() - 1, QString::fromStdString(field.help), Qt::ToolTipRole);
  }
  axis.values = new QLineEdit;
  auto* remove = new QToolButton;
  remove->setText("×");
  remove->setToolTip(tr("Remove this axis"));
  h->addWidget(axis.key);
  h->addWidget(axis.values, 1);
  h->addWidget(remove);
  v->addLayout(h);
  axis.problem = new QLabel;
  axis.problem->setStyleSheet(kProblemStyle);
  axis.problem->setWordWrap(true);
  axis.problem->hide();
  v->addWidget(axis.problem);
  axes_layout_->addWidget(axis.row);
  QWidget* row = axis.row;
  axes_.push_back(axis);
  const int index = axisCount() - 1;
  axis.key->setObjectName(QString("axis_key_%1").arg(index));
  axis.values->setObjectName(QString("axis_values_%1").arg(index));

  // A field's values are suggested by its choices, else by the base's value.
  auto* values_edit = axis.values;
  auto* key_combo = axis.key;
  auto suggest = [this, values_edit, key_combo] {
    const auto* field = io::find_field(key_combo->currentData().toString().toStdString());
    if (field == nullptr) {
      values_edit->setPlaceholderText(tr("values, separated by commas"));
      return;
    }
    QStringList choices;
    for (const auto& c : field->choices) choices << QString::fromStdString(c);
    const QString now = to_text(io::get_path(base_, field->key));
    values_edit->setPlaceholderText(choices.isEmpty() ? tr("e.g. %1, … (the form has %1)").arg(now)
                                                      : tr("any of %1").arg(choices.join(", ")));
    key_combo->setToolTip(QString::fromStdString(field->help));
  };
  connect(axis.key, &QComboBox::currentIndexChanged, this, [this, suggest] {
    suggest();
    rebuild();
  });
  connect(axis.values, &QLineEdit::textChanged, this, &SweepDialog::rebuild);
  connect(remove, &QToolButton::clicked, this, [this, row] {
    for (int i = 0; i < axisCount(); ++i)
      if (axes_[static_cast<size_t>(i)].row == row) {
        removeAxis(i);
        break;
      }
  });
  setAxis(index, key, values);
  suggest();
  return index;
}

void SweepDialog::setAxis(int index, const QString& key, const QString& values) {
  if (index < 0 || index >= axisCount()) return;
  auto& axis = axes_[static_cast<size_t>(index)];
  const int found = axis.key->findData(key);
  axis.key->setCurrentIndex(found < 0 ? 0 : found);
  axis.values->setText(values);
  rebuild();
}

void SweepDialog::removeAxis(int index) {
  if (index < 0 || index >= axisCount()) return;
  axes_[static_cast<size_t>(index)].row->deleteLater();
  axes_[static_cast<size_t>(index)].row->hide();
  axes_.erase(axes_.begin() + index);
  for (int i = 0; i < axisCount(); ++i) {
    axes_[static_cast<size_t>(i)].key->setObjectName(QString("axis_key_%1").arg(i));
    axes_[static_cast<size_t>(i)].values->setObjectName(QString("axis_values_%1").arg(i));
  }
  rebuild();
}

QString SweepDialog::axisKey(int index) const {
  return index >= 0 && index < axisCount() ? axes_[static_cast<size_t>(index)].key->currentData().toString()
                                           : QString();
}

QString SweepDialog::axisProblem(int index) const {
  return index >= 0 && index < axisCount() ? axes_[static_cast<size_t>(index)].error : QString();
}

void SweepDialog::setSeeds(const QString& text) { seeds_->setText(text); }
void SweepDialog::setName(const QString& name) { name_->setText(name); }
void SweepDialog::setOutputDirectory(const QString& dir) { out_->setText(dir); }
QString SweepDialog::outputDirectory() const { return out_->text().trimmed(); }

QStringList SweepDialog::previewNames() const {
  QStringList names;
  for (const auto& run : runs_) names << QString::fromStdString(run.name);
  return names;
}

void SweepDialog::showAxisProblem(AxisRow& axis, const QString& error) {
  axis.error = error;
  axis.problem->setText(error);
  axis.problem->setVisible(!error.isEmpty());
  // The values are marked only when they are what is wrong (not while no field is chosen).
  const bool values_wrong = !error.isEmpty() && !axis.key->currentData().toString().isEmpty();
  axis.values->setStyleSheet(values_wrong ? QString("border: 1px solid #c0392b;") : QString());
}

void SweepDialog::rebuild() {
  if (out_ == nullptr || preview_ == nullptr) return;  // still being built
  problem_.clear();
  continues_ = false;
  runs_.clear();
  spec_ = sweep::SweepSpec{};
  spec_.origin = "inline";
  spec_.name = name_->text().trimmed().toStdString();
  spec_.base = base_;
  spec_.out = outputDirectory().toStdString();
  auto note = [this](const QString& p) {
    if (problem_.isEmpty()) problem_ = p;
  };

  std::vector<int> sizes;
  for (int i = 0; i < axisCount(); ++i) {
    auto& axis = axes_[static_cast<size_t>(i)];
    const QString key = axis.key->currentData().toString();
    QString error;
    if (key.isEmpty()) {
      error = tr("axis %1: choose a field").arg(i + 1);
    } else {
      for (int j = 0; j < i && error.isEmpty(); ++j)
        if (axisKey(j) == key) error = tr("axis %1: %2 is already axis %3").arg(i + 1).arg(key).arg(j + 1);
    }
    if (error.isEmpty()) {
      try {
        sweep::Axis a;
        a.key = key.toStdString();
        a.values = parse_axis_values(a.key, axis.values->text());
        sizes.push_back(static_cast<int>(a.values.size()));
        spec_.axes.push_back(std::move(a));
      } catch (const std::exception& e) {
        error = QString::fromUtf8(e.what());
      }
    }
    showAxisProblem(axis, error);
    if (!error.isEmpty()) note(error);
  }
  seeds_problem_.clear();
  try {
    spec_.seeds = parse_seeds(seeds_->text());
  } catch (const std::exception& e) {
    seeds_problem_ = QString::fromUtf8(e.what());
  }
  seeds_label_->setText(seeds_problem_);
  seeds_label_->setVisible(!seeds_problem_.isEmpty());
  seeds_->setStyleSheet(seeds_problem_.isEmpty() ? QString() : QString("border: 1px solid #c0392b;"));
  if (!seeds_problem_.isEmpty()) note(seeds_problem_);
  if (spec_.name.empty()) note(tr("sweep name: empty"));
  if (spec_.out.empty()) note(tr("output directory: empty"));

  if (problem_.isEmpty()) {
    try {
      runs_ = sweep::expand(spec_);
    } catch (const std::exception& e) {
      note(QString::fromUtf8(e.what()));
    }
  }
  // A directory that holds a plan: the same plan continues; another one is refused (open it instead).
  if (problem_.isEmpty()) {
    const auto plan = sweep::plan_path(spec_.out);
    std::error_code ec;
    if (std::filesystem::exists(plan, ec)) {
      try {
        const auto existing = sweep::plan_from_json(io::read_json_file(plan), plan.string());
        bool same = existing.size() == runs_.size();
        for (size_t i = 0; same && i < runs_.size(); ++i)
          same = existing[i].name == runs_[i].name && existing[i].config == runs_[i].config;
        if (same) continues_ = true;
        else note(tr("%1 holds another sweep: choose another output directory, or open that sweep with "
                     "Run → Open sweep…").arg(QString::fromStdString(spec_.out.string())));
      } catch (const std::exception& e) {
        note(QString::fromUtf8(e.what()));
      }
    }
  }

  preview_->clear();
  for (const auto& run : runs_) preview_->addItem(QString::fromStdString(run.name));
  if (!problem_.isEmpty()) {
    summary_->setText(tr("Nothing to run until the problem below is fixed."));
  } else {
    QStringList factors;
    for (const int n : sizes) factors << QString::number(n);
    if (!spec_.seeds.empty())
      factors << (spec_.seeds.size() == 1 ? tr("1 seed") : tr("%1 seeds").arg(spec_.seeds.size()));
    const QString count = runs_.size() == 1 ? tr("1 run") : tr("%1 runs").arg(runs_.size());
    summary_->setText(tr("%1%2 into %3%4")
                          .arg(count, factors.size() > 1 ? " (" + factors.join(" × ") + ")" : QString(),
                               QString::fromStdString(spec_.out.string()),
                               continues_ ? tr(" — this sweep is already there: its finished runs are skipped")
                                          : QString()));
  }
  problem_label_->setText(problem_);
  problem_label_->setVisible(!problem_.isEmpty());
  start_->setEnabled(problem_.isEmpty() && !runs_.empty());
}

bool SweepDialog::writePlan() {
  rebuild();
  if (!problem_.isEmpty()) return false;
  try {
    // The plan `fan sweep` writes too (a temporary file renamed over sweep.json, so a reader never sees
    // half a plan); a plan already there must list the same runs.
    sweep::write_plan(spec_.out, spec_, runs_);
  } catch (const std::exception& e) {
    problem_ = QString::fromUtf8(e.what());
    problem_label_->setText(problem_);
    problem_label_->setVisible(true);
    return false;
  }
  return true;
}

void SweepDialog::startClicked() {
  if (writePlan()) accept();
}

}  // namespace fan::app
