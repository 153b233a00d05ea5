// The GUI tests' main: a QApplication on the offscreen platform, with settings
// and the model library redirected into a scratch folder so tests neither read
// nor change the user's.
#include <QApplication>
#include <QDir>
#include <QSettings>
#include <QStandardPaths>
#include <gtest/gtest.h>

#include "tests/ui/ui_test_support.h"

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", qgetenv("QT_QPA_PLATFORM").isEmpty() ? QByteArray("offscreen") : qgetenv("QT_QPA_PLATFORM"));
  const QString scratch = impasto::uitest::scratchDir();
  QDir(scratch).removeRecursively();
  QDir().mkpath(scratch);
  qputenv("IMPASTO_MODEL_DIR", QDir(scratch).filePath(QStringLiteral("models")).toUtf8());
  // Downloads in tests must fail fast and never reach the internet: port 9 refuses.
  qputenv("IMPASTO_MODEL_MIRROR", QByteArray("http://127.0.0.1:9"));
  // The final render's checkpoints (ui/final_render.h).
  qunsetenv("IMPASTO_FACE_MODELS");  // the portrait guard's tests set it where they want the face models
  qputenv("IMPASTO_DATA_DIR", QDir(scratch).filePath(QStringLiteral("data")).toUtf8());
  qputenv("XDG_CONFIG_HOME", QDir(scratch).filePath(QStringLiteral("config")).toUtf8());
  QStandardPaths::setTestModeEnabled(true);
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("ImpastoTests"));
  QApplication::setApplicationName(QStringLiteral("ImpastoUiTests"));
  QSettings::setDefaultFormat(QSettings::IniFormat);
  QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, QDir(scratch).filePath(QStringLiteral("settings")));
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  QDir(scratch).removeRecursively();
  return result;
}
