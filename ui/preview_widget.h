#pragma once

#include <QImage>
#include <QPixmap>
#include <QPointF>
#include <QWidget>

namespace impasto {

// The central preview of G: zoom (wheel, around the cursor), pan (drag), fit
// and 1:1, and a before/after split whose divider the user drags to compare
// G with the content image.
class PreviewWidget : public QWidget {
  Q_OBJECT

 public:
  explicit PreviewWidget(QWidget* parent = nullptr);

  void setImage(const QImage& image);
  void setBeforeImage(const QImage& image);
  void clear();
  const QImage& image() const { return image_; }
  void setPlaceholderText(const QString& text);

  double zoom() const { return zoom_; }
  bool isFitting() const { return fitting_; }
  bool isSplit() const { return split_; }
  double splitPosition() const { return splitPosition_; }
  // The image's rectangle in widget coordinates.
  QRectF imageRect() const;

  QSize sizeHint() const override { return {640, 480}; }

 public slots:
  void fitToWindow();
  void actualSize();
  void zoomIn();
  void zoomOut();
  void setZoom(double zoom);
  void setSplit(bool on);
  void setSplitPosition(double fraction);

 signals:
  void zoomChanged(double zoom);
  void splitChanged(bool on);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;

 private:
  enum class Drag { None, Pan, Split };
  QSize displaySize() const;
  double fitZoom() const;
  void zoomAround(double zoom, QPointF anchor);
  bool nearSplit(QPointF pos) const;

  QImage image_;
  QPixmap pixmap_;
  QPixmap before_;
  QString placeholder_;
  double zoom_ = 1.0;
  bool fitting_ = true;
  QPointF offset_;  // image centre relative to the widget centre
  bool split_ = false;
  double splitPosition_ = 0.5;
  Drag drag_ = Drag::None;
  QPointF dragStart_;
  QPointF offsetStart_;
};

}  // namespace impasto
