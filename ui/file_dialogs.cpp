#include "ui/file_dialogs.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QSettings>

namespace impasto::fileDialogs {

namespace {

const QString kImageDir = QStringLiteral("dirs/images");
const QString kExportDir = QStringLiteral("dirs/export");
const QString kPresetDir = QStringLiteral("dirs/presets");

QString folder(const QString& key, const QString& fallback = QString()) {
  return QSettings().value(key, fallback).toString();
}

void remember(const QString& key, const QString& path) {
  if (!path.isEmpty()) QSettings().setValue(key, QFileInfo(path).absolutePath());
}

QString imageFilter() {
  return QObject::tr("Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp *.bmp);;All files (*)");
}

}  // namespace

QString contentImage(QWidget* parent) {
  return QFileDialog::getOpenFileName(parent, QObject::tr("Open content image"), folder(kImageDir),
                                      imageFilter());
}

QStringList styleImages(QWidget* parent) {
  return QFileDialog::getOpenFileNames(parent, QObject::tr("Add style images"), folder(kImageDir),
                                       imageFilter());
}

void rememberImageFolder(const QString& imagePath) { remember(kImageDir, imagePath); }

ExportTarget exportImage(QWidget* parent, const QString& baseName) {
  QSettings settings;
  const QString dir = folder(kExportDir, QDir::homePath());
  const QString base =
      baseName.isEmpty() ? QStringLiteral("impasto") : QFileInfo(baseName).completeBaseName();
  QString filter = settings.value(QStringLiteral("export/filter")).toString();
  // QFileDialog asks before replacing a file, so what comes back is confirmed.
  const QString path = QFileDialog::getSaveFileName(
      parent, QObject::tr("Export image"), QDir(dir).filePath(base + QStringLiteral("-impasto.png")),
      QObject::tr("PNG, settings embedded (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff)"), &filter);
  if (path.isEmpty()) return {};
  settings.setValue(QStringLiteral("export/filter"), filter);
  ExportTarget target{path, true};
  if (QFileInfo(path).suffix().isEmpty()) {
    target.path += filter.startsWith(QLatin1String("JPEG"))   ? QStringLiteral(".jpg")
                   : filter.startsWith(QLatin1String("TIFF")) ? QStringLiteral(".tif")
                                                              : QStringLiteral(".png");
    target.confirmed = false;  // the dialog asked about another name
  }
  return target;
}

void rememberExportFolder(const QString& exportedPath) { remember(kExportDir, exportedPath); }

QString presetToSave(QWidget* parent) {
  const QString path = QFileDialog::getSaveFileName(
      parent, QObject::tr("Save preset"),
      QDir(folder(kPresetDir, QDir::homePath())).filePath(QStringLiteral("preset.json")),
      QObject::tr("Impasto presets (*.json)"));
  remember(kPresetDir, path);
  if (path.isEmpty() || path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive)) return path;
  return path + QStringLiteral(".json");
}

QString presetToLoad(QWidget* parent) {
  const QString path =
      QFileDialog::getOpenFileName(parent, QObject::tr("Load preset"), folder(kPresetDir, QDir::homePath()),
                                   QObject::tr("Presets and exported PNGs (*.json *.png);;All files (*)"));
  remember(kPresetDir, path);
  return path;
}

QString modelFile(QWidget* parent, const QString& title) {
  return QFileDialog::getOpenFileName(
      parent, title, QString(), QObject::tr("Model files (*.onnx *.pth *.json *.caffemodel);;All files (*)"));
}

}  // namespace impasto::fileDialogs
