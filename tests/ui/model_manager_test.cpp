// The model manager against a library in a scratch folder: it lists the
// built-in models, reports a download that cannot connect clearly, and
// imports a model file.
#include <gtest/gtest.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>

#include "core/library/model_library.h"
#include "core/util/error.h"
#include "tests/support/test_paths.h"
#include "tests/ui/ui_test_support.h"
#include "ui/model_catalog.h"
#include "ui/model_manager_dialog.h"

namespace impasto {
namespace {

std::filesystem::path freshLibraryDir(const char* name) {
  const QString dir = QDir(uitest::scratchDir()).filePath(QString::fromLatin1(name));
  QDir(dir).removeRecursively();
  return dir.toStdString();
}

TEST(ModelCatalogTest, ListsTheRegistryAsNotDownloaded) {
  ModelCatalog catalog(freshLibraryDir("catalog"));
  const auto choices = catalog.choices();
  ASSERT_FALSE(choices.isEmpty());
  bool sawDarknet = false;
  for (const ModelChoice& c : choices) {
    EXPECT_FALSE(c.usable) << c.id.toStdString();
    EXPECT_TRUE(c.state.startsWith(QStringLiteral("not downloaded"))) << c.state.toStdString();
    sawDarknet = sawDarknet || c.id == QStringLiteral("darknet-reference");
  }
  EXPECT_TRUE(sawDarknet);
  EXPECT_FALSE(catalog.anyUsable());
  EXPECT_THROW(catalog.weightsPath(QStringLiteral("vgg19")), Error);
  EXPECT_THROW(catalog.weightsPath(QString()), Error);
}

TEST(ModelManagerDialogTest, AnOfflineDownloadFailsWithAMessage) {
  const ModelLibrary library(freshLibraryDir("offline"));
  ModelManagerDialog dialog(library);
  QSignalSpy done(&dialog, &ModelManagerDialog::operationFinished);
  ASSERT_TRUE(dialog.download(QStringLiteral("darknet-reference")));
  EXPECT_TRUE(dialog.isBusy());
  EXPECT_FALSE(dialog.download(QStringLiteral("vgg19"))) << "one download at a time";
  ASSERT_TRUE(uitest::waitUntil([&] { return done.count() == 1; }, 60000));
  EXPECT_FALSE(done.first().at(0).toBool());
  const QString message = done.first().at(1).toString();
  EXPECT_FALSE(message.isEmpty());
  EXPECT_EQ(dialog.statusText(), message);
  EXPECT_FALSE(library.isInstalled("darknet-reference"));
}

TEST(ModelManagerDialogTest, DetailsSayWhatADownloadIsCheckedAgainst) {
  const ModelLibrary library(freshLibraryDir("details"));
  ModelManagerDialog dialog(library);
  dialog.selectModel(QStringLiteral("vgg19"));
  EXPECT_TRUE(dialog.detailsText().contains(QStringLiteral("only the SHA-256 prefix d01eb7cb")))
      << dialog.detailsText().toStdString();
  dialog.selectModel(QStringLiteral("vgg19-torchvision"));
  EXPECT_TRUE(dialog.detailsText().contains(QStringLiteral("the exact size and the full SHA-256")))
      << dialog.detailsText().toStdString();
}

TEST(ModelManagerDialogTest, ImportsAModelFile) {
  const QString onnx = QString::fromStdString(
      (test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx").string());
  if (!QFile::exists(onnx)) GTEST_SKIP() << "needs the shared darknet model";
  // Under a name of its own: the library keeps the built-in name for the registry's files.
  const QString copy = QDir(uitest::scratchDir()).filePath(QStringLiteral("my-darknet.onnx"));
  QFile::remove(copy);
  ASSERT_TRUE(QFile::copy(onnx, copy));
  const ModelLibrary library(freshLibraryDir("import"));
  ModelManagerDialog dialog(library);
  QSignalSpy installed(&dialog, &ModelManagerDialog::modelInstalled);
  QSignalSpy done(&dialog, &ModelManagerDialog::operationFinished);
  ASSERT_TRUE(dialog.importFile(copy));
  ASSERT_TRUE(uitest::waitUntil([&] { return done.count() == 1; }, 120000));
  EXPECT_TRUE(done.first().at(0).toBool()) << done.first().at(1).toString().toStdString();
  ASSERT_EQ(installed.count(), 1);
  EXPECT_EQ(installed.first().at(0).toString(), QStringLiteral("my-darknet"));
  EXPECT_TRUE(library.isInstalled("my-darknet"));
}

TEST(ModelManagerDialogTest, ClosingDuringADownloadCancelsAndWaits) {
  const ModelLibrary library(freshLibraryDir("close"));
  auto dialog = std::make_unique<ModelManagerDialog>(library);
  ASSERT_TRUE(dialog->download(QStringLiteral("darknet-reference")));
  QElapsedTimer timer;
  timer.start();
  dialog.reset();  // cancels and joins: must not hang or crash
  EXPECT_LT(timer.elapsed(), 5000);
  EXPECT_FALSE(library.isInstalled("darknet-reference"));
}

}  // namespace
}  // namespace impasto
