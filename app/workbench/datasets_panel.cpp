// The datasets panel.
#include "datasets_panel.h"

#include "core/data/domain.h"
#include "core/data/image_set.h"
#include "core/data/fetch.h"
#include "core/io/config.h"
#include "core/train/experiment.h"
#include "experiment_form.h"
#include "training_worker.h"
#include "widgets/bar_chart.h"
#include "widgets/preview_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QShowEvent>
#include <QVBoxLayout>
#include <QtConcurrent>

namespace fan::app {
namespace {
// Sample grid: this many images per row, rows, and pixels per image.
constexpr int kGridColumns = 8;
constexpr int kGridRows = 3;
constexpr int kCell = 34;
// The chart's colours: the source's bars, the target's, and the AdaBN estimate's outline.
const QColor kSourceColor(31, 119, 180);
const QColor kTargetColor(255, 127, 14);
const QColor kEstimateColor(40, 40, 40);

QString counts_text(const QVector<qint64>& counts) {
  QStringList parts;
  for (int c = 0; c < counts.size(); ++c) parts << QString("%1: %2").arg(c).arg(counts[c]);
  return parts.join("  ");
}

// Class proportions: count / total (all 0 for an empty set).
QVector<double> proportions(const QVector<qint64>& counts) {
  qint64 total = 0;
  for (auto c : counts) total += c;
  QVector<double> out;
  for (auto c : counts) out << (total > 0 ? static_cast<double>(c) / total : 0.0);
  return out;
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
      fetch_button_(new QPushButton(tr("Fetch data"))),
      chart_split_(new QComboBox),
      chart_(new widgets::BarChart) {
  auto* layout = new QVBoxLayout(this);
  const QStringList datasets = {"mnist", "usps", "svhn", "mnistm", "folder"};
  const QStringList protocols = {"full", "sampled", "fraction"};
  int column = 0;
  auto* sides = new QHBoxLayout;
  for (const auto& [side, dataset, protocol, samples, counts] :
       {std::tuple{QString("source"), source_dataset_, source_protocol_, source_samples_, source_counts_},
        std::tuple{QString("target"), target_dataset_, target_protocol_, target_samples_, target_counts_}}) {
    auto* box = new QGroupBox(side == "source" ? tr("source") : tr("target"));
    auto* v = new QVBoxLayout(box);
    auto* pick = new QHBoxLayout;
    dataset->addItems(datasets);
    dataset->setItemText(datasets.indexOf("folder"), "folder");
    dataset->setToolTip(tr("Dataset; \"folder\" asks for an image folder (one sub-folder per class)"));
    protocol->setToolTip(tr("full: all training images; sampled: a seeded random draw (the paper's 2,000 MNIST / "
                            "1,800 USPS); fraction: a per-class fraction"));
    protocol->addItems(protocols);
    pick->addWidget(dataset);
    pick->addWidget(protocol);
    v->addLayout(pick);
    samples->setMinimumSize(kGridColumns * kCell, kGridRows * kCell);
    samples->setAlignment(Qt::AlignCenter);
    v->addWidget(samples);
    counts->setWordWrap(true);
    counts->setStyleSheet("font-size: 8pt;");
    counts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(counts);
    sides->addWidget(box);
    const QString s = side;
    connect(dataset, &QComboBox::currentTextChanged, this, [this, s, dataset = dataset](const QString& name) {
      if (syncing_) return;
      if (name == "folder") {
        const auto dir = QFileDialog::getExistingDirectory(this, tr("Image folder (one sub-folder per class)"));
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
  // The class mix of both domains side by side: a label shift (USPS has 17 % zeros, MNIST 10 %)
  // is what adversarial matching of the logit distributions has to fight.
  auto* chart_row = new QHBoxLayout;
  chart_row->addWidget(new QLabel(tr("class proportions of the")));
  chart_split_->addItem(tr("training sets"), "train");
  chart_split_->addItem(tr("test sets"), "test");
  chart_split_->setToolTip(tr("Training sets: what stage 1 learns from and stage 2 adapts on (the protocol's draw); "
                              "test sets: what the accuracies are measured on"));
  chart_row->addWidget(chart_split_);
  chart_row->addStretch(1);
  layout->addLayout(chart_row);
  chart_->setObjectName("class_proportions");
  chart_->setPercent(true);
  chart_->setAxisLabels(tr("class"), tr("share of the images (%)"));
  chart_->setMinimumHeight(230);
  chart_->setToolTip(tr("Share of each class in the source and target sets; after a run, the outline is the "
                        "target's class mix as the source network with target batch-norm statistics (AdaBN) "
                        "predicts it on the unlabelled target training images"));
  layout->addWidget(chart_, 1);
  auto* bottom = new QHBoxLayout;
  auto* reload_button = new QPushButton(tr("Load samples"));
  reload_button->setToolTip(tr("Load both domains as the experiment will (protocol and preprocessing applied)"));
  bottom->addWidget(reload_button);
  fetch_button_->setToolTip(tr("Run the data fetcher (official sources, then $FAN_DATA_MIRROR)"));
  fetch_button_->hide();
  bottom->addWidget(fetch_button_);
  bottom->addStretch(1);
  layout->addLayout(bottom);
  status_->setWordWrap(true);
  status_->setText(tr("Load samples to see both domains after preprocessing and their class mix."));
  layout->addWidget(status_);
  connect(reload_button, &QPushButton::clicked, this, &DatasetsPanel::reload);
  connect(fetch_button_, &QPushButton::clicked, this, &DatasetsPanel::fetch);
  connect(chart_split_, &QComboBox::currentIndexChanged, this, &DatasetsPanel::updateChart);
  connect(form_, &ExperimentForm::changed, this, &DatasetsPanel::syncFromForm);
  syncFromForm();
  updateChart();
}

void DatasetsPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  // The first look at the panel (or the first after the domains changed) loads them: the class
  // mix is what a new user comes here for.
  if (stale_ && !loading_) reload();
}

void DatasetsPanel::setChartSplit(const QString& split) {
  const int index = chart_split_->findData(split);
  if (index >= 0) chart_split_->setCurrentIndex(index);
}

void DatasetsPanel::setPriorEstimate(const std::vector<double>& estimate, const QString& run) {
  estimate_ = estimate;
  estimate_run_ = run;
  updateChart();
}

void DatasetsPanel::updateChart() {
  const bool train = chart_split_->currentData().toString() == "train";
  chart_->clear();
  int classes = static_cast<int>(estimate_.size());
  const auto source_counts = train ? source_.train_per_class : source_.test_per_class;
  const auto target_counts = train ? target_.train_per_class : target_.test_per_class;
  classes = std::max({classes, static_cast<int>(source_counts.size()), static_cast<int>(target_counts.size())});
  QStringList labels;
  for (int c = 0; c < classes; ++c) labels << QString::number(c);
  chart_->setCategories(labels);
  const QString split = train ? tr("train") : tr("test");
  if (source_.error.isEmpty() && !source_counts.isEmpty())
    chart_->setBars(tr("source: %1 %2").arg(source_dataset_->currentText(), split), proportions(source_counts),
                    kSourceColor);
  if (target_.error.isEmpty() && !target_counts.isEmpty())
    chart_->setBars(tr("target: %1 %2").arg(target_dataset_->currentText(), split), proportions(target_counts),
                    kTargetColor);
  if (!estimate_.empty())
    chart_->setOutline(tr("target train, AdaBN estimate"), QVector<double>(estimate_.begin(), estimate_.end()),
                       kEstimateColor);
  QString title = tr("class mix of source and target");
  if (!estimate_.empty() && !estimate_run_.isEmpty()) title += tr(" (estimate: %1)").arg(estimate_run_);
  chart_->setTitle(title);
}

void DatasetsPanel::syncFromForm() {
  syncing_ = true;
  stale_ = true;
  source_dataset_->setCurrentText(QString::fromStdString(form_->value("source.dataset").get<std::string>()));
  target_dataset_->setCurrentText(QString::fromStdString(form_->value("target.dataset").get<std::string>()));
  source_protocol_->setCurrentText(QString::fromStdString(form_->value("source.protocol").get<std::string>()));
  target_protocol_->setCurrentText(QString::fromStdString(form_->value("target.protocol").get<std::string>()));
  syncing_ = false;
}

void DatasetsPanel::reload() {
  const QString problem = form_->firstProblem();
  if (!problem.isEmpty()) {
    status_->setText(tr("Fix the form first: %1").arg(problem));
    return;
  }
  stale_ = false;
  loading_ = true;
  status_->setText(tr("loading…"));
  fetch_button_->hide();
  const auto config = form_->config();
  auto* watcher = new QFutureWatcher<std::pair<DomainPreview, DomainPreview>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    const auto [source, target] = watcher->result();
    loading_ = false;
    source_ = source;
    target_ = target;
    show("source", source);
    show("target", target);
    updateChart();
    loaded_ = true;
    QStringList errors;
    if (!source.error.isEmpty()) errors << tr("source: %1").arg(source.error);
    if (!target.error.isEmpty()) errors << tr("target: %1").arg(target.error);
    status_->setText(errors.isEmpty() ? tr("Samples after preprocessing: what the network sees.") : errors.join("\n"));
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
    samples->setText(tr("data missing or unreadable"));
    counts->setText(p.error);
    counts->setToolTip(QString());
    return;
  }
  samples->setPixmap(QPixmap::fromImage(p.samples));
  // The counts per class are in the chart below (and, exactly, in the tooltip).
  counts->setText(tr("train %1, test %2 images of %3").arg(p.train).arg(p.test).arg(p.shape));
  counts->setToolTip(tr("train per class: %1\ntest per class: %2")
                         .arg(counts_text(p.train_per_class), counts_text(p.test_per_class)));
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
  status_->setText(tr("fetching… (see the log)"));
  auto* watcher = new QFutureWatcher<QString>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    const QString error = watcher->result();
    emit message(error.isEmpty() ? tr("data fetched") : tr("fetch failed: %1").arg(error));
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
