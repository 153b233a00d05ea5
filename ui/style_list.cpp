#include "ui/style_list.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/image_drop_zone.h"

namespace impasto {

StyleList::StyleList(QWidget* parent)
    : QWidget(parent),
      dropZone_(new ImageDropZone(tr("Drop style paintings here\n(several blend together)\nor click to choose"), this)),
      rows_(new QVBoxLayout) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  rows_->setContentsMargins(0, 0, 0, 0);
  rows_->setSpacing(2);
  layout->addLayout(rows_);
  layout->addWidget(dropZone_);
  dropZone_->setMinimumHeight(70);
}

QWidget* StyleList::makeRow(const LoadedImage& image, QDoubleSpinBox*& weightBox) {
  auto* row = new QWidget(this);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* thumb = new QLabel(row);
  thumb->setPixmap(QPixmap::fromImage(image.thumbnail.scaled(64, 64, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
  thumb->setFixedSize(66, 66);
  thumb->setAlignment(Qt::AlignCenter);
  auto* details = new QVBoxLayout;
  details->setSpacing(1);
  auto* name = new QLabel(image.name, row);
  name->setToolTip(image.source.isEmpty() ? image.name : image.source);
  name->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  auto* size = new QLabel(sizeText(image.size()), row);
  weightBox = new QDoubleSpinBox(row);
  weightBox->setRange(0.0, 100.0);
  weightBox->setDecimals(2);
  weightBox->setSingleStep(0.1);
  weightBox->setPrefix(tr("blend "));
  weightBox->setToolTip(tr("Blend weight of this style: the style targets are mixed in proportion"));
  weightBox->setKeyboardTracking(false);
  auto* remove = new QToolButton(row);
  remove->setText(QStringLiteral("✕"));
  remove->setToolTip(tr("Remove this style image"));
  remove->setAutoRaise(true);
  auto* controls = new QHBoxLayout;
  controls->addWidget(weightBox, 1);
  controls->addWidget(remove);
  details->addWidget(name);
  details->addWidget(size);
  details->addLayout(controls);
  layout->addWidget(thumb);
  layout->addLayout(details, 1);
  connect(weightBox, &QDoubleSpinBox::valueChanged, this, &StyleList::changed);
  connect(remove, &QToolButton::clicked, this, [this, row] {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].row == row) removeAt(int(i));
  });
  return row;
}

void StyleList::addImage(LoadedImage image, double weight) {
  Entry entry;
  entry.row = makeRow(image, entry.weight);
  entry.weight->setValue(weight);
  entry.image = std::move(image);
  rows_->addWidget(entry.row);
  entries_.push_back(std::move(entry));
  emit changed();
}

void StyleList::removeAt(int index) {
  if (index < 0 || index >= count()) return;
  entries_[std::size_t(index)].row->deleteLater();
  entries_.erase(entries_.begin() + index);
  emit changed();
}

void StyleList::clear() {
  for (auto& entry : entries_) entry.row->deleteLater();
  entries_.clear();
  emit changed();
}

double StyleList::weight(int index) const { return entries_.at(std::size_t(index)).weight->value(); }

void StyleList::setWeight(int index, double weight) {
  if (index >= 0 && index < count()) entries_[std::size_t(index)].weight->setValue(weight);
}

std::vector<double> StyleList::weights() const {
  std::vector<double> result;
  for (const auto& entry : entries_) result.push_back(entry.weight->value());
  return result;
}

void StyleList::setEditable(bool editable) {
  // A running render has its style targets already: changing them needs a new render.
  for (auto& entry : entries_) entry.row->setEnabled(editable);
  dropZone_->setEnabled(editable);
}

}  // namespace impasto
