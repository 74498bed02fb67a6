// The datasets panel.
#include "datasets_panel.h"

#include "core/data/domain.h"
#include "core/data/image_set.h"
#include "core/data/fetch.h"
#include "core/io/config.h"
#include "core/train/experiment.h"
#include "experiment_form.h"
#include "training_worker.h"
#include "widgets/preview_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace fan::app {
namespace {
// Sample grid: this many images per row, rows, and pixels per image.
constexpr int kGridColumns = 8;
constexpr int kGridRows = 3;
constexpr int kCell = 34;

QString counts_text(const QVector<qint64>& counts) {
  QStringList parts;
  for (int c = 0; c < counts.size(); ++c) parts << QString("%1: %2").arg(c).arg(counts[c]);
  return parts.join("  ");
}
}  // namespace

DomainPreview load_domain_preview(const nlohmann::json& raw, const QString& side) {
  DomainPreview p;
  try {
    const auto config = io::ExperimentConfig::from_json(raw, "form");
    const auto& spec = side == "source" ? config.source : config.target;
    const auto root = data::resolve_data_root(config.data_root);
    torch::Tensor images;
    if (config.stream) {
      // Streamed folders: list the files, decode only the samples shown (the
      // training view, so crops and flips are visible).
      const auto domain = data::stream_folder_domain(spec, config.preprocess, root, static_cast<uint64_t>(config.seed));
      p.train = domain.train->size();
      p.test = domain.test->size();
      for (const auto* set : {domain.train.get(), domain.test.get()}) {
        const auto counts = torch::bincount(set->labels(), {}, set->num_classes());
        auto& out = set == domain.train.get() ? p.train_per_class : p.test_per_class;
        for (int64_t c = 0; c < counts.numel(); ++c) out.push_back(counts[c].item<int64_t>());
      }
      const int64_t shown = std::min<int64_t>(kGridRows * kGridColumns, p.train);
      const auto spread = (torch::arange(shown, torch::kDouble) * (static_cast<double>(p.train) / shown)).to(torch::kInt64);
      images = domain.train->images(spread, /*augment=*/true, static_cast<uint64_t>(config.seed));
    } else {
      const auto splits = data::load_domain(spec, config.preprocess, root, static_cast<uint64_t>(config.seed));
      p.train = splits.train.size();
      p.test = splits.test.size();
      for (auto c : splits.train.class_counts()) p.train_per_class.push_back(c);
      for (auto c : splits.test.class_counts()) p.test_per_class.push_back(c);
      images = splits.train.images;
    }
    p.shape = QString("%1×%2×%3").arg(images.size(1)).arg(images.size(2)).arg(images.size(3));
    QVector<QVector<QImage>> rows(kGridRows);
    for (int i = 0; i < kGridRows * kGridColumns && i < images.size(0); ++i) rows[i / kGridColumns].push_back(to_qimage(train::to_image_buffer(images[i])));
    p.samples = widgets::image_grid(rows, kCell);
  } catch (const std::exception& e) {
    p.error = QString::fromUtf8(e.what());
  }
  return p;
}

DatasetsPanel::DatasetsPanel(ExperimentForm* form, QWidget* parent)
    : QWidget(parent),
      form_(form),
      source_dataset_(new QComboBox),
      target_dataset_(new QComboBox),
      source_protocol_(new QComboBox),
      target_protocol_(new QComboBox),
      source_samples_(new QLabel),
      target_samples_(new QLabel),
      source_counts_(new QLabel),
      target_counts_(new QLabel),
      status_(new QLabel),
      fetch_button_(new QPushButton("Fetch data")) {
  auto* layout = new QVBoxLayout(this);
  const QStringList datasets = {"mnist", "usps", "svhn", "mnistm", "folder"};
  const QStringList protocols = {"full", "sampled", "fraction"};
  int column = 0;
  auto* sides = new QHBoxLayout;
  for (const auto& [side, dataset, protocol, samples, counts] :
       {std::tuple{QString("source"), source_dataset_, source_protocol_, source_samples_, source_counts_},
        std::tuple{QString("target"), target_dataset_, target_protocol_, target_samples_, target_counts_}}) {
    auto* box = new QGroupBox(side);
    auto* v = new QVBoxLayout(box);
    auto* pick = new QHBoxLayout;
    dataset->addItems(datasets);
    dataset->setItemText(datasets.indexOf("folder"), "folder");
    dataset->setToolTip("Dataset; \"folder\" asks for an image folder (one sub-folder per class)");
    protocol->addItems(protocols);
    pick->addWidget(dataset);
    pick->addWidget(protocol);
    v->addLayout(pick);
    samples->setMinimumSize(kGridColumns * kCell, kGridRows * kCell);
    samples->setAlignment(Qt::AlignCenter);
    v->addWidget(samples);
    counts->setWordWrap(true);
    counts->setStyleSheet("font-size: 8pt;");
    v->addWidget(counts);
    sides->addWidget(box);
    const QString s = side;
    connect(dataset, &QComboBox::currentTextChanged, this, [this, s, dataset = dataset](const QString& name) {
      if (syncing_) return;
      if (name == "folder") {
        const auto dir = QFileDialog::getExistingDirectory(this, "Image folder (one sub-folder per class)");
        if (!dir.isEmpty()) form_->setValue(s + ".folder", dir.toStdString());
      }
      form_->setValue(s + ".dataset", name.toStdString());
    });
    connect(protocol, &QComboBox::currentTextChanged, this, [this, s](const QString& name) {
      if (!syncing_) form_->setValue(s + ".protocol", name.toStdString());
    });
    ++column;
  }
  layout->addLayout(sides);
  auto* bottom = new QHBoxLayout;
  auto* reload_button = new QPushButton("Load samples");
  reload_button->setToolTip("Load both domains as the experiment will (protocol and preprocessing applied)");
  bottom->addWidget(reload_button);
  fetch_button_->setToolTip("Run the data fetcher (official sources, then $FAN_DATA_MIRROR)");
  fetch_button_->hide();
  bottom->addWidget(fetch_button_);
  bottom->addStretch(1);
  layout->addLayout(bottom);
  status_->setWordWrap(true);
  layout->addWidget(status_);
  layout->addStretch(1);
  connect(reload_button, &QPushButton::clicked, this, &DatasetsPanel::reload);
  connect(fetch_button_, &QPushButton::clicked, this, &DatasetsPanel::fetch);
  connect(form_, &ExperimentForm::changed, this, &DatasetsPanel::syncFromForm);
  syncFromForm();
}

void DatasetsPanel::syncFromForm() {
  syncing_ = true;
  source_dataset_->setCurrentText(QString::fromStdString(form_->value("source.dataset").get<std::string>()));
  target_dataset_->setCurrentText(QString::fromStdString(form_->value("target.dataset").get<std::string>()));
  source_protocol_->setCurrentText(QString::fromStdString(form_->value("source.protocol").get<std::string>()));
  target_protocol_->setCurrentText(QString::fromStdString(form_->value("target.protocol").get<std::string>()));
  syncing_ = false;
}

void DatasetsPanel::reload() {
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    status_->setText("Fix the form first: " + problem);
    return;
  }
  status_->setText("loading…");
  fetch_button_->hide();
  const auto config = form_->config();
  auto* watcher = new QFutureWatcher<std::pair<DomainPreview, DomainPreview>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    const auto [source, target] = watcher->result();
    show("source", source);
    show("target", target);
    QStringList errors;
    if (!source.error.isEmpty()) errors << "source: " + source.error;
    if (!target.error.isEmpty()) errors << "target: " + target.error;
    status_->setText(errors.isEmpty() ? "Samples after preprocessing: what the network sees." : errors.join("\n"));
    fetch_button_->setVisible(!errors.isEmpty());
    emit loaded();
  });
  watcher->setFuture(QtConcurrent::run([config] {
    return std::make_pair(load_domain_preview(config, "source"), load_domain_preview(config, "target"));
  }));
}

void DatasetsPanel::show(const QString& side, const DomainPreview& p) {
  auto* samples = side == "source" ? source_samples_ : target_samples_;
  auto* counts = side == "source" ? source_counts_ : target_counts_;
  if (!p.error.isEmpty()) {
    samples->setText("data missing or unreadable");
    counts->setText(p.error);
    return;
  }
  samples->setPixmap(QPixmap::fromImage(p.samples));
  counts->setText(QString("train %1, test %2 images of %3\ntrain per class: %4\ntest per class: %5")
                      .arg(p.train).arg(p.test).arg(p.shape, counts_text(p.train_per_class),
                                                    counts_text(p.test_per_class)));
}

QString DatasetsPanel::summary(const QString& side) const {
  return (side == "source" ? source_counts_ : target_counts_)->text();
}

void DatasetsPanel::fetch() {
  std::vector<std::string> names;
  for (const auto* combo : {source_dataset_, target_dataset_}) {
    const auto name = combo->currentText().toStdString();
    if (name == "mnistm") {
      names.push_back("mnist");
      names.push_back("bsds500");
    } else if (name != "folder") {
      names.push_back(name);
    }
  }
  const auto root = form_->value("data.root").get<std::string>();
  status_->setText("fetching… (see the log)");
  auto* watcher = new QFutureWatcher<QString>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    const QString error = watcher->result();
    emit message(error.isEmpty() ? "data fetched" : "fetch failed: " + error);
    if (error.isEmpty()) reload();
    else status_->setText(error);
  });
  watcher->setFuture(QtConcurrent::run([names, root]() -> QString {
    try {
      data::FetchOptions options;
      options.root = data::resolve_data_root(root);
      data::fetch_datasets(names, options);
      return {};
    } catch (const std::exception& e) {
      return QString::fromUtf8(e.what());
    }
  }));
}

}  // namespace fan::app
