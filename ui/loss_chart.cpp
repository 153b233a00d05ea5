#include "ui/loss_chart.h"

#include <QChart>
#include <QGraphicsLayout>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>
#include <cmath>

namespace impasto {

LossChart::LossChart(QWidget* parent)
    : QChartView(parent),
      total_(new QLineSeries),
      content_(new QLineSeries),
      style_(new QLineSeries),
      axisX_(new QValueAxis),
      axisY_(new QLogValueAxis) {
  auto* chart = new QChart;
  chart->legend()->setAlignment(Qt::AlignTop);
  chart->setMargins(QMargins(2, 2, 2, 2));
  chart->layout()->setContentsMargins(0, 0, 0, 0);
  total_->setName(QStringLiteral("J"));
  content_->setName(QStringLiteral("J_content"));
  style_->setName(QStringLiteral("J_style"));
  // Thousands of points: skip the per-point animation machinery.
  chart->setAnimationOptions(QChart::NoAnimation);
  for (QLineSeries* s : {total_, content_, style_}) chart->addSeries(s);
  axisX_->setTitleText(tr("iteration"));
  axisX_->setLabelFormat(QStringLiteral("%d"));
  axisY_->setLabelFormat(QStringLiteral("%.0e"));
  axisY_->setBase(10.0);
  chart->addAxis(axisX_, Qt::AlignBottom);
  chart->addAxis(axisY_, Qt::AlignLeft);
  for (QLineSeries* s : {total_, content_, style_}) {
    s->attachAxis(axisX_);
    s->attachAxis(axisY_);
  }
  QPen pen = total_->pen();
  pen.setWidthF(2.0);
  total_->setPen(pen);
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(220);
  reset(100);
}

void LossChart::reset(int iterations) {
  for (QLineSeries* s : {total_, content_, style_}) s->clear();
  // Weight-change markers are extra series; drop them with the old run.
  for (QAbstractSeries* s : chart()->series())
    if (s != total_ && s != content_ && s != style_) {
      chart()->removeSeries(s);
      delete s;
    }
  markerKinds_.clear();
  level_ = 1;
  iterations_ = std::max(1, iterations);
  axisX_->setRange(0, iterations_);
  minY_ = maxY_ = 0.0;
  axisY_->setRange(1e-3, 1e3);
}

void LossChart::append(int iteration, double value, QList<QPointF>& batch) {
  // A log axis cannot show zero or negative costs (a term with weight 0): leave a gap.
  if (!(value > 0.0) || !std::isfinite(value)) return;
  batch.append(QPointF(iteration, value));
  if (minY_ == 0.0 || value < minY_) minY_ = value;
  if (value > maxY_) maxY_ = value;
}

void LossChart::addReports(const QList<StepReport>& reports) {
  QList<QPointF> total, content, style;
  for (const StepReport& r : reports) {
    append(r.iteration, r.loss, total);
    append(r.iteration, r.contentLoss, content);
    append(r.iteration, r.styleLoss, style);
    if (r.level > level_)
      addMarker(r.iteration - 0.5, tr("next level"), QPen(Qt::darkCyan, 1.0, Qt::DotLine));
    level_ = r.level;
    if (r.iterations > iterations_) {
      iterations_ = r.iterations;
      axisX_->setRange(0, iterations_);
    }
  }
  // One append per series per batch: each append repaints the chart.
  if (!total.isEmpty()) total_->append(total);
  if (!content.isEmpty()) content_->append(content);
  if (!style.isEmpty()) style_->append(style);
  updateRange();
}

void LossChart::markWeightChange(int iteration) {
  addMarker(iteration, tr("new weights"), QPen(Qt::gray, 1.0, Qt::DashLine));
}

void LossChart::addMarker(double iteration, const QString& kind, const QPen& pen) {
  if (maxY_ <= 0.0) return;
  auto* marker = new QLineSeries;
  const bool named = !markerKinds_.contains(kind);
  if (named) {
    marker->setName(kind);
    markerKinds_ << kind;
  }
  // Far beyond the data both ways: the plot clips it, and it still spans the
  // axis after the range grows.
  marker->append(iteration, minY_ * 1e-6);
  marker->append(iteration, maxY_ * 1e6);
  marker->setPen(pen);
  chart()->addSeries(marker);
  marker->attachAxis(axisX_);
  marker->attachAxis(axisY_);
  if (!named)
    for (auto* m : chart()->legend()->markers(marker)) m->setVisible(false);
}

int LossChart::pointCount() const { return int(total_->count()); }

void LossChart::updateRange() {
  if (maxY_ <= 0.0) return;
  // One label per decade stops fitting once the costs span many decades: the
  // labels would be elided to "...". Step by several decades instead.
  const double plotHeight = chart()->plotArea().height() > 0 ? chart()->plotArea().height() : height() - 90.0;
  const int maxLabels = std::max(2, int(plotHeight / 22.0));
  const double lowDecade = std::floor(std::log10(minY_));
  double highDecade = std::ceil(std::log10(maxY_));
  if (highDecade <= lowDecade) highDecade = lowDecade + 1;
  const int step = std::max(1, int(std::ceil((highDecade - lowDecade) / double(maxLabels - 1))));
  const double lo = std::pow(10.0, std::floor(lowDecade / step) * step);
  const double hi = std::pow(10.0, std::ceil(highDecade / step) * step);
  const double base = std::pow(10.0, step);
  if (axisY_->base() != base) axisY_->setBase(base);
  if (axisY_->min() != lo || axisY_->max() != hi) axisY_->setRange(lo, hi);
}

void LossChart::resizeEvent(QResizeEvent* event) {
  QChartView::resizeEvent(event);
  updateRange();
}

}  // namespace impasto
