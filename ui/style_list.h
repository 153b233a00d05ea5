#pragma once

#include <vector>

#include <QWidget>

#include "ui/loaded_image.h"

class QDoubleSpinBox;
class QVBoxLayout;

namespace impasto {

class ImageDropZone;

// The style images of a render, each with a blend weight and a remove button,
// and a drop zone that adds more.
class StyleList : public QWidget {
  Q_OBJECT

 public:
  explicit StyleList(QWidget* parent = nullptr);

  void addImage(LoadedImage image, double weight = 1.0);
  void removeAt(int index);
  void clear();
  int count() const { return int(entries_.size()); }
  const LoadedImage& image(int index) const { return entries_.at(std::size_t(index)).image; }
  double weight(int index) const;
  void setWeight(int index, double weight);
  std::vector<double> weights() const;
  ImageDropZone* dropZone() const { return dropZone_; }
  void setEditable(bool editable);

 signals:
  void changed();

 private:
  struct Entry {
    LoadedImage image;
    QWidget* row = nullptr;
    QDoubleSpinBox* weight = nullptr;
  };
  QWidget* makeRow(const LoadedImage& image, QDoubleSpinBox*& weightBox);

  ImageDropZone* dropZone_;
  QVBoxLayout* rows_;
  std::vector<Entry> entries_;
};

}  // namespace impasto
