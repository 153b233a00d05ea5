// impasto [CONTENT [STYLE...]] [--model NAME|FILE] [--start]
// The desktop studio. Everything lives in impasto::ui; this only reads the
// command line.
#include <QApplication>
#include <QCheckBox>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QIcon>
#include <QTimer>
#include <cstdio>

#include "core/util/version.h"
#include "core/engine/cpu_allocator.h"
#include "ui/main_window.h"
#include "ui/parameter_panel.h"

int main(int argc, char** argv) {
  impasto::installReusingCpuAllocator();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Impasto"));
  QApplication::setApplicationName(QStringLiteral("Impasto"));
  QApplication::setApplicationVersion(QString::fromLatin1(impasto::version()));
  QApplication::setDesktopFileName(QStringLiteral("impasto"));
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/impasto.png")));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Impasto: a neural style transfer studio."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("content"), QStringLiteral("The content photo."), QStringLiteral("[CONTENT"));
  parser.addPositionalArgument(QStringLiteral("styles"), QStringLiteral("One or more style images."),
                               QStringLiteral("[STYLE...]]"));
  const QCommandLineOption model(QStringLiteral("model"),
                                 QStringLiteral("The model: a name from the model library or a model file."),
                                 QStringLiteral("NAME|FILE"));
  const QCommandLineOption start(QStringLiteral("start"), QStringLiteral("Start rendering at once."));
  const QCommandLineOption preset(QStringLiteral("preset"), QStringLiteral("Load a preset (.json, or a PNG Impasto exported)."),
                                  QStringLiteral("FILE"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      QStringLiteral("Save a 1440x900 picture of the window to FILE, then quit."),
                                      QStringLiteral("FILE"));
  const QCommandLineOption screenshotAfter(QStringLiteral("screenshot-after"),
                                           QStringLiteral("Seconds to wait before the screenshot (default 20)."),
                                           QStringLiteral("SECONDS"), QStringLiteral("20"));
  const QCommandLineOption faceBoxes(QStringLiteral("face-boxes"),
                                     QStringLiteral("Draw the content's face boxes on the preview."));
  parser.addOptions({model, start, preset, screenshot, screenshotAfter, faceBoxes});
  parser.process(app);

  impasto::MainWindow window;
  if (parser.isSet(model)) window.useModelArgument(parser.value(model));
  window.openImages(parser.positionalArguments());
  if (parser.isSet(preset)) window.loadPreset(parser.value(preset));
  if (parser.isSet(faceBoxes)) window.parameters()->faceBoxesBox()->setChecked(true);
  if (parser.isSet(screenshot)) window.resize(1440, 900);
  window.show();
  if (parser.isSet(start)) window.startWhenReady();
  // An unfinished final render (a crash, a cancel) left a checkpoint: offer it.
  QTimer::singleShot(0, &window, [&window] { window.offerFinalRenderResume(); });

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    bool ok = false;
    const double seconds = parser.value(screenshotAfter).toDouble(&ok);
    QTimer::singleShot(int((ok ? seconds : 20.0) * 1000), &window, [&window, file] {
      if (!window.grab().save(file)) std::fprintf(stderr, "impasto: could not save the screenshot to %s\n", qPrintable(file));
      window.close();
    });
  }
  return QApplication::exec();
}
