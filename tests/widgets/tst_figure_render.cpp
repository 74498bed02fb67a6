// The QCustomPlot figure renderer: every figure kind becomes a readable PNG, offscreen.
#include "core/test_util.h"

#include "widgets/figure_render.h"

#include <QImage>
#include <QtTest>

using namespace fan;

namespace {

// True when the image has more than one colour (something was drawn).
bool has_content(const QImage& image) {
  const QRgb first = image.pixel(0, 0);
  for (int y = 0; y < image.height(); y += 3)
    for (int x = 0; x < image.width(); x += 3)
      if (image.pixel(x, y) != first) return true;
  return false;
}

}  // namespace

class TestFigureRender : public QObject {
  Q_OBJECT
 private slots:
  void everyFigureKindWritesAPng() {
    test::ScratchDir dir("fan-figure-render");
    widgets::FigureRenderer renderer(400, 300);
    analysis::ScatterFigure scatter{
        "scatter",
        {{"source", {214, 39, 40}, {0, 0, 1, 1, 2, 0.5f}}, {"target", {31, 119, 180}, {3, 3, 4, 2}}}};
    analysis::CurveFigure curves{
        "losses",
        "step",
        "loss",
        "accuracy",
        {{"Lc", {1, 2, 3}, {1.0, 0.5, 0.25}, false}, {"acc", {1, 2, 3}, {0.2, 0.5, 0.7}, true}},
        true};
    analysis::MatrixFigure matrix{"confusion", "predicted", "true", {"0", "1"}, {{5, 1}, {2, 7}}};
    analysis::TableFigure table{
        "proxy A-distance", {"features", "before", "after"}, {{"logits", "1.2", "0.3"}}};
    renderer.scatter(scatter, dir / "scatter.png");
    renderer.curves(curves, dir / "curves.png");
    renderer.matrix(matrix, dir / "matrix.png");
    renderer.table(table, dir / "table.png");
    for (const auto* name : {"scatter.png", "curves.png", "matrix.png"}) {
      QImage image(QString::fromStdString((dir / name).string()));
      QVERIFY2(!image.isNull(), name);
      QCOMPARE(image.size(), QSize(400, 300));
      QVERIFY2(has_content(image), name);
    }
    QImage table_image(QString::fromStdString((dir / "table.png").string()));
    QVERIFY(!table_image.isNull() && has_content(table_image));
  }

  void unwritablePathIsAnError() {
    widgets::FigureRenderer renderer(200, 100);
    analysis::TableFigure table{"t", {"a"}, {{"b"}}};
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, renderer.table(table, "/nonexistent-folder/x/table.png"));
  }
};

QTEST_MAIN(TestFigureRender)
#include "tst_figure_render.moc"
