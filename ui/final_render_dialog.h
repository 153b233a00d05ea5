#pragma once

#include <QDialog>
#include <QImage>
#include <optional>

#include "core/engine/memory_plan.h"
#include "core/engine/render.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace impasto {

class FinalRender;

// Render → Final render…: the size (2048, 4096, 6000 px longest side, or
// custom) and the output file, with the memory the render will need at that
// size (planMemory, for the current model and settings) and whether it will
// run in tiles, shown before it starts.
class FinalRenderDialog : public QDialog {
  Q_OBJECT

 public:
  // job: the current render's job (model and resolved settings; the content
  // gives the aspect ratio). suggestedOutput: the file offered first.
  FinalRenderDialog(RenderJob job, const QString& suggestedOutput, QWidget* parent = nullptr);

  int longestSide() const;
  void setLongestSide(int pixels);  // a preset when it is one, else custom
  QString output() const;
  void setOutput(const QString& path);
  // The estimate at longestSide(), as shown; empty when planMemory refused (estimateText says why).
  const std::optional<MemoryPlan>& plan() const { return plan_; }
  QString estimateText() const;

  // The estimate in words: "about 3.1 GB, untiled (of 20 GB available)".
  static QString planText(const MemoryPlan& plan);

 private:
  void updateEstimate();
  void chooseOutput();

  RenderJob job_;
  QComboBox* size_;
  QSpinBox* custom_;
  QLineEdit* output_;
  QLabel* estimate_;
  QPushButton* renderButton_;
  std::optional<MemoryPlan> plan_;
};

// The final render while it runs: the growing image, progress, pyramid level,
// time left, the memory estimate and the last checkpoint, and Cancel (which
// keeps the checkpoint). Not modal: the window stays usable.
class FinalRenderProgress : public QDialog {
  Q_OBJECT

 public:
  FinalRenderProgress(FinalRender* render, const QString& memoryText, QWidget* parent = nullptr);

  QString statusText() const;
  QProgressBar* progressBar() const { return progress_; }
  const QImage& image() const { return image_; }

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  void showSteps(const QList<StepReport>& reports);
  void showImage();

  FinalRender* render_;
  QLabel* picture_;
  QLabel* status_;
  QLabel* checkpoint_;
  QProgressBar* progress_;
  QPushButton* cancel_;
  QImage image_;
};

}  // namespace impasto
