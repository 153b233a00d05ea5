#include "ui/preset.h"

#include <QFile>
#include <QFileInfo>

#include "core/util/error.h"

namespace impasto {

void loadPresetFile(const QString& path, Preset& into) {
  if (!path.startsWith(QLatin1String(":/"))) {
    loadPresetFile(std::filesystem::path(path.toStdString()), into);
    return;
  }
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    throw Error(ErrorKind::Input,
                QStringLiteral("Cannot read the preset %1: %2").arg(path, file.errorString()).toStdString());
  applyPresetJson(file.readAll().toStdString(), into, QFileInfo(path).fileName().toStdString());
}

void savePresetFile(const Preset& preset, const QString& path) {
  savePresetFile(preset, std::filesystem::path(path.toStdString()));
}

}  // namespace impasto
