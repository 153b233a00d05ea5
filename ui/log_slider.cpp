#include "ui/log_slider.h"

#include <QHBoxLayout>
#include <QSignalBlocker>
#include <QSlider>
#include <algorithm>
#include <cmath>

#include "ui/scientific_spin_box.h"

namespace impasto {

namespace {
constexpr int kStepsPerDecade = 20;
}

LogSlider::LogSlider(double minimum, double maximum, bool allowZero, QWidget* parent)
    : QWidget(parent), logMin_(0), logMax_(1), allowZero_(allowZero), slider_(new QSlider(Qt::Horizontal, this)),
      spin_(new ScientificSpinBox(this)) {
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(slider_, 1);
  layout->addWidget(spin_);
  spin_->setMinimumWidth(90);
  setRange(minimum, maximum);
  connect(slider_, &QSlider::valueChanged, this, &LogSlider::onSliderMoved);
  connect(spin_, &QDoubleSpinBox::valueChanged, this, &LogSlider::onSpinChanged);
}

void LogSlider::setRange(double minimum, double maximum) {
  logMin_ = std::log10(minimum);
  logMax_ = std::log10(maximum);
  const QSignalBlocker blockSlider(slider_);
  const QSignalBlocker blockSpin(spin_);
  const int steps = int(std::lround((logMax_ - logMin_) * kStepsPerDecade));
  slider_->setRange(allowZero_ ? -1 : 0, steps);
  slider_->setPageStep(kStepsPerDecade);
  spin_->setRange(allowZero_ ? 0.0 : minimum, maximum);
}

int LogSlider::positionFor(double value) const {
  if (value <= 0.0) return slider_->minimum();
  const double p = (std::log10(value) - logMin_) * kStepsPerDecade;
  return std::clamp(int(std::lround(p)), 0, slider_->maximum());
}

double LogSlider::valueFor(int position) const {
  if (allowZero_ && position < 0) return 0.0;
  // Round to 3 significant digits: slider values should read like numbers people type.
  const double v = std::pow(10.0, logMin_ + double(position) / kStepsPerDecade);
  const double scale = std::pow(10.0, std::floor(std::log10(v)) - 2);
  return std::round(v / scale) * scale;
}

double LogSlider::value() const { return spin_->value(); }

void LogSlider::setValue(double value) {
  const QSignalBlocker blockSlider(slider_);
  const QSignalBlocker blockSpin(spin_);
  spin_->setValue(value);
  slider_->setValue(positionFor(value));
}

void LogSlider::onSliderMoved(int position) {
  if (updating_) return;
  updating_ = true;
  spin_->setValue(valueFor(position));
  updating_ = false;
  emit valueChanged(spin_->value());
}

void LogSlider::onSpinChanged(double value) {
  if (updating_) return;
  updating_ = true;
  slider_->setValue(positionFor(value));
  updating_ = false;
  emit valueChanged(value);
}

}  // namespace impasto
