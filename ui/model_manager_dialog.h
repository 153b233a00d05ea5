#pragma once

#include <QDialog>
#include <atomic>

#include "ui/rate_meter.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace impasto {

class BackgroundTask;
class ModelLibrary;

// Lists the library's models with their size and state; downloads one with
// progress, rate, time left and Cancel (a cancelled download resumes later);
// imports a model file the user has. Downloads and imports run on a worker
// thread; closing the dialog cancels and waits.
class ModelManagerDialog : public QDialog {
  Q_OBJECT

 public:
  explicit ModelManagerDialog(const ModelLibrary& library, QWidget* parent = nullptr);
  ~ModelManagerDialog() override;

  void refresh();
  void selectModel(const QString& name);
  bool isBusy() const;
  QString statusText() const;
  QString detailsText() const;  // about the selected model

  // Starts downloading the model; false when busy or unknown.
  bool download(const QString& name);
  bool importFile(const QString& path);
  void cancel();

 signals:
  // A model was installed or imported (its library name).
  void modelInstalled(const QString& name);
  void operationFinished(bool ok, const QString& message);

 protected:
  void reject() override;

 private:
  QString selectedName() const;
  void updateButtons();
  void onProgress(qint64 done, qint64 total, double rate, double eta);
  struct Outcome {
    bool ok = false;
    QString name;  // the model installed or imported
    QString message;
  };
  void onDone(const Outcome& outcome);
  void chooseImportFile();

  const ModelLibrary& library_;
  QTableWidget* table_;
  QLabel* details_;
  QProgressBar* progress_;
  QLabel* status_;
  QPushButton* download_;
  QPushButton* cancel_;
  QPushButton* import_;
  BackgroundTask* task_;
  std::atomic<bool> cancelFlag_{false};
  QString busyName_;
};

}  // namespace impasto
