#pragma once

#include <QColor>
#include <QImage>
#include <QList>
#include <QPixmap>
#include <QPointF>
#include <QRectF>
#include <QWidget>

class QPainter;

namespace impasto {

// A face of the content as the preview draws it: its box as fractions of
// the image (0-1), and what the portrait guard last said of it.
struct PreviewFace {
  QRectF box;
  enum class State { Unmeasured, Same, Drifting } state = State::Unmeasured;
  QString label;  // "d = 0.41", or empty
};

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

  // The portrait guard's badge in the top-left corner ("same person ✓ d =
  // 0.41", green; red when not good); an empty text hides it.
  void setBadge(const QString& text, bool good);
  const QString& badgeText() const { return badge_; }
  bool badgeGood() const { return badgeGood_; }
  // The content's faces, drawn over G (scaled to it) while showFaceBoxes.
  void setFaces(const QList<PreviewFace>& faces);
  const QList<PreviewFace>& faces() const { return faces_; }
  void setShowFaceBoxes(bool on);
  bool showsFaceBoxes() const { return showFaceBoxes_; }

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
  using FaceState = PreviewFace::State;
  static inline const QColor kSameColour{110, 230, 120};
  static inline const QColor kDriftingColour{255, 105, 95};
  static inline const QColor kUnmeasuredColour{255, 215, 90};
  void paintSplit(QPainter& painter, const QRectF& target);
  void paintFaceBoxes(QPainter& painter, const QRectF& target);
  void paintBadge(QPainter& painter);
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
  QString badge_;
  bool badgeGood_ = true;
  QList<PreviewFace> faces_;
  bool showFaceBoxes_ = false;
};

}  // namespace impasto
