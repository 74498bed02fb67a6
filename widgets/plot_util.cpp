#include "widgets/plot_util.h"

#include <qcustomplot.h>

namespace fan::widgets {

int64_t nearest_point(const QCustomPlot& plot, const std::vector<float>& xy, QPointF at, double radius) {
  int64_t best = -1;
  double best_d = radius * radius;
  for (int64_t i = 0; 2 * i + 1 < static_cast<int64_t>(xy.size()); ++i) {
    const double dx = plot.xAxis->coordToPixel(xy[2 * i]) - at.x();
    const double dy = plot.yAxis->coordToPixel(xy[2 * i + 1]) - at.y();
    if (dx * dx + dy * dy < best_d) {
      best_d = dx * dx + dy * dy;
      best = i;
    }
  }
  return best;
}

}  // namespace fan::widgets
