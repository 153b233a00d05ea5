#include "ui/model_manager_dialog.h"

#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <memory>

#include "core/library/model_library.h"
#include "core/util/error.h"
#include "ui/background_task.h"
#include "ui/file_dialogs.h"
#include "ui/model_catalog.h"

namespace impasto {

namespace {
enum Column { kName, kTitle, kSize, kState };
}

ModelManagerDialog::ModelManagerDialog(const ModelLibrary& library, QWidget* parent)
    : QDialog(parent),
      library_(library),
      table_(new QTableWidget(0, 4, this)),
      details_(new QLabel(this)),
      progress_(new QProgressBar(this)),
      status_(new QLabel(this)),
      download_(new QPushButton(tr("&Download"), this)),
      cancel_(new QPushButton(tr("&Cancel download"), this)),
      import_(new QPushButton(tr("&Import file…"), this)),
      task_(new BackgroundTask(this)) {
  setWindowTitle(tr("Models"));
  resize(820, 420);
  table_->setHorizontalHeaderLabels({tr("Name"), tr("Description"), tr("Download"), tr("State")});
  table_->verticalHeader()->hide();
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setSectionResizeMode(kTitle, QHeaderView::Stretch);
  for (int c : {kName, kSize, kState})
    table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  details_->setWordWrap(true);
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  progress_->setRange(0, 1000);
  progress_->hide();
  auto* openFolder = new QPushButton(tr("Open folder"), this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(download_);
  buttons->addWidget(cancel_);
  buttons->addWidget(import_);
  buttons->addStretch(1);
  buttons->addWidget(openFolder);
  auto* close = new QDialogButtonBox(QDialogButtonBox::Close, this);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_, 1);
  layout->addWidget(details_);
  layout->addLayout(buttons);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(close);
  connect(close, &QDialogButtonBox::rejected, this, &ModelManagerDialog::reject);
  connect(download_, &QPushButton::clicked, this, [this] { download(selectedName()); });
  connect(cancel_, &QPushButton::clicked, this, &ModelManagerDialog::cancel);
  connect(import_, &QPushButton::clicked, this, &ModelManagerDialog::chooseImportFile);
  connect(openFolder, &QPushButton::clicked, this, [this] {
    QDesktopServices::openUrl(QUrl::fromLocalFile(QString::fromStdString(library_.cacheDir().string())));
  });
  connect(table_, &QTableWidget::itemSelectionChanged, this, &ModelManagerDialog::updateButtons);
  refresh();
}

ModelManagerDialog::~ModelManagerDialog() {
  // The download keeps its .part and resumes next time.
  cancelFlag_ = true;
  delete task_;  // joins the worker, which reads library_ and cancelFlag_
}

bool ModelManagerDialog::isBusy() const { return task_->isBusy(); }

void ModelManagerDialog::reject() {
  if (isBusy()) {
    // Closing during a download stops it rather than leaving it running unseen.
    cancel();
  }
  QDialog::reject();
}

void ModelManagerDialog::refresh() {
  const QString selected = selectedName();
  std::vector<ModelStatus> models;
  try {
    models = library_.list();
  } catch (const std::exception& e) {
    status_->setText(QString::fromStdString(e.what()));
  }
  table_->setRowCount(int(models.size()));
  for (int row = 0; row < int(models.size()); ++row) {
    const ModelStatus& m = models[std::size_t(row)];
    auto set = [&](int column, const QString& text) {
      auto* item = new QTableWidgetItem(text);
      item->setToolTip(text);
      table_->setItem(row, column, item);
    };
    set(kName, QString::fromStdString(m.name));
    set(kTitle, QString::fromStdString(m.title) + (m.builtIn ? QString() : tr(" (imported)")));
    set(kSize, m.downloadSize > 0 ? byteText(double(m.downloadSize)) : QStringLiteral("–"));
    set(kState, installStateText(m));
  }
  if (table_->rowCount() == 0)
    details_->setText(
        tr("No models known. Import a model file (.onnx, .pth, TensorFlow.js model.json, .caffemodel)."));
  selectModel(selected.isEmpty() && table_->rowCount() > 0 ? table_->item(0, kName)->text() : selected);
  updateButtons();
}

void ModelManagerDialog::selectModel(const QString& name) {
  for (int row = 0; row < table_->rowCount(); ++row)
    if (table_->item(row, kName)->text() == name) table_->selectRow(row);
}

QString ModelManagerDialog::selectedName() const {
  const auto rows = table_->selectionModel() ? table_->selectionModel()->selectedRows() : QModelIndexList();
  if (rows.isEmpty()) return {};
  return table_->item(rows.first().row(), kName)->text();
}

QString ModelManagerDialog::statusText() const { return status_->text(); }

QString ModelManagerDialog::detailsText() const { return details_->text(); }

void ModelManagerDialog::updateButtons() {
  const bool busy = isBusy();
  const QString name = selectedName();
  const RegistryEntry* entry = name.isEmpty() ? nullptr : library_.find(name.toStdString());
  const bool installed = !name.isEmpty() && library_.isInstalled(name.toStdString());
  download_->setEnabled(!busy && entry && !installed);
  download_->setText(installed ? tr("Installed") : tr("&Download"));
  cancel_->setEnabled(busy);
  import_->setEnabled(!busy);
  if (entry) {
    details_->setText(tr("%1\nLicence: %2\nFolder: %3\n%4")
                          .arg(QString::fromStdString(entry->manifest.title),
                               QString::fromStdString(
                                   entry->manifest.license.empty() ? "unknown" : entry->manifest.license),
                               QString::fromStdString(library_.modelDirectory(entry->manifest.name).string()),
                               QString::fromStdString(verificationSummary(entry->manifest))));
  } else if (!name.isEmpty()) {
    details_->setText(tr("Imported model, in %1")
                          .arg(QString::fromStdString(library_.modelDirectory(name.toStdString()).string())));
  }
}

bool ModelManagerDialog::download(const QString& name) {
  if (isBusy() || name.isEmpty() || !library_.find(name.toStdString())) return false;
  cancelFlag_ = false;
  busyName_ = name;
  progress_->setValue(0);
  progress_->show();
  status_->setText(tr("Downloading %1…").arg(name));
  auto outcome = std::make_shared<Outcome>();
  outcome->name = name;
  task_->run(
      [this, name, outcome] {
        try {
          const auto path = library_.install(
              name.toStdString(),
              [this](std::int64_t done, std::int64_t total, double rate, double eta) {
                QMetaObject::invokeMethod(
                    this, [this, done, total, rate, eta] { onProgress(done, total, rate, eta); },
                    Qt::QueuedConnection);
              },
              &cancelFlag_);
          outcome->ok = true;
          outcome->message = tr("%1 is installed (%2).").arg(name, QString::fromStdString(path.string()));
        } catch (const Error& e) {
          outcome->message = e.kind() == ErrorKind::Cancelled
                                 ? tr("Download of %1 cancelled. The part already downloaded is kept: "
                                      "Download resumes where it stopped.")
                                       .arg(name)
                                 : QString::fromStdString(e.what());
        } catch (const std::exception& e) {
          outcome->message = tr("Download of %1 failed: %2").arg(name, QString::fromStdString(e.what()));
        }
      },
      [this, outcome] { onDone(*outcome); });
  updateButtons();
  return true;
}

bool ModelManagerDialog::importFile(const QString& path) {
  if (isBusy() || path.isEmpty()) return false;
  busyName_.clear();
  progress_->setRange(0, 0);  // busy indicator: validation runs the network once
  progress_->show();
  status_->setText(tr("Importing and checking %1…").arg(QFileInfo(path).fileName()));
  auto outcome = std::make_shared<Outcome>();
  task_->run(
      [this, path, outcome] {
        try {
          const auto weights = library_.importFile(path.toStdString());
          outcome->ok = true;
          outcome->name = QString::fromStdString(weights.parent_path().filename().string());
          outcome->message = tr("Imported %1 as model '%2'.").arg(QFileInfo(path).fileName(), outcome->name);
        } catch (const std::exception& e) {
          outcome->message = QString::fromStdString(e.what());
        }
      },
      [this, outcome] { onDone(*outcome); });
  updateButtons();
  return true;
}

void ModelManagerDialog::chooseImportFile() {
  const QString path = fileDialogs::modelFile(this, tr("Import a model"));
  if (!path.isEmpty()) importFile(path);
}

void ModelManagerDialog::cancel() {
  if (!isBusy()) return;
  cancelFlag_ = true;
  status_->setText(tr("Cancelling…"));
}

void ModelManagerDialog::onProgress(qint64 done, qint64 total, double rate, double eta) {
  if (total > 0) {
    progress_->setRange(0, 1000);
    progress_->setValue(int(1000.0 * double(done) / double(total)));
  } else {
    progress_->setRange(0, 0);
  }
  QString text = tr("Downloading %1: %2").arg(busyName_, byteText(double(done)));
  if (total > 0) text += tr(" of %1").arg(byteText(double(total)));
  if (rate > 0) text += tr(", %1/s").arg(byteText(rate));
  if (eta >= 0) text += tr(", %1 left").arg(durationText(eta));
  status_->setText(text);
}

void ModelManagerDialog::onDone(const Outcome& outcome) {
  progress_->setRange(0, 1000);
  progress_->setVisible(false);
  status_->setText(outcome.message);
  refresh();
  if (outcome.ok) {
    selectModel(outcome.name);
    emit modelInstalled(outcome.name);
  }
  emit operationFinished(outcome.ok, outcome.message);
}

}  // namespace impasto
