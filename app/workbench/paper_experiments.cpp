// "New from paper experiment…".
#include "paper_experiments.h"

#include "core/io/config.h"

#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QMap>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace fan::app {
namespace {

QString dataset_title(const std::string& name) {
  static const QMap<QString, QString> kTitles = {{"mnist", "MNIST"},
                                                 {"usps", "USPS"},
                                                 {"svhn", "SVHN"},
                                                 {"mnistm", "MNIST-M"},
                                                 {"folder", "image folder"}};
  return kTitles.value(QString::fromStdString(name), QString::fromStdString(name));
}

PaperExperiment describe(const QString& path) {
  PaperExperiment e;
  e.path = path;
  e.name = QFileInfo(path).completeBaseName();
  try {
    const auto config = io::ExperimentConfig::load(path.toStdString()).resolved;
    e.name = QString::fromStdString(config["name"].get<std::string>());
    const auto side = [&](const char* key) {
      const auto& d = config[key];
      QString text = dataset_title(d["dataset"].get<std::string>());
      const auto protocol = d["protocol"].get<std::string>();
      if (protocol == "sampled") text += QString(" (%1)").arg(d["samples"].get<int64_t>());
      if (protocol == "fraction") text += QString(" (%1 %)").arg(100 * d["fraction"].get<double>());
      return text;
    };
    e.description =
        QCoreApplication::translate("fan::app::PaperExperimentDialog",
                                    "%1 → %2 · %3 protocol · %4 variant · %5 · %6 epochs, %7 iterations")
            .arg(side("source"), side("target"),
                 QString::fromStdString(config["source"]["protocol"].get<std::string>()),
                 QString::fromStdString(config["model"]["variant"].get<std::string>()),
                 QString::fromStdString(config["model"]["encoder"].get<std::string>()))
            .arg(config["stage1"]["epochs"].get<int64_t>())
            .arg(config["stage2"]["iterations"].get<int64_t>());
  } catch (const std::exception& ex) {
    e.problem = QString::fromUtf8(ex.what());
  }
  return e;
}

}  // namespace

QString find_projects_dir() {
  const QString app = QCoreApplication::applicationDirPath();
  for (const QString& candidate : {QDir::current().filePath("projects"), app + "/../../projects",
                                   app + "/../projects", app + "/../share/fan-workbench/projects"}) {
    if (QFileInfo(candidate).isDir() && !QDir(candidate).entryList({"*.json"}, QDir::Files).isEmpty())
      return QDir(candidate).canonicalPath();
  }
  return {};
}

QVector<PaperExperiment> list_paper_experiments(const QString& dir) {
  QVector<PaperExperiment> out;
  if (dir.isEmpty()) return out;
  for (const auto& file : QDir(dir).entryInfoList({"*.json"}, QDir::Files, QDir::Name))
    out << describe(file.absoluteFilePath());
  std::sort(out.begin(), out.end(),
            [](const PaperExperiment& a, const PaperExperiment& b) { return a.name < b.name; });
  return out;
}

PaperExperimentDialog::PaperExperimentDialog(const QString& dir, QWidget* parent)
    : QDialog(parent),
      experiments_(list_paper_experiments(dir)),
      list_(new QListWidget),
      details_(new QLabel) {
  setWindowTitle(tr("New from paper experiment"));
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(new QLabel(dir.isEmpty()
                                   ? tr("No projects folder found (projects/*.json).")
                                   : tr("The experiments of the paper, ready to run (from %1):").arg(dir)));
  for (const auto& e : experiments_) {
    auto* item = new QListWidgetItem(e.problem.isEmpty() ? QString("%1 — %2").arg(e.name, e.description)
                                                         : tr("%1 — cannot be loaded").arg(e.name));
    item->setToolTip(e.problem.isEmpty() ? e.path : e.problem);
    if (!e.problem.isEmpty()) item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
    list_->addItem(item);
  }
  list_->setMinimumWidth(640);
  layout->addWidget(list_, 1);
  details_->setWordWrap(true);
  details_->setStyleSheet("color: #555;");
  layout->addWidget(details_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Load into the form"));
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(list_, &QListWidget::itemDoubleClicked, this, &QDialog::accept);
  connect(list_, &QListWidget::currentRowChanged, this, [this, buttons](int row) {
    const bool ok = row >= 0 && row < experiments_.size() && experiments_[row].problem.isEmpty();
    buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
    details_->setText(ok ? tr("%1: a new, unsaved project (Save as… keeps it)").arg(experiments_[row].path)
                         : QString());
  });
  buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
  if (!experiments_.isEmpty()) select(0);
}

int PaperExperimentDialog::count() const { return static_cast<int>(experiments_.size()); }

QString PaperExperimentDialog::name(int row) const {
  return row >= 0 && row < experiments_.size() ? experiments_[row].name : QString();
}

void PaperExperimentDialog::select(int row) { list_->setCurrentRow(row); }

QString PaperExperimentDialog::selectedPath() const {
  const int row = list_->currentRow();
  return row >= 0 && row < experiments_.size() && experiments_[row].problem.isEmpty() ? experiments_[row].path
                                                                                      : QString();
}

}  // namespace fan::app
