#include "ui/style_list.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/image_drop_zone.h"
#include "ui/studio_session.h"

namespace impasto {

StyleList::StyleList(StudioSession& session, QWidget* parent)
    : QWidget(parent),
      session_(session),
      dropZone_(new ImageDropZone(
          tr("Drop style paintings here\n(several blend together)\nor click to choose"), this)),
      rowsLayout_(new QVBoxLayout) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  rowsLayout_->setContentsMargins(0, 0, 0, 0);
  rowsLayout_->setSpacing(2);
  layout->addLayout(rowsLayout_);
  layout->addWidget(dropZone_);
  dropZone_->setMinimumHeight(70);
  connect(&session_, &StudioSession::stylesChanged, this, &StyleList::rebuild);
  connect(&session_, &StudioSession::styleWeightChanged, this, &StyleList::showWeight);
  // A running render has its style targets already: changing them needs a new render.
  connect(&session_, &StudioSession::runningChanged, this, [this](bool running) { setEditable(!running); });
  rebuild();
}

StyleList::Row StyleList::makeRow(const StyleImage& style) {
  const LoadedImage& image = style.image;
  Row row;
  row.widget = new QWidget(this);
  auto* layout = new QHBoxLayout(row.widget);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* thumb = new QLabel(row.widget);
  thumb->setPixmap(
      QPixmap::fromImage(image.thumbnail.scaled(64, 64, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
  thumb->setFixedSize(66, 66);
  thumb->setAlignment(Qt::AlignCenter);
  auto* details = new QVBoxLayout;
  details->setSpacing(1);
  auto* name = new QLabel(image.name, row.widget);
  name->setToolTip(image.source.isEmpty() ? image.name : image.source);
  name->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  auto* size = new QLabel(sizeText(image.size()), row.widget);
  row.weight = new QDoubleSpinBox(row.widget);
  row.weight->setRange(0.0, 100.0);
  row.weight->setDecimals(2);
  row.weight->setSingleStep(0.1);
  row.weight->setPrefix(tr("blend "));
  row.weight->setToolTip(tr("Blend weight of this style: the style targets are mixed in proportion"));
  row.weight->setKeyboardTracking(false);
  row.weight->setValue(style.weight);
  auto* remove = new QToolButton(row.widget);
  remove->setText(QStringLiteral("✕"));
  remove->setToolTip(tr("Remove this style image"));
  remove->setAutoRaise(true);
  auto* controls = new QHBoxLayout;
  controls->addWidget(row.weight, 1);
  controls->addWidget(remove);
  details->addWidget(name);
  details->addWidget(size);
  details->addLayout(controls);
  layout->addWidget(thumb);
  layout->addLayout(details, 1);
  QWidget* widget = row.widget;
  connect(row.weight, &QDoubleSpinBox::valueChanged, this, [this, widget](double value) {
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i].widget == widget) session_.setStyleWeight(int(i), value);
  });
  connect(remove, &QToolButton::clicked, this, [this, widget] {
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i].widget == widget) session_.removeStyle(int(i));
  });
  return row;
}

void StyleList::rebuild() {
  // The remove button that asked for this may be in one of these rows: delete them later.
  for (Row& row : rows_) {
    row.widget->hide();
    row.widget->deleteLater();
  }
  rows_.clear();
  for (const StyleImage& style : session_.styles()) {
    rows_.push_back(makeRow(style));
    rowsLayout_->addWidget(rows_.back().widget);
  }
  setEditable(!session_.isRendering());
}

void StyleList::showWeight(int index, double weight) {
  if (index < 0 || index >= count()) return;
  const QSignalBlocker block(rows_[std::size_t(index)].weight);
  rows_[std::size_t(index)].weight->setValue(weight);
}

void StyleList::setEditable(bool editable) {
  for (Row& row : rows_) row.widget->setEnabled(editable);
  dropZone_->setEnabled(editable);
}

}  // namespace impasto
