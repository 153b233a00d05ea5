#include <QDir>
#include <QTest>
#include <gtest/gtest.h>
#include "ui/layer_viewer_dialog.h"
#include "ui/main_window.h"
#include "ui/preview_widget.h"
#include "ui/model_manager_dialog.h"
#include "ui/model_catalog.h"
#include "core/model_library.h"
#include "ui_test_support.h"
namespace impasto {
TEST(ZzScreens, Grab) {
  const QByteArray dir = qgetenv("IMPASTO_UI_SCREENS");
  if (dir.isEmpty()) GTEST_SKIP();
  {
    MainWindow w;
    w.resize(1440, 900);
    w.show();
    QTest::qWait(200);
    w.grab().save(QString::fromUtf8(dir) + "/first-start.png");
  }
  {
    ModelLibrary lib(QDir(uitest::scratchDir()).filePath("screens-models").toStdString());
    ModelManagerDialog d(lib);
    d.show();
    d.download("darknet-reference");
    uitest::waitUntil([&] { return !d.isBusy(); }, 20000);
    QTest::qWait(100);
    d.grab().save(QString::fromUtf8(dir) + "/models.png");
  }
  {
    MainWindow w;
    w.setModel(loadModelFile("/work/shared/models/darknet-reference/darknet-reference-conv5.onnx"), "x");
    w.loadContent("/work/shared/images/tubingen.jpg");
    w.addStyle("/work/shared/images/starry_night.jpg");
    w.resize(1440, 900);
    w.show();
    LayerViewerDialog* v = w.showLayerViewer();
    v->setLayer("leaky3");
    uitest::waitUntil([&] { return v->tileCount() > 0 && !v->isComputing(); }, 20000);
    QTest::qWait(200);
    v->grab().save(QString::fromUtf8(dir) + "/layers.png");
    w.preview()->setSplit(true);
    QTest::qWait(100);
    w.grab().save(QString::fromUtf8(dir) + "/split.png");
  }
}
}
