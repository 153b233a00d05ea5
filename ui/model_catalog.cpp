#include "ui/model_catalog.h"

#include <QFileInfo>
#include <QSettings>

#include "core/util/error.h"
#include "ui/rate_meter.h"

namespace impasto {

namespace {
const char* kFilesKey = "models/files";
constexpr int kMaxFiles = 8;
}  // namespace

ModelCatalog::ModelCatalog(std::filesystem::path cacheDir)
    : library_(std::make_unique<ModelLibrary>(std::move(cacheDir))),
      files_(QSettings().value(QLatin1String(kFilesKey)).toStringList()) {}

QString ModelCatalog::fileId(const QString& path) {
  return QStringLiteral("file:") + QFileInfo(path).absoluteFilePath();
}

QString installStateText(const ModelStatus& status) {
  const QString size =
      status.downloadSize > 0
          ? (status.downloadSizeExact ? byteText(double(status.downloadSize))
                                      : QObject::tr("about %1").arg(byteText(double(status.downloadSize))))
          : QObject::tr("size unknown");
  switch (status.state) {
    case InstallState::Installed:
      return QObject::tr("installed");
    case InstallState::Partial:
      return QObject::tr("partly downloaded (%1 of %2)").arg(byteText(double(status.bytesPresent)), size);
    case InstallState::NotInstalled:
      break;
  }
  return QObject::tr("not downloaded (%1)").arg(size);
}

QList<ModelChoice> ModelCatalog::choices() const {
  QList<ModelChoice> result;
  for (const ModelStatus& status : library_->list()) {
    if (status.faceModel) continue;  // downloadable in the model manager, but no style network
    ModelChoice c;
    c.id = QString::fromStdString(status.name);
    c.title = QString::fromStdString(status.name);
    c.description = QString::fromStdString(status.title);
    c.state = installStateText(status);
    c.usable = status.state == InstallState::Installed;
    result.append(c);
  }
  for (const QString& path : files_) {
    const QFileInfo info(path);
    ModelChoice c;
    c.id = fileId(path);
    c.title = info.fileName();
    c.description = path;
    c.usable = info.isFile();
    c.state = c.usable ? QObject::tr("file %1").arg(path) : QObject::tr("missing file %1").arg(path);
    result.append(c);
  }
  return result;
}

bool ModelCatalog::anyUsable() const {
  for (const ModelChoice& c : choices())
    if (c.usable) return true;
  return false;
}

QString ModelCatalog::defaultChoice(const QString& preferred) const {
  const QList<ModelChoice> all = choices();
  for (const ModelChoice& c : all)
    if (c.id == preferred && c.usable) return c.id;
  for (const ModelChoice& c : all)
    if (c.usable) return c.id;
  return {};
}

void ModelCatalog::addModelFile(const QString& path) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  files_.removeAll(absolute);
  files_.prepend(absolute);
  while (files_.size() > kMaxFiles) files_.removeLast();
  QSettings().setValue(QLatin1String(kFilesKey), files_);
}

QString ModelCatalog::idForArgument(const QString& nameOrPath) {
  if (QFileInfo(nameOrPath).isFile()) {
    addModelFile(nameOrPath);
    return fileId(nameOrPath);
  }
  return nameOrPath;
}

std::filesystem::path ModelCatalog::weightsPath(const QString& id) const {
  if (id.isEmpty())
    throw Error(ErrorKind::Model,
                "No model chosen: pick one in the Model box, or open Models → Manage models… "
                "to download or import one.");
  if (isFileId(id)) {
    const QString path = id.mid(5);
    if (!QFileInfo(path).isFile())
      throw Error(ErrorKind::Model,
                  "The model file " + path.toStdString() + " is gone; choose another model.");
    return path.toStdString();
  }
  return library_->resolveModelArgument(id.toStdString());
}

ModelPtr ModelCatalog::load(const QString& id, Pooling pooling) const {
  return loadModelFile(weightsPath(id), pooling);
}

}  // namespace impasto
