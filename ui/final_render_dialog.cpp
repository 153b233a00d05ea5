#include "ui/final_render_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/io/image_io.h"
#include "core/util/error.h"
#include "ui/file_dialogs.h"
#include "ui/final_render.h"
#include "ui/image_convert.h"
#include "ui/rate_meter.h"
#include "ui/render_controller.h"

namespace impasto {
namespace {

const int kPresetSides[] = {2048, 4096, 6000};

}  // namespace

FinalRenderDialog::FinalRenderDialog(RenderJob job, const QString& suggestedOutput, QWidget* parent)
    : QDialog(parent),
      job_(std::move(job)),
      size_(new QComboBox(this)),
      custom_(new QSpinBox(this)),
      output_(new QLineEdit(this)),
      estimate_(new QLabel(this)),
      renderButton_(nullptr) {
  setWindowTitle(tr("Final render"));
  setObjectName(QStringLiteral("finalRenderDialog"));
  for (int side : kPresetSides) size_->addItem(tr("%1 px").arg(side), side);
  size_->addItem(tr("Custom"), 0);
  custom_->setRange(kMinSize, kMaxSize);
  custom_->setSuffix(tr(" px"));
  custom_->setValue(3000);
  custom_->setEnabled(false);
  estimate_->setWordWrap(true);
  estimate_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* sizeRow = new QHBoxLayout;
  sizeRow->addWidget(size_, 1);
  sizeRow->addWidget(custom_, 1);
  auto* outputRow = new QHBoxLayout;
  auto* browse = new QPushButton(tr("Choose…"), this);
  outputRow->addWidget(output_, 1);
  outputRow->addWidget(browse);
  output_->setText(suggestedOutput);

  auto* form = new QFormLayout;
  form->addRow(tr("Longest side:"), sizeRow);
  form->addRow(tr("Output file:"), outputRow);
  form->addRow(tr("Memory:"), estimate_);
  auto* note = new QLabel(tr("Renders with the current settings at this size, coarse to fine, in the "
                             "background. The live preview stops while it runs; a checkpoint is saved "
                             "as it goes, so a cancel or a crash can be resumed."),
                          this);
  note->setWordWrap(true);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  renderButton_ = buttons->addButton(tr("Render"), QDialogButtonBox::AcceptRole);
  renderButton_->setDefault(true);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(note);
  layout->addWidget(buttons);

  connect(size_, &QComboBox::currentIndexChanged, this, [this] {
    custom_->setEnabled(size_->currentData().toInt() == 0);
    updateEstimate();
  });
  connect(custom_, &QSpinBox::valueChanged, this, &FinalRenderDialog::updateEstimate);
  connect(output_, &QLineEdit::textChanged, this, &FinalRenderDialog::updateEstimate);
  connect(browse, &QPushButton::clicked, this, &FinalRenderDialog::chooseOutput);
  resize(520, sizeHint().height());
  updateEstimate();
}

int FinalRenderDialog::longestSide() const {
  const int preset = size_->currentData().toInt();
  return preset > 0 ? preset : custom_->value();
}

void FinalRenderDialog::setLongestSide(int pixels) {
  const int index = size_->findData(pixels);
  if (index >= 0) {
    size_->setCurrentIndex(index);
  } else {
    custom_->setValue(pixels);
    size_->setCurrentIndex(size_->findData(0));
  }
  updateEstimate();
}

QString FinalRenderDialog::output() const { return output_->text().trimmed(); }

void FinalRenderDialog::setOutput(const QString& path) { output_->setText(path); }

QString FinalRenderDialog::estimateText() const { return estimate_->text(); }

QString FinalRenderDialog::planText(const MemoryPlan& plan) {
  QString text = tr("about %1 at %2 × %3").arg(byteText(plan.plannedBytes)).arg(plan.width).arg(plan.height);
  if (plan.tile > 0)
    text +=
        tr(", in tiles of %1 px (untiled it would need %2)").arg(plan.tile).arg(byteText(plan.untiledBytes));
  else
    text += tr(", untiled");
  return text + tr(" — %1 available").arg(byteText(plan.budgetBytes));
}

void FinalRenderDialog::updateEstimate() {
  plan_.reset();
  QString problem;
  try {
    RenderSettings settings = job_.settings;
    settings.size = longestSide();
    settings = resolveSettings(settings, *job_.model);
    const cv::Size size = sizeForLongest(job_.content.size(), settings.size);
    plan_ = planMemory(*job_.model, settings, size.width, size.height, 0, 0.0);
  } catch (const std::exception& e) {
    problem = QString::fromStdString(e.what());
  }
  estimate_->setText(plan_ ? planText(*plan_) : problem);
  renderButton_->setEnabled(plan_.has_value() && !output().isEmpty());
}

void FinalRenderDialog::chooseOutput() {
  const fileDialogs::ExportTarget target =
      fileDialogs::exportImage(this, QFileInfo(output()).completeBaseName());
  if (!target.path.isEmpty()) output_->setText(target.path);
}

// --- progress -------------------------------------------------------------------

FinalRenderProgress::FinalRenderProgress(FinalRender* render, const QString& memoryText, QWidget* parent)
    : QDialog(parent),
      render_(render),
      picture_(new QLabel(this)),
      status_(new QLabel(tr("Starting…"), this)),
      checkpoint_(new QLabel(tr("No checkpoint yet"), this)),
      progress_(new QProgressBar(this)),
      cancel_(new QPushButton(tr("Cancel (keeps the checkpoint)"), this)) {
  setWindowTitle(tr("Final render: %1").arg(QFileInfo(render->description().output).fileName()));
  setObjectName(QStringLiteral("finalRenderProgress"));
  setAttribute(Qt::WA_DeleteOnClose);
  picture_->setAlignment(Qt::AlignCenter);
  picture_->setMinimumSize(320, 240);
  picture_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  if (render->resumedFrom() > 0)
    checkpoint_->setText(tr("Resumed from the checkpoint at step %1").arg(render->resumedFrom()));
  auto* memory = new QLabel(tr("Memory: %1").arg(memoryText), this);
  memory->setWordWrap(true);
  auto* output =
      new QLabel(tr("Output: %1").arg(QDir::toNativeSeparators(render->description().output)), this);
  output->setWordWrap(true);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(picture_, 1);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(memory);
  layout->addWidget(checkpoint_);
  layout->addWidget(output);
  auto* row = new QHBoxLayout;
  row->addStretch(1);
  row->addWidget(cancel_);
  layout->addLayout(row);
  resize(560, 560);

  RenderController* controller = render->controller();
  connect(controller, &RenderController::stepsReported, this, &FinalRenderProgress::showSteps);
  connect(controller, &RenderController::frameReady, this, [this](int, const QImage& frame) {
    image_ = frame;
    showImage();
  });
  connect(render, &FinalRender::checkpointSaved, this,
          [this](int iteration) { checkpoint_->setText(tr("Checkpoint saved at step %1").arg(iteration)); });
  connect(cancel_, &QPushButton::clicked, this, [this] {
    cancel_->setEnabled(false);
    status_->setText(tr("Cancelling…"));
    render_->cancel();
  });
  connect(render, &FinalRender::finished, this, &QDialog::close);
  connect(render, &FinalRender::failed, this, [this](const QString&) {
    if (!render_->isRunning()) close();
  });
}

QString FinalRenderProgress::statusText() const { return status_->text(); }

void FinalRenderProgress::showSteps(const QList<StepReport>& reports) {
  if (reports.isEmpty()) return;
  const StepReport& r = reports.back();
  progress_->setValue(int(r.progress * 1000.0));
  QString text = tr("Step %1 of %2 · level %3 of %4 (%5 × %6)")
                     .arg(r.iteration)
                     .arg(r.iterations)
                     .arg(r.level)
                     .arg(r.levels)
                     .arg(r.width)
                     .arg(r.height);
  if (const std::optional<double> left = render_->secondsLeft())
    text += tr(" · %1 left").arg(durationText(*left));
  status_->setText(text);
}

void FinalRenderProgress::showImage() {
  if (image_.isNull()) return;
  picture_->setPixmap(
      QPixmap::fromImage(image_.scaled(picture_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation)));
}

void FinalRenderProgress::resizeEvent(QResizeEvent* event) {
  QDialog::resizeEvent(event);
  showImage();
}

}  // namespace impasto
