#pragma once

#include <QString>
#include <QStringList>

class QWidget;

namespace impasto {

// The studio's file choosers. Each starts in the folder the user last used for
// that kind of file and remembers the new one; an empty result means cancelled.
namespace fileDialogs {

QString contentImage(QWidget* parent);
QStringList styleImages(QWidget* parent);
// The image file loaded or dropped last sets where the choosers open next.
void rememberImageFolder(const QString& imagePath);

struct ExportTarget {
  QString path;            // with an extension from the chosen type when the user typed none
  bool confirmed = false;  // the dialog has already asked about replacing it
};
// baseName: the content's name, or empty. Remembers the chosen file type.
ExportTarget exportImage(QWidget* parent, const QString& baseName);
void rememberExportFolder(const QString& exportedPath);

// A .json name (the extension added when missing).
QString presetToSave(QWidget* parent);
QString presetToLoad(QWidget* parent);
// A model file to open or import (.onnx, .pth, model.json, .caffemodel).
QString modelFile(QWidget* parent, const QString& title);

}  // namespace fileDialogs
}  // namespace impasto
