#pragma once

#include <QWidget>

class QSlider;

namespace impasto {

class ScientificSpinBox;

// A weight on a logarithmic slider with an exact spin box beside it. The
// slider spans [minimum, maximum] in decades; the spin box accepts any value
// in that range, and, when allowZero is set, 0 (the slider's left end).
class LogSlider : public QWidget {
  Q_OBJECT

 public:
  LogSlider(double minimum, double maximum, bool allowZero = false, QWidget* parent = nullptr);

  double value() const;
  void setValue(double value);  // emits no valueChanged
  void setRange(double minimum, double maximum);
  QSlider* slider() const { return slider_; }
  ScientificSpinBox* spinBox() const { return spin_; }

 signals:
  // The user changed the value (slider released or moved, spin box edited).
  void valueChanged(double value);

 private:
  int positionFor(double value) const;
  double valueFor(int position) const;
  void onSliderMoved(int position);
  void onSpinChanged(double value);

  double logMin_;
  double logMax_;
  bool allowZero_;
  bool updating_ = false;
  QSlider* slider_;
  ScientificSpinBox* spin_;
};

}  // namespace impasto
