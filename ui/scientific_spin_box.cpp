#include "ui/scientific_spin_box.h"

#include <algorithm>
#include <cmath>

namespace impasto {

ScientificSpinBox::ScientificSpinBox(QWidget* parent) : QDoubleSpinBox(parent), stepFactor_(std::pow(10.0, 0.1)) {
  // QDoubleSpinBox rounds values to decimals(); keep plenty for small weights.
  setDecimals(12);
  setRange(0.0, 1e12);
  setKeyboardTracking(false);
}

QString ScientificSpinBox::textFromValue(double value) const {
  if (value == 0.0) return QStringLiteral("0");
  const double magnitude = std::abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) return QString::number(value, 'g', 4);
  return QString::number(value, 'e', 2);
}

double ScientificSpinBox::valueFromText(const QString& text) const {
  return text.trimmed().toDouble();
}

QValidator::State ScientificSpinBox::validate(QString& text, int& pos) const {
  const QString t = text.trimmed();
  if (t.isEmpty() || t == QLatin1String("-") || t.endsWith(QLatin1Char('e'), Qt::CaseInsensitive) ||
      t.endsWith(QLatin1String("e-"), Qt::CaseInsensitive) || t.endsWith(QLatin1String("e+"), Qt::CaseInsensitive))
    return QValidator::Intermediate;
  bool ok = false;
  const double v = t.toDouble(&ok);
  if (!ok) return QValidator::Invalid;
  return v >= minimum() && v <= maximum() ? QValidator::Acceptable : QValidator::Intermediate;
}

void ScientificSpinBox::stepBy(int steps) {
  double v = value();
  if (v <= 0.0) {
    // From zero, an up arrow starts at the smallest positive value the box allows.
    if (steps > 0) setValue(std::max(minimum(), 1e-6));
    return;
  }
  setValue(v * std::pow(stepFactor_, steps));
}

}  // namespace impasto
