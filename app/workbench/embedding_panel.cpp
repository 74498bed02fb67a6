// The embedding plot.
#include "embedding_panel.h"

#include "widgets/plot_util.h"

#include "core/analysis/tsne.h"
#include "core/io/run_dir.h"

#include <QBuffer>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QTabWidget>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <QtConcurrent>
#include <qcustomplot.h>

#include <random>

namespace fan::app {
namespace {
// Fig. 5 uses perplexity 35 on 1,000 images per domain; the panel starts smaller.
constexpr double kDefaultPerplexity = 35;
constexpr int kDefaultPoints = 500;
const QStringList kTitles = {"logits, before adaptation", "logits, after adaptation",
                             "domain-specific (hd), before adaptation", "domain-specific (hd), after adaptation"};
// The plot each of the core's views goes to, by its tag.
const QStringList kTags = {"fig5a_logits_before", "fig5b_logits_after", "fig5c_dss_before", "fig5d_dss_after"};

QColor colour(const analysis::Rgb& rgb) { return QColor(rgb[0], rgb[1], rgb[2]); }

// The proxy A-distance record as a small table (2: domains separable, 0: not).
QString distance_table(const nlohmann::json& d) {
  if (!d.is_object()) return {};
  auto cell = [&](const char* space, const char* when) {
    return d.contains(space) && d[space].contains(when) ? QString::number(d[space][when]["distance"].get<double>(), 'f', 3)
                                                        : QString("–");
  };
  QString rows;
  for (const auto& [key, label] : {std::pair{"logits", "logits"}, std::pair{"task_specific", "ht (task-specific)"},
                                   std::pair{"domain_specific", "hd (domain-specific)"}})
    rows += QString("<tr><td>%1</td><td>%2</td><td>%3</td></tr>").arg(label, cell(key, "before"), cell(key, "after"));
  return QString("<b>proxy A-distance</b> (%1 images per domain; 2: domains separable, 0: not) "
                 "<table border=1 cellspacing=0 cellpadding=3><tr><th></th><th>before</th><th>after</th></tr>%2</table>")
      .arg(d.value("samples_per_domain", 0))
      .arg(rows);
}
}  // namespace

EmbeddingPanel::EmbeddingPanel(QWidget* parent)
    : QWidget(parent),
      method_(new QComboBox),
      colour_(new QComboBox),
      perplexity_(new QLineEdit(QString::number(kDefaultPerplexity))),
      points_(new QLineEdit(QString::number(kDefaultPoints))),
      progress_(new QProgressBar),
      compute_button_(new QPushButton(tr("Compute"))),
      status_(new QLabel(tr("Open a run to embed its test images"))),
      a_distance_(new QLabel),
      figure5_(new QWidget),
      live_(new LiveEmbeddingView) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* tabs = new QTabWidget;
  tabs->addTab(live_, tr("Live"));
  tabs->addTab(figure5_, tr("Before / after (Fig. 5)"));
  outer->addWidget(tabs);
  auto* layout = new QVBoxLayout(figure5_);
  auto* controls = new QHBoxLayout;
  method_->addItems({tr("t-SNE"), tr("PCA")});
  colour_->addItems({tr("by domain"), tr("by class")});
  controls->addWidget(method_);
  controls->addWidget(new QLabel(tr("perplexity")));
  perplexity_->setMaximumWidth(50);
  controls->addWidget(perplexity_);
  controls->addWidget(new QLabel(tr("images/domain")));
  points_->setMaximumWidth(60);
  controls->addWidget(points_);
  controls->addWidget(colour_);
  controls->addStretch(1);
  layout->addLayout(controls);
  controls = new QHBoxLayout;
  controls->addWidget(compute_button_);
  auto* cancel_button = new QPushButton(tr("Cancel"));
  controls->addWidget(cancel_button);
  auto* export_button = new QPushButton(tr("Export…"));
  controls->addWidget(export_button);
  controls->addStretch(1);
  layout->addLayout(controls);
  auto* grid = new QGridLayout;
  for (int i = 0; i < 4; ++i) {
    auto* plot = new QCustomPlot;
    plot->setMinimumSize(200, 180);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, kTitles[i], QFont("sans", 8, QFont::Bold)));
    plot->xAxis->setTickLabels(false);
    plot->yAxis->setTickLabels(false);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    connect(plot, &QCustomPlot::mouseMove, this, [this, i](QMouseEvent* e) { hover(i, e); });
    grid->addWidget(plot, i / 2, i % 2);
    plots_.push_back(plot);
  }
  layout->addLayout(grid, 1);
  progress_->setRange(0, 100);
  progress_->setValue(0);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(a_distance_);
  figure5_->setEnabled(false);
  connect(compute_button_, &QPushButton::clicked, this, &EmbeddingPanel::compute);
  connect(cancel_button, &QPushButton::clicked, this, &EmbeddingPanel::cancel);
  connect(colour_, &QComboBox::currentIndexChanged, this, &EmbeddingPanel::draw);
  connect(export_button, &QPushButton::clicked, this, [this] {
    const auto path = QFileDialog::getSaveFileName(this, "Export embedding", "embedding.png", "PNG (*.png);;CSV (*.csv)");
    if (path.endsWith(".csv", Qt::CaseInsensitive)) exportCsv(path);
    else if (!path.isEmpty()) exportPng(path);
  });
}

EmbeddingPanel::~EmbeddingPanel() { cancel(); }

void EmbeddingPanel::setModel(std::shared_ptr<RunModel> model) {
  cancel();
  model_ = std::move(model);
  report_ = {};
  a_distance_->clear();
  draw();
  figure5_->setEnabled(model_ != nullptr);
  source_name_ = "source";
  target_name_ = "target";
  if (model_) {
    // The legend names the datasets, as the live view's does.
    try {
      const auto config = io::RunDirectory(model_->runDir().toStdString()).read_config();
      source_name_ = "source: " + config.at("source").value("dataset", std::string("?"));
      target_name_ = "target: " + config.at("target").value("dataset", std::string("?"));
    } catch (const std::exception&) {
      // An unreadable config.json: the run model could not have loaded either; keep the plain names.
    }
    std::weak_ptr<RunModel> weak = model_;
    live_->setThumbnails([weak](int domain, int index) {
      const auto m = weak.lock();
      return m ? m->image(domain == 0 ? Domain::kSource : Domain::kTarget, index) : QImage();
    });
    // A reopened run replays its frames; the run this panel is following keeps its live view.
    if (model_->runDir() != live_dir_) {
      live_dir_ = model_->runDir();
      live_->loadRun(live_dir_);
    }
  }
  status_->setText(model_ ? tr("Ready: press Compute (%1)").arg(model_->runDir()) : tr("Open a run to embed its test images"));
}

void EmbeddingPanel::startLive(const QString& run_dir, const QString& source_name, const QString& target_name,
                               int64_t training_threads) {
  live_dir_ = run_dir;
  live_->setThumbnails({});
  live_->setTrainingUsesEveryCore(LiveEmbeddingView::usesEveryCore(training_threads));
  live_->startLive(source_name, target_name);
}

void EmbeddingPanel::resumeLive(const QString& run_dir, int64_t training_threads) {
  live_dir_ = run_dir;
  live_->setThumbnails({});
  live_->setTrainingUsesEveryCore(LiveEmbeddingView::usesEveryCore(training_threads));
  live_->loadRun(run_dir, /*follow=*/true);
}

void EmbeddingPanel::endLive() { live_->endLive(); }

void EmbeddingPanel::addLiveFrame(const EmbeddingFrame& frame) { live_->addFrame(frame); }

void EmbeddingPanel::setPointsPerDomain(int n) { points_->setText(QString::number(n)); }
void EmbeddingPanel::setMethod(const QString& method) { method_->setCurrentText(method); }

void EmbeddingPanel::cancel() {
  if (cancel_) cancel_->store(true);
}

void EmbeddingPanel::compute() {
  if (!model_) return;
  bool ok_p = false, ok_n = false;
  analysis::EmbeddingOptions options;
  options.perplexity = perplexity_->text().toDouble(&ok_p);
  options.images_per_domain = points_->text().toInt(&ok_n);
  options.method = method_->currentText() == "t-SNE" ? analysis::EmbeddingOptions::Method::kTsne
                                                     : analysis::EmbeddingOptions::Method::kPca;
  if (!ok_p || options.perplexity <= 0 || !ok_n || options.images_per_domain < 2) {
    status_->setText(tr("perplexity must be a positive number and images/domain an integer ≥ 2"));
    return;
  }
  // The distances on as many images as are embedded, so that the panel answers quickly.
  options.distance_samples = options.images_per_domain;
  cancel();
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  auto cancel_flag = cancel_;
  compute_button_->setEnabled(false);
  progress_->setValue(0);
  status_->setText(options.method == analysis::EmbeddingOptions::Method::kTsne ? tr("computing t-SNE…") : tr("computing PCA…"));
  QPointer<QProgressBar> bar = progress_;
  auto* watcher = new QFutureWatcher<analysis::EmbeddingReport>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, cancel_flag] {
    watcher->deleteLater();
    compute_button_->setEnabled(true);
    try {
      auto report = watcher->result();
      if (cancel_flag->load() || report.cancelled) {
        status_->setText(tr("cancelled"));
        return;
      }
      report_ = std::move(report);
      progress_->setValue(100);
      QStringList kls;
      for (const auto& v : report_.views) kls << QString::number(v.kl_divergence, 'f', 3);
      status_->setText(tr("done; KL divergences %1 — hover a point for its image and labels").arg(kls.join(", ")));
      for (const auto& why : report_.skipped) status_->setText(status_->text() + "; " + QString::fromStdString(why));
      a_distance_->setText(distance_table(report_.proxy_a_distance));
      draw();
      emit computed();
    } catch (const std::exception& e) {
      status_->setText(tr("error: %1").arg(QString::fromUtf8(e.what())));
      emit failed(e.what());
    }
  });
  const auto model = model_;
  watcher->setFuture(QtConcurrent::run([model, options, cancel_flag, bar] {
    return model->embed(
        options,
        [bar](double fraction) {
          QMetaObject::invokeMethod(bar, [bar, fraction] {
            if (bar) bar->setValue(static_cast<int>(100 * fraction));
          });
        },
        [cancel_flag] { return cancel_flag->load(); });
  }));
}

void EmbeddingPanel::draw() {
  const bool by_class = colour_->currentIndex() == 1;
  for (auto* plot : plots_) {
    plot->clearGraphs();
    plot->replot();
  }
  const std::string source = model_ ? source_name_ : "", target = model_ ? target_name_ : "";
  for (const auto& view : report_.views) {
    const int slot = kTags.indexOf(QString::fromStdString(view.tag));
    if (slot < 0) continue;
    auto* plot = plots_[slot];
    // One graph per colour group: domains, or classes (the core's figures, the core's colours).
    const auto figure = by_class ? analysis::by_class(view, source, target) : analysis::by_domain(view, source, target);
    for (const auto& series : figure.series) {
      auto* graph = plot->addGraph();
      graph->setName(QString::fromStdString(series.name));
      graph->setLineStyle(QCPGraph::lsNone);
      graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour(series.color), 3.5));
      QVector<double> xs, ys;
      for (size_t i = 0; i + 1 < series.xy.size(); i += 2) {
        xs.push_back(series.xy[i]);
        ys.push_back(series.xy[i + 1]);
      }
      graph->setData(xs, ys);
    }
    // Which colour is which domain (or class): the legend names them.
    plot->legend->setVisible(!figure.series.empty());
    plot->legend->setFont(QFont("sans", 7));
    plot->legend->setBrush(QColor(255, 255, 255, 200));
    plot->rescaleAxes();
    plot->replot();
  }
}

const analysis::EmbeddingView* EmbeddingPanel::viewIn(int slot) const {
  for (const auto& view : report_.views)
    if (slot >= 0 && slot < kTags.size() && QString::fromStdString(view.tag) == kTags[slot]) return &view;
  return nullptr;
}

void EmbeddingPanel::hover(int v, QMouseEvent* event) {
  const auto* view = viewIn(v);
  if (view == nullptr || !model_) return;
  auto* plot = plots_[v];
  const int64_t best = widgets::nearest_point(*plot, view->xy, event->position());
  if (best < 0) {
    QToolTip::hideText();
    return;
  }
  const bool is_source = view->domain[best] == 0;
  const int index = static_cast<int>(view->index[best]);
  const QImage image = model_->image(is_source ? Domain::kSource : Domain::kTarget, index).scaled(56, 56);
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  QToolTip::showText(event->globalPosition().toPoint(),
                     QString("<img src='data:image/png;base64,%1'/><br>%2 #%3<br>true %4, predicted %5")
                         .arg(QString::fromLatin1(png.toBase64()), is_source ? "source" : "target")
                         .arg(index)
                         .arg(view->label[best])
                         .arg(view->predicted[best]),
                     plot);
}

bool EmbeddingPanel::exportCsv(const QString& path) const {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  QTextStream out(&file);
  out << "view,domain,index,label,predicted,x,y\n";
  for (const auto& view : report_.views)
    for (int64_t i = 0; i < view.size(); ++i)
      out << '"' << QString::fromStdString(view.title) << "\"," << (view.domain[i] == 0 ? "source" : "target") << ','
          << view.index[i] << ',' << view.label[i] << ',' << view.predicted[i] << ',' << view.xy[2 * i] << ','
          << view.xy[2 * i + 1] << '\n';
  out.flush();
  return file.commit();
}

bool EmbeddingPanel::exportPng(const QString& path) const {
  const int w = 600, h = 500;
  QImage sheet(2 * w, 2 * h, QImage::Format_RGB32);
  sheet.fill(Qt::white);
  QPainter painter(&sheet);
  for (int v = 0; v < plots_.size(); ++v) painter.drawPixmap((v % 2) * w, (v / 2) * h, plots_[v]->toPixmap(w, h));
  painter.end();
  const QString tmp = path + ".tmp.png";
  if (!sheet.save(tmp, "PNG")) return false;
  QFile::remove(path);
  return QFile::rename(tmp, path);
}

}  // namespace fan::app
