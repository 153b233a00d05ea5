#include "ui/preview_widget.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace impasto {

namespace {
constexpr double kMinZoom = 0.02;
constexpr double kMaxZoom = 32.0;
constexpr double kZoomStep = 1.25;
}  // namespace

PreviewWidget::PreviewWidget(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setMinimumSize(200, 150);
}

void PreviewWidget::setImage(const QImage& image) {
  const bool resized = image.size() != image_.size();
  image_ = image;
  pixmap_ = QPixmap::fromImage(image);
  if (resized && fitting_) zoom_ = fitZoom();
  update();
}

void PreviewWidget::setBeforeImage(const QImage& image) {
  before_ = QPixmap::fromImage(image);
  update();
}

void PreviewWidget::clear() {
  image_ = {};
  pixmap_ = {};
  update();
}

void PreviewWidget::setPlaceholderText(const QString& text) {
  placeholder_ = text;
  update();
}

QSize PreviewWidget::displaySize() const {
  // Before a render exists the split shows the content image alone.
  if (!pixmap_.isNull()) return pixmap_.size();
  return before_.size();
}

double PreviewWidget::fitZoom() const {
  const QSize s = displaySize();
  if (s.isEmpty()) return 1.0;
  const double margin = 8.0;
  return std::clamp(std::min((width() - margin) / s.width(), (height() - margin) / s.height()), kMinZoom,
                    kMaxZoom);
}

QRectF PreviewWidget::imageRect() const {
  const QSizeF s = QSizeF(displaySize()) * zoom_;
  const QPointF centre = QPointF(width() / 2.0, height() / 2.0) + offset_;
  return {centre - QPointF(s.width() / 2.0, s.height() / 2.0), s};
}

void PreviewWidget::fitToWindow() {
  fitting_ = true;
  offset_ = {};
  zoom_ = fitZoom();
  emit zoomChanged(zoom_);
  update();
}

void PreviewWidget::actualSize() { setZoom(1.0); }
void PreviewWidget::zoomIn() { zoomAround(zoom_ * kZoomStep, rect().center()); }
void PreviewWidget::zoomOut() { zoomAround(zoom_ / kZoomStep, rect().center()); }

void PreviewWidget::setZoom(double zoom) {
  fitting_ = false;
  offset_ = {};
  zoom_ = std::clamp(zoom, kMinZoom, kMaxZoom);
  emit zoomChanged(zoom_);
  update();
}

void PreviewWidget::zoomAround(double zoom, QPointF anchor) {
  zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
  // Keep the image point under the anchor where it is.
  const QPointF centre = QPointF(width() / 2.0, height() / 2.0) + offset_;
  const QPointF fromCentre = (anchor - centre) / zoom_;
  const QPointF newCentre = anchor - fromCentre * zoom;
  offset_ = newCentre - QPointF(width() / 2.0, height() / 2.0);
  zoom_ = zoom;
  fitting_ = false;
  emit zoomChanged(zoom_);
  update();
}

void PreviewWidget::setSplit(bool on) {
  if (split_ == on) return;
  split_ = on;
  emit splitChanged(on);
  update();
}

void PreviewWidget::setSplitPosition(double fraction) {
  splitPosition_ = std::clamp(fraction, 0.0, 1.0);
  update();
}

bool PreviewWidget::nearSplit(QPointF pos) const {
  if (!split_) return false;
  const QRectF r = imageRect();
  const double x = r.left() + splitPosition_ * r.width();
  return std::abs(pos.x() - x) <= 6.0 && pos.y() >= r.top() && pos.y() <= r.bottom();
}

void PreviewWidget::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Dark));
  if (displaySize().isEmpty()) {
    painter.setPen(palette().color(QPalette::BrightText));
    painter.drawText(rect().adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap, placeholder_);
    return;
  }
  const QRectF target = imageRect();
  // Smooth when shrinking; sharp pixels when the user zooms in to inspect them.
  painter.setRenderHint(QPainter::SmoothPixmapTransform, zoom_ < 2.0);
  const QPixmap& after = pixmap_.isNull() ? before_ : pixmap_;
  painter.drawPixmap(target, after, after.rect());
  if (split_ && !before_.isNull()) paintSplit(painter, target);
  if (showFaceBoxes_) paintFaceBoxes(painter, target);
  if (!badge_.isEmpty()) paintBadge(painter);
}

void PreviewWidget::paintSplit(QPainter& painter, const QRectF& target) {
  const double x = target.left() + splitPosition_ * target.width();
  painter.save();
  painter.setClipRect(QRectF(target.topLeft(), QPointF(x, target.bottom())));
  painter.drawPixmap(target, before_, before_.rect());
  painter.restore();
  painter.save();
  painter.setPen(QPen(Qt::white, 2));
  painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()));
  painter.setBrush(Qt::white);
  painter.drawEllipse(QPointF(x, target.center().y()), 6, 6);
  const QRectF visible = target.intersected(QRectF(rect()));
  painter.setPen(Qt::white);
  const QFontMetrics metrics(font());
  painter.drawText(QPointF(std::max(visible.left(), target.left()) + 8, visible.top() + metrics.ascent() + 6),
                   tr("Before"));
  const QString afterText = tr("After");
  painter.drawText(
      QPointF(std::min(visible.right(), target.right()) - metrics.horizontalAdvance(afterText) - 8,
              visible.top() + metrics.ascent() + 6),
      afterText);
  painter.restore();
}

void PreviewWidget::paintFaceBoxes(QPainter& painter, const QRectF& target) {
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setBrush(Qt::NoBrush);
  const QFontMetrics metrics(font());
  for (const PreviewFace& face : faces_) {
    const QRectF box(target.left() + face.box.x() * target.width(),
                     target.top() + face.box.y() * target.height(), face.box.width() * target.width(),
                     face.box.height() * target.height());
    const QColor colour = face.state == FaceState::Drifting ? kDriftingColour
                          : face.state == FaceState::Same   ? kSameColour
                                                            : kUnmeasuredColour;
    painter.setPen(QPen(QColor(0, 0, 0, 160), 4));
    painter.drawRect(box);
    painter.setPen(QPen(colour, 2));
    painter.drawRect(box);
    if (face.label.isEmpty()) continue;
    const QRectF label(box.left(), box.bottom() + 2, metrics.horizontalAdvance(face.label) + 8,
                       metrics.height() + 2);
    painter.fillRect(label, QColor(0, 0, 0, 170));
    painter.setPen(colour);
    painter.drawText(label, Qt::AlignCenter, face.label);
  }
  painter.restore();
}

void PreviewWidget::paintBadge(QPainter& painter) {
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing);
  QFont bold = font();
  bold.setBold(true);
  bold.setPointSizeF(bold.pointSizeF() * 1.25);
  painter.setFont(bold);
  const QFontMetrics metrics(bold);
  const QRectF box(12, 12, metrics.horizontalAdvance(badge_) + 24, metrics.height() + 12);
  painter.setPen(Qt::NoPen);
  painter.setBrush(QColor(0, 0, 0, 190));
  painter.drawRoundedRect(box, 8, 8);
  painter.setPen(badgeGood_ ? kSameColour : kDriftingColour);
  painter.drawText(box, Qt::AlignCenter, badge_);
  painter.restore();
}

void PreviewWidget::setBadge(const QString& text, bool good) {
  if (text == badge_ && good == badgeGood_) return;
  badge_ = text;
  badgeGood_ = good;
  update();
}

void PreviewWidget::setFaces(const QList<PreviewFace>& faces) {
  faces_ = faces;
  update();
}

void PreviewWidget::setShowFaceBoxes(bool on) {
  if (on == showFaceBoxes_) return;
  showFaceBoxes_ = on;
  update();
}

void PreviewWidget::resizeEvent(QResizeEvent*) {
  if (fitting_) zoom_ = fitZoom();
}

void PreviewWidget::wheelEvent(QWheelEvent* event) {
  if (displaySize().isEmpty()) return;
  const double steps = event->angleDelta().y() / 120.0;
  if (steps == 0.0) return;
  zoomAround(zoom_ * std::pow(kZoomStep, steps), event->position());
  event->accept();
}

void PreviewWidget::mousePressEvent(QMouseEvent* event) {
  if (event->button() != Qt::LeftButton) return;
  dragStart_ = event->position();
  offsetStart_ = offset_;
  drag_ = nearSplit(event->position()) ? Drag::Split : Drag::Pan;
  if (drag_ == Drag::Pan) setCursor(Qt::ClosedHandCursor);
}

void PreviewWidget::mouseMoveEvent(QMouseEvent* event) {
  switch (drag_) {
    case Drag::Split: {
      const QRectF r = imageRect();
      if (r.width() > 0) setSplitPosition((event->position().x() - r.left()) / r.width());
      break;
    }
    case Drag::Pan:
      offset_ = offsetStart_ + (event->position() - dragStart_);
      fitting_ = false;
      update();
      break;
    case Drag::None:
      setCursor(nearSplit(event->position()) ? Qt::SplitHCursor : Qt::ArrowCursor);
      break;
  }
}

void PreviewWidget::mouseReleaseEvent(QMouseEvent*) {
  drag_ = Drag::None;
  unsetCursor();
}

void PreviewWidget::mouseDoubleClickEvent(QMouseEvent*) {
  // Double click toggles between fitting and pixel-exact, as image viewers do.
  if (fitting_)
    actualSize();
  else
    fitToWindow();
}

}  // namespace impasto
