#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <filesystem>
#include <memory>

#include "core/library/model_library.h"
#include "core/models/model.h"
#include "ui/model_choice.h"

namespace impasto {

// What the window offers in its model picker: the model library's models
// (downloaded or not) and model files the user opened directly. Ids are
// library names, or "file:" followed by a path.
class ModelCatalog {
 public:
  // cacheDir empty: the library's default (IMPASTO_MODEL_DIR honoured).
  explicit ModelCatalog(std::filesystem::path cacheDir = {});

  const ModelLibrary& library() const { return *library_; }

  QList<ModelChoice> choices() const;
  bool anyUsable() const;
  // A usable model to start with: the preferred id if usable, else the first installed one.
  QString defaultChoice(const QString& preferred) const;

  // "--model NAME|FILE": an existing file becomes a file id (and is remembered);
  // anything else is taken as a library name.
  QString idForArgument(const QString& nameOrPath);
  void addModelFile(const QString& path);

  // The weights file of an id; throws Error(Model) with what to do when it is
  // not installed.
  std::filesystem::path weightsPath(const QString& id) const;
  // Loads the model: slow for big models, call it off the GUI thread.
  ModelPtr load(const QString& id, Pooling pooling) const;

  static bool isFileId(const QString& id) { return id.startsWith(QLatin1String("file:")); }
  static QString fileId(const QString& path);
  // The inverse of idForArgument: what --model and presets name.
  static QString argumentFor(const QString& id) { return isFileId(id) ? id.mid(5) : id; }

 private:
  std::unique_ptr<ModelLibrary> library_;
  QStringList files_;  // model files the user opened, newest first
};

// "installed", "not downloaded (548.1 MB)", "partly downloaded (12 of 548 MB)"
QString installStateText(const ModelStatus& status);

}  // namespace impasto
