#include "ui/render_status.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <cmath>

#include "ui/studio_session.h"

namespace impasto {

namespace {
constexpr int kProgressSteps = 1000;
}

RenderStatus::RenderStatus(const StudioSession& session, QWidget* parent)
    : QWidget(parent),
      session_(session),
      step_(new QLabel(this)),
      rate_(new QLabel(this)),
      eta_(new QLabel(this)),
      progress_(new QProgressBar(this)) {
  progress_->setMaximumWidth(260);
  // The share of the work done, which grows with each level's pixels, not the step count.
  progress_->setRange(0, kProgressSteps);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  for (QWidget* part : {static_cast<QWidget*>(step_), static_cast<QWidget*>(rate_),
                        static_cast<QWidget*>(eta_), static_cast<QWidget*>(progress_)})
    layout->addWidget(part);
  connect(&session, &StudioSession::runningChanged, this, [this](bool running) {
    if (running) progress_->setValue(0);
    refresh();
  });
  connect(&session, &StudioSession::stepsReported, this, [this](const QList<StepReport>& reports) {
    progress_->setValue(int(std::lround(reports.back().progress * kProgressSteps)));
    refresh();
  });
  connect(&session, &StudioSession::pausedChanged, this, &RenderStatus::refresh);
  connect(&session, &StudioSession::finished, this, &RenderStatus::refresh);
}

QString RenderStatus::rateText() const { return rate_->text(); }

void RenderStatus::refresh() {
  const StepReport& last = session_.lastReport();
  QString step = last.iteration > 0 ? tr("step %1 / %2").arg(last.iteration).arg(last.iterations) : QString();
  if (last.levels > 1)
    step += tr(" · level %1 / %2, %3 × %4").arg(last.level).arg(last.levels).arg(last.width).arg(last.height);
  step_->setText(step);
  if (!session_.isRendering()) {
    rate_->clear();
    eta_->clear();
    return;
  }
  if (session_.isPaused()) {
    rate_->setText(tr("paused"));
    eta_->clear();
    return;
  }
  const auto rate = session_.stepsPerSecond();
  rate_->setText(rate ? tr("%1 steps/s").arg(*rate, 0, 'f', *rate < 10 ? 2 : 1) : tr("… steps/s"));
  const auto left = session_.secondsLeft();
  eta_->setText(left ? tr("ETA %1").arg(durationText(*left)) : QString());
}

}  // namespace impasto
