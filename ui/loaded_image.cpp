#include "ui/loaded_image.h"

#include <QFileInfo>

#include "core/util/error.h"
#include "core/io/image_io.h"
#include "ui/image_convert.h"

namespace impasto {

namespace {

QImage makeThumbnail(const cv::Mat& rgb) {
  return toQImage(rgb).scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
}

}  // namespace

LoadedImage loadImageFile(const QString& path) {
  const QFileInfo info(path);
  if (!info.exists()) throw Error(ErrorKind::Input, "'" + path.toStdString() + "' does not exist.");
  if (info.isDir()) throw Error(ErrorKind::Input, "'" + path.toStdString() + "' is a folder; drop an image file.");
  LoadedImage image;
  image.source = info.absoluteFilePath();
  image.name = info.fileName();
  image.rgb = loadImage(info.absoluteFilePath().toStdString());
  image.thumbnail = makeThumbnail(image.rgb);
  return image;
}

LoadedImage loadImageData(const QImage& data, const QString& name) {
  if (data.isNull() || data.width() <= 0 || data.height() <= 0)
    throw Error(ErrorKind::Input, "The clipboard or drop held no image data.");
  if (std::int64_t(data.width()) * data.height() > kMaxImagePixels)
    throw Error(ErrorKind::Input, "The pasted image is too large (" + std::to_string(data.width()) + " x " +
                                      std::to_string(data.height()) + "); scale it down first.");
  LoadedImage image;
  image.name = name;
  image.rgb = toRgb32f(data);
  image.thumbnail = makeThumbnail(image.rgb);
  return image;
}

QString sizeText(const QSize& size) {
  return QStringLiteral("%1 × %2").arg(size.width()).arg(size.height());
}

}  // namespace impasto
