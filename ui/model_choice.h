#pragma once

#include <QString>

namespace impasto {

// One entry of the model picker.
struct ModelChoice {
  QString id;           // library name, or "file:" + path for a model file
  QString title;        // short: the library name or the file name
  QString description;  // the long title, shown as a tooltip
  QString state;        // "installed", "not downloaded (548 MB)", ...
  bool usable = false;  // installed or a file that exists
};

}  // namespace impasto
