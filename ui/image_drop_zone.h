#pragma once

#include <QFrame>
#include <QImage>
#include <QStringList>

class QLabel;
class QMimeData;

namespace impasto {

// A target for images: files dragged from a file manager, image data dragged
// from a browser, the clipboard (Ctrl+V while focused) or a click that asks
// for a file dialog. It shows a thumbnail and a caption once it holds an image.
// It decodes nothing itself: the window loads what it reports, so errors
// appear in one place.
class ImageDropZone : public QFrame {
  Q_OBJECT

 public:
  explicit ImageDropZone(const QString& placeholder, QWidget* parent = nullptr);

  void setPreview(const QImage& thumbnail, const QString& caption);
  void clearPreview();
  bool hasPreview() const { return hasPreview_; }
  QString caption() const;

  // Reads local files or image data from a drop or the clipboard; returns
  // false when there is neither.
  bool accept(const QMimeData* data);
  static bool canAccept(const QMimeData* data);

 signals:
  void filesDropped(const QStringList& paths);
  void imageDropped(const QImage& image);
  void browseRequested();

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragLeaveEvent(QDragLeaveEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  void setHighlighted(bool on);

  QString placeholder_;
  QLabel* image_;
  QLabel* caption_;
  bool hasPreview_ = false;
};

}  // namespace impasto
