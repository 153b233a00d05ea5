#include "ui/model_loader.h"

#include <memory>

#include "ui/background_task.h"
#include "ui/model_catalog.h"

namespace impasto {

ModelLoader::ModelLoader(const ModelCatalog& catalog, QObject* parent)
    : QObject(parent), catalog_(catalog), task_(new BackgroundTask(this)) {}

ModelLoader::~ModelLoader() {
  // The worker reads catalog_: join it now, not after our owner has gone.
  delete task_;
}

bool ModelLoader::isBusy() const { return task_->isBusy(); }

void ModelLoader::load(const QString& id) {
  loadingId_ = id;
  struct Outcome {
    ModelPtr model;
    QString error;
  };
  auto outcome = std::make_shared<Outcome>();
  const ModelCatalog* catalog = &catalog_;
  task_->run(
      [catalog, id, outcome] {
        try {
          // Pooling is applied per render (withPooling is cheap); load the model as trained.
          outcome->model = catalog->load(id, Pooling::AsTrained);
        } catch (const std::exception& e) {
          outcome->error = QString::fromStdString(e.what());
        }
      },
      [this, id, outcome] { onDone(id, outcome->model, outcome->error); });
}

void ModelLoader::onDone(const QString& id, ModelPtr model, const QString& error) {
  // The user picked another model while this one loaded: that one comes next.
  if (id != loadingId_) return;
  loadingId_.clear();
  if (!error.isEmpty() || !model) {
    emit failed(id, error.isEmpty() ? tr("The model could not be loaded.") : error);
    return;
  }
  emit loaded(id, std::move(model));
}

}  // namespace impasto
