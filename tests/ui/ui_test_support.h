#pragma once

#include <QByteArray>
#include <QEvent>
#include <QPoint>
#include <QString>
#include <functional>
#include <opencv2/core.hpp>
#include <string>

#include "core/models/model.h"
#include "core/settings/render_settings.h"
#include "tests/support/test_models.h"

class QSlider;

namespace impasto {
class MainWindow;
}

namespace impasto::uitest {

// The core tests' tiny seeded CNN (layers conv1 relu1 pool1 conv2 relu2 pool2
// conv3 relu3): costs, gradients and frames are real.
using test::makeTinyModel;

// A smooth test picture (gradients and a disc), CV_32FC3 RGB [0, 1].
cv::Mat makePicture(int width, int height, int variant = 0);

// The per-test scratch folder (created empty by the test main).
QString scratchDir();
// scratchDir()/name
QString scratchPath(const QString& name);
// Writes bytes to scratchDir()/name and returns the path.
QString writeScratchFile(const QString& name, const QByteArray& bytes);
// Writes makePicture to scratchDir()/name and returns the path.
QString writePicture(const QString& name, int width, int height, int variant = 0);

// A mouse event on a slider, as a user's drag sends it (at: slider coordinates).
void sendMouse(QSlider* slider, QEvent::Type type, QPoint at, Qt::MouseButton button, Qt::MouseButtons held);
// The centre of the slider's handle, where a press catches it.
QPoint handleCentre(QSlider* slider);

// Runs the event loop until pred() holds or timeoutMs passes; returns pred().
bool waitUntil(const std::function<bool()>& pred, int timeoutMs = 10000);

// So many iterations that a render runs until it is stopped.
constexpr int kEndless = 1000000;

// Gives `window` the tiny model (as file:/nonexistent/tiny.onnx), loads the
// content picture and adds the style picture (paths), and sets a small
// render: `size` px, `iterations` steps of `optimizer` from the content,
// α 1, β `beta`, the style on relu1 and relu2, the content on relu2; the
// rest stays as the panel has it, but for what `adjust` changes before the
// settings are set. A picture that does not load is a fatal failure that ends
// the set-up (ASSERT_NO_FATAL_FAILURE ends the test there too).
void prepareTinyRender(MainWindow& window, const QString& content, const QString& style, int size,
                       int iterations, Optimizer optimizer, double beta,
                       const std::function<void(RenderSettings&)>& adjust = {});

// The studio's live-tuning set-up: prepareTinyRender with a 96 x 72
// style.png, an endless L-BFGS render at its default step and no TV.
void prepareEndlessTinyRender(MainWindow& window, const QString& content, int size, double beta,
                              const std::function<void(RenderSettings&)>& adjust = {});

}  // namespace impasto::uitest
