#pragma once

#include <QObject>
#include <QString>

#include "core/models/model.h"

namespace impasto {

class BackgroundTask;
class ModelCatalog;

// Loads the catalog's models on a worker thread (a VGG-19 takes seconds).
// When the user picks several models in a row, only the last one counts:
// results for an id that is no longer wanted are dropped.
class ModelLoader : public QObject {
  Q_OBJECT

 public:
  // catalog must outlive the loader.
  explicit ModelLoader(const ModelCatalog& catalog, QObject* parent = nullptr);
  // Waits for the load in progress.
  ~ModelLoader() override;

  void load(const QString& id);
  bool isBusy() const;
  // The id asked for last, until its load ends; empty when none is wanted.
  const QString& loadingId() const { return loadingId_; }

 signals:
  void loaded(const QString& id, impasto::ModelPtr model);
  void failed(const QString& id, const QString& message);

 private:
  void onDone(const QString& id, ModelPtr model, const QString& error);

  const ModelCatalog& catalog_;
  BackgroundTask* task_;
  QString loadingId_;
};

}  // namespace impasto
