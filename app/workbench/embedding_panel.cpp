// The embedding plot.
#include "embedding_panel.h"

#include "core/analysis/tsne.h"

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
const QColor kSourceColour(214, 39, 40);  // red = source, as in the paper
const QColor kTargetColour(31, 119, 180);  // blue = target
const QList<QColor> kClassColours = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                                     QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                                     QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                                     QColor(23, 190, 207)};
const QStringList kTitles = {"logits, before adaptation", "logits, after adaptation",
                             "domain-specific (hd), before adaptation", "domain-specific (hd), after adaptation"};

struct Job {
  std::shared_ptr<RunModel> model;
  int points = kDefaultPoints;
  double perplexity = kDefaultPerplexity;
  bool tsne = true;
};

std::vector<int> pick(int count, int n, unsigned seed) {
  std::vector<int> all(count);
  std::iota(all.begin(), all.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::min(n, count));
  return all;
}
}  // namespace

EmbeddingPanel::EmbeddingPanel(QWidget* parent)
    : QWidget(parent),
      method_(new QComboBox),
      colour_(new QComboBox),
      perplexity_(new QLineEdit(QString::number(kDefaultPerplexity))),
      points_(new QLineEdit(QString::number(kDefaultPoints))),
      progress_(new QProgressBar),
      compute_button_(new QPushButton("Compute")),
      status_(new QLabel("Open a run to embed its test images")),
      a_distance_(new QLabel) {
  auto* layout = new QVBoxLayout(this);
  auto* controls = new QHBoxLayout;
  method_->addItems({"t-SNE", "PCA"});
  colour_->addItems({"by domain", "by class"});
  controls->addWidget(method_);
  controls->addWidget(new QLabel("perplexity"));
  perplexity_->setMaximumWidth(50);
  controls->addWidget(perplexity_);
  controls->addWidget(new QLabel("images/domain"));
  points_->setMaximumWidth(60);
  controls->addWidget(points_);
  controls->addWidget(colour_);
  controls->addStretch(1);
  layout->addLayout(controls);
  controls = new QHBoxLayout;
  controls->addWidget(compute_button_);
  auto* cancel_button = new QPushButton("Cancel");
  controls->addWidget(cancel_button);
  auto* export_button = new QPushButton("Export…");
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
  setEnabled(false);
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
  views_.clear();
  draw();
  setEnabled(model_ != nullptr);
  status_->setText(model_ ? "Ready: press Compute (" + model_->runDir() + ")" : "Open a run to embed its test images");
}

void EmbeddingPanel::setPointsPerDomain(int n) { points_->setText(QString::number(n)); }
void EmbeddingPanel::setMethod(const QString& method) { method_->setCurrentText(method); }

void EmbeddingPanel::cancel() {
  if (cancel_) cancel_->store(true);
}

void EmbeddingPanel::compute() {
  if (!model_) return;
  bool ok_p = false, ok_n = false;
  Job job;
  job.model = model_;
  job.perplexity = perplexity_->text().toDouble(&ok_p);
  job.points = points_->text().toInt(&ok_n);
  job.tsne = method_->currentText() == "t-SNE";
  if (!ok_p || job.perplexity <= 0 || !ok_n || job.points < 2) {
    status_->setText("perplexity must be a positive number and images/domain an integer ≥ 2");
    return;
  }
  cancel();
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  auto cancel_flag = cancel_;
  compute_button_->setEnabled(false);
  progress_->setValue(0);
  status_->setText(job.tsne ? "computing t-SNE…" : "computing PCA…");
  QPointer<QProgressBar> bar = progress_;
  auto* watcher = new QFutureWatcher<QVector<EmbeddingView>>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, cancel_flag] {
    watcher->deleteLater();
    compute_button_->setEnabled(true);
    try {
      auto views = watcher->result();
      if (cancel_flag->load()) {
        status_->setText("cancelled");
        return;
      }
      views_ = std::move(views);
      progress_->setValue(100);
      QStringList kls;
      for (const auto& v : views_) kls << QString::number(v.kl, 'f', 3);
      status_->setText("done; KL divergences " + kls.join(", ") + " — hover a point for its image and labels");
      const auto& a = views_.isEmpty() ? QVector<double>() : views_[0].a_distance;
      if (a.size() == 6) {
        a_distance_->setText(QString("<b>proxy A-distance</b> (2: domains separable, 0: not) "
                                     "<table border=1 cellspacing=0 cellpadding=3><tr><th></th><th>before</th><th>after</th></tr>"
                                     "<tr><td>logits</td><td>%1</td><td>%2</td></tr>"
                                     "<tr><td>ht (task-specific)</td><td>%3</td><td>%4</td></tr>"
                                     "<tr><td>hd (domain-specific)</td><td>%5</td><td>%6</td></tr></table>")
                                 .arg(a[0], 0, 'f', 3).arg(a[1], 0, 'f', 3).arg(a[2], 0, 'f', 3)
                                 .arg(a[3], 0, 'f', 3).arg(a[4], 0, 'f', 3).arg(a[5], 0, 'f', 3));
      }
      draw();
      emit computed();
    } catch (const std::exception& e) {
      status_->setText(QString("error: ") + e.what());
      emit failed(e.what());
    }
  });
  watcher->setFuture(QtConcurrent::run([job, cancel_flag, bar] {
    QVector<EmbeddingView> views;
    const auto src = pick(job.model->count(Domain::kSource), job.points, 1);
    const auto tgt = pick(job.model->count(Domain::kTarget), job.points, 2);
    // One forward pass per domain and network; every view and distance reads from these.
    RunModel::Encoded encoded[2][2];  // [after][domain]
    for (const bool after : {false, true}) {
      encoded[after][0] = job.model->encode(Domain::kSource, src, after);
      encoded[after][1] = job.model->encode(Domain::kTarget, tgt, after);
    }
    for (int v = 0; v < 4; ++v) {
      const bool after = v % 2 == 1;
      const Space space = v >= 2 ? Space::kDomainSpecific : Space::kLogits;
      const auto& es = encoded[after][0];
      const auto& et = encoded[after][1];
      int d = 0;
      auto fs = es.rows(space, &d);
      const auto ft = et.rows(space, &d);
      fs.insert(fs.end(), ft.begin(), ft.end());
      const int64_t n = static_cast<int64_t>(src.size() + tgt.size());
      EmbeddingView view;
      view.title = kTitles[v];
      std::vector<float> xy;
      if (job.tsne) {
        analysis::TsneOptions options;
        options.perplexity = std::min(job.perplexity, (n - 1) / 3.0);
        options.seed = 0;
        auto result = analysis::tsne(fs.data(), n, d, options, [&](int iteration, double) {
          if (bar)
            QMetaObject::invokeMethod(bar, [bar, v, iteration, total = options.iterations] {
              if (bar) bar->setValue((100 * v + 100 * iteration / total) / 4);
            });
          return !cancel_flag->load();
        });
        xy = std::move(result.embedding);
        view.kl = result.kl_divergence;
      } else {
        xy = analysis::pca_2d(fs.data(), n, d);
      }
      if (cancel_flag->load()) return views;
      for (int64_t i = 0; i < n; ++i) {
        const bool is_source = i < static_cast<int64_t>(src.size());
        const auto& e = is_source ? es : et;
        const size_t k = is_source ? i : i - src.size();
        view.x.push_back(xy[2 * i]);
        view.y.push_back(xy[2 * i + 1]);
        view.domain.push_back(is_source ? 0 : 1);
        view.index.push_back(is_source ? src[k] : tgt[k]);
        view.label.push_back(e.labels[k]);
        view.predicted.push_back(e.predicted[k]);
      }
      views.push_back(view);
    }
    // How well a linear classifier still tells the domains apart, per subspace.
    for (const Space space : {Space::kLogits, Space::kTaskSpecific, Space::kDomainSpecific})
      for (const bool after : {false, true})
        views[0].a_distance.push_back(RunModel::proxyADistance(encoded[after][0], encoded[after][1], space));
    return views;
  }));
}

void EmbeddingPanel::draw() {
  const bool by_class = colour_->currentIndex() == 1;
  for (int v = 0; v < plots_.size(); ++v) {
    auto* plot = plots_[v];
    plot->clearGraphs();
    if (v >= views_.size()) {
      plot->replot();
      continue;
    }
    const auto& view = views_[v];
    // One graph per colour group: domains, or classes.
    const int groups = by_class ? kClassColours.size() : 2;
    for (int g = 0; g < groups; ++g) {
      auto* graph = plot->addGraph();
      graph->setLineStyle(QCPGraph::lsNone);
      const QColor colour = by_class ? kClassColours[g] : (g == 0 ? kSourceColour : kTargetColour);
      graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colour, 3.5));
      QVector<double> xs, ys;
      for (int i = 0; i < view.x.size(); ++i) {
        if ((by_class ? view.label[i] % groups : view.domain[i]) != g) continue;
        xs.push_back(view.x[i]);
        ys.push_back(view.y[i]);
      }
      graph->setData(xs, ys);
    }
    plot->rescaleAxes();
    plot->replot();
  }
}

void EmbeddingPanel::hover(int v, QMouseEvent* event) {
  if (v >= views_.size() || !model_) return;
  const auto& view = views_[v];
  auto* plot = plots_[v];
  int best = -1;
  double best_d = 36;  // within 6 pixels
  for (int i = 0; i < view.x.size(); ++i) {
    const double dx = plot->xAxis->coordToPixel(view.x[i]) - event->position().x();
    const double dy = plot->yAxis->coordToPixel(view.y[i]) - event->position().y();
    if (dx * dx + dy * dy < best_d) {
      best_d = dx * dx + dy * dy;
      best = i;
    }
  }
  if (best < 0) {
    QToolTip::hideText();
    return;
  }
  const auto domain = view.domain[best] == 0 ? Domain::kSource : Domain::kTarget;
  const QImage image = model_->image(domain, view.index[best]).scaled(56, 56);
  QByteArray png;
  QBuffer buffer(&png);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  QToolTip::showText(event->globalPosition().toPoint(),
                     QString("<img src='data:image/png;base64,%1'/><br>%2 #%3<br>true %4, predicted %5")
                         .arg(QString::fromLatin1(png.toBase64()), view.domain[best] == 0 ? "source" : "target")
                         .arg(view.index[best]).arg(view.label[best]).arg(view.predicted[best]),
                     plot);
}

bool EmbeddingPanel::exportCsv(const QString& path) const {
  const QString tmp = path + ".tmp";
  QFile file(tmp);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  QTextStream out(&file);
  out << "view,domain,index,label,predicted,x,y\n";
  for (const auto& view : views_)
    for (int i = 0; i < view.x.size(); ++i)
      out << '"' << view.title << "\"," << (view.domain[i] == 0 ? "source" : "target") << ',' << view.index[i] << ','
          << view.label[i] << ',' << view.predicted[i] << ',' << view.x[i] << ',' << view.y[i] << '\n';
  out.flush();
  file.close();
  QFile::remove(path);
  return file.error() == QFile::NoError && QFile::rename(tmp, path);
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
