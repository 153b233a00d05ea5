#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;

namespace impasto {

class StudioSession;

// The status bar's read-out of the session's render: "step n / N", steps per
// second (or "paused"), the time left, and a progress bar.
class RenderStatus : public QWidget {
  Q_OBJECT

 public:
  explicit RenderStatus(const StudioSession& session, QWidget* parent = nullptr);

  QProgressBar* progressBar() const { return progress_; }
  QString rateText() const;

 private:
  void refresh();

  const StudioSession& session_;
  QLabel* step_;
  QLabel* rate_;
  QLabel* eta_;
  QProgressBar* progress_;
};

}  // namespace impasto
