// Small helpers the plot panels share: atomic exports and picking the point under the mouse.
#pragma once
#include <QFile>
#include <QFileInfo>
#include <QPointF>
#include <QString>

#include <cstdint>
#include <vector>

class QCustomPlot;

namespace fan::widgets {

// Writes through PATH.tmp (`write(tmp)` returns success) and renames it onto PATH, so a failed or
// empty export leaves nothing half-written.
template <typename Fn>
bool write_atomically(const QString& path, Fn write) {
  const QString tmp = path + ".tmp";
  if (!write(tmp) || QFileInfo(tmp).size() == 0) {
    QFile::remove(tmp);
    return false;
  }
  QFile::remove(path);
  return QFile::rename(tmp, path);
}

// The point of `xy` (n × 2, row-major, plot coordinates) nearest to `at` (widget pixels) within
// `radius` pixels, or −1.
int64_t nearest_point(const QCustomPlot& plot, const std::vector<float>& xy, QPointF at, double radius = 6);

}  // namespace fan::widgets
