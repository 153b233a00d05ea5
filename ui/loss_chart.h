#pragma once

#include <QChartView>
#include <QList>

#include "core/engine/render.h"

class QLineSeries;
class QLogValueAxis;
class QValueAxis;

namespace impasto {

// J, J_content and J_style against the iteration, on a log scale. A weight
// change mid-run shows as a step in J while the iteration axis runs on; so
// does the start of each coarse-to-fine level, which the chart marks itself.
class LossChart : public QChartView {
  Q_OBJECT

 public:
  explicit LossChart(QWidget* parent = nullptr);

  void reset(int iterations);
  void addReports(const QList<StepReport>& reports);
  // Marks the iteration at which new weights were submitted.
  void markWeightChange(int iteration);
  int pointCount() const;
  QLineSeries* totalSeries() const { return total_; }

  QSize sizeHint() const override { return {400, 220}; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void append(int iteration, double value, QList<QPointF>& batch);
  void updateRange();
  // A vertical line at the iteration; the first of each kind names it in the legend.
  void addMarker(double iteration, const QString& kind, const QPen& pen);

  QLineSeries* total_;
  QLineSeries* content_;
  QLineSeries* style_;
  QValueAxis* axisX_;
  QLogValueAxis* axisY_;
  double minY_ = 0.0;
  double maxY_ = 0.0;
  int iterations_ = 1;
  QStringList markerKinds_;  // the kinds already in the legend
  int level_ = 1;            // of the last report
};

}  // namespace impasto
