#pragma once

#include <QDoubleSpinBox>

namespace impasto {

// A spin box for weights that span many decades (α = 1e-3, β = 1e6): shows
// and accepts scientific notation, and the arrows step by a factor rather
// than by a fixed amount.
class ScientificSpinBox : public QDoubleSpinBox {
  Q_OBJECT

 public:
  explicit ScientificSpinBox(QWidget* parent = nullptr);

  // Each arrow step multiplies or divides by this (default 10^0.1, about 1.26).
  void setStepFactor(double factor) { stepFactor_ = factor; }

  QString textFromValue(double value) const override;
  double valueFromText(const QString& text) const override;
  QValidator::State validate(QString& text, int& pos) const override;
  void stepBy(int steps) override;

 private:
  double stepFactor_;
};

}  // namespace impasto
