#pragma once

#include <QByteArray>
#include <QEvent>
#include <QPoint>
#include <QString>
#include <functional>
#include <opencv2/core.hpp>
#include <string>

#include "core/models/model.h"
#include "tests/support/test_models.h"

class QSlider;

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

}  // namespace impasto::uitest
