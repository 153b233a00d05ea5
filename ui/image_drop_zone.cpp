#include "ui/image_drop_zone.h"

#include <QApplication>
#include <QClipboard>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QKeyEvent>
#include <QLabel>
#include <QMimeData>
#include <QUrl>
#include <QVBoxLayout>

namespace impasto {

ImageDropZone::ImageDropZone(const QString& placeholder, QWidget* parent)
    : QFrame(parent), placeholder_(placeholder), image_(new QLabel(this)), caption_(new QLabel(this)) {
  setAcceptDrops(true);
  setFocusPolicy(Qt::StrongFocus);
  setFrameShape(QFrame::StyledPanel);
  setFrameShadow(QFrame::Sunken);
  setCursor(Qt::PointingHandCursor);
  setMinimumHeight(120);
  setToolTip(tr("Drop an image here, paste one with Ctrl+V, or click to choose a file"));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  image_->setAlignment(Qt::AlignCenter);
  image_->setWordWrap(true);
  image_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Expanding);
  caption_->setAlignment(Qt::AlignCenter);
  caption_->setTextInteractionFlags(Qt::NoTextInteraction);
  layout->addWidget(image_, 1);
  layout->addWidget(caption_);
  clearPreview();
}

void ImageDropZone::setPreview(const QImage& thumbnail, const QString& caption) {
  image_->setPixmap(QPixmap::fromImage(thumbnail));
  caption_->setText(caption);
  caption_->show();
  hasPreview_ = true;
}

void ImageDropZone::clearPreview() {
  image_->setPixmap({});
  image_->setText(placeholder_);
  caption_->clear();
  caption_->hide();
  hasPreview_ = false;
}

QString ImageDropZone::caption() const { return caption_->text(); }

bool ImageDropZone::canAccept(const QMimeData* data) {
  if (!data) return false;
  if (data->hasImage()) return true;
  if (data->hasUrls()) {
    for (const QUrl& url : data->urls())
      if (url.isLocalFile()) return true;
  }
  return false;
}

bool ImageDropZone::accept(const QMimeData* data) {
  if (!data) return false;
  QStringList paths;
  if (data->hasUrls()) {
    for (const QUrl& url : data->urls())
      if (url.isLocalFile()) paths << url.toLocalFile();
  }
  // A file manager's drop carries both a URL and, sometimes, a rendered
  // preview; the file is the real thing.
  if (!paths.isEmpty()) {
    emit filesDropped(paths);
    return true;
  }
  if (data->hasImage()) {
    emit imageDropped(qvariant_cast<QImage>(data->imageData()));
    return true;
  }
  return false;
}

void ImageDropZone::dragEnterEvent(QDragEnterEvent* event) {
  if (canAccept(event->mimeData())) {
    event->acceptProposedAction();
    setHighlighted(true);
  }
}

void ImageDropZone::dragLeaveEvent(QDragLeaveEvent* event) {
  setHighlighted(false);
  QFrame::dragLeaveEvent(event);
}

void ImageDropZone::dropEvent(QDropEvent* event) {
  setHighlighted(false);
  if (accept(event->mimeData())) event->acceptProposedAction();
}

void ImageDropZone::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton && rect().contains(event->position().toPoint())) emit browseRequested();
  QFrame::mouseReleaseEvent(event);
}

void ImageDropZone::keyPressEvent(QKeyEvent* event) {
  if (event->matches(QKeySequence::Paste)) {
    accept(QApplication::clipboard()->mimeData());
    event->accept();
    return;
  }
  if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter || event->key() == Qt::Key_Space) {
    emit browseRequested();
    event->accept();
    return;
  }
  QFrame::keyPressEvent(event);
}

void ImageDropZone::setHighlighted(bool on) {
  setFrameShadow(on ? QFrame::Raised : QFrame::Sunken);
  setLineWidth(on ? 3 : 1);
  setBackgroundRole(on ? QPalette::Highlight : QPalette::Window);
  setAutoFillBackground(on);
}

}  // namespace impasto
