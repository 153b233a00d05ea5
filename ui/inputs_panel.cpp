#include "ui/inputs_panel.h"

#include <QApplication>
#include <QClipboard>
#include <QGroupBox>
#include <QMimeData>
#include <QVBoxLayout>

#include "ui/image_drop_zone.h"
#include "ui/studio_session.h"
#include "ui/style_list.h"

namespace impasto {

InputsPanel::InputsPanel(StudioSession& session, QWidget* parent)
    : QScrollArea(parent),
      session_(session),
      contentZone_(
          new ImageDropZone(tr("Drop a content photo here,\npaste it (Ctrl+V)\nor click to choose"))),
      styles_(new StyleList(session)) {
  auto* inputs = new QWidget(this);
  auto* layout = new QVBoxLayout(inputs);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* contentGroup = new QGroupBox(tr("Content"), inputs);
  auto* contentLayout = new QVBoxLayout(contentGroup);
  contentLayout->addWidget(contentZone_);
  contentZone_->setMinimumHeight(190);
  auto* styleGroup = new QGroupBox(tr("Style"), inputs);
  auto* styleLayout = new QVBoxLayout(styleGroup);
  styleLayout->addWidget(styles_);
  layout->addWidget(contentGroup);
  layout->addWidget(styleGroup);
  layout->addStretch(1);
  setWidget(inputs);
  setWidgetResizable(true);
  setMinimumWidth(220);
  connect(&session_, &StudioSession::contentChanged, this, &InputsPanel::showContent);
  connect(contentZone_, &ImageDropZone::imageDropped, this,
          [this](const QImage& image) { session_.setContentData(image, tr("dropped image")); });
  connect(styles_->dropZone(), &ImageDropZone::imageDropped, this,
          [this](const QImage& image) { session_.addStyleData(image, tr("dropped image")); });
}

bool InputsPanel::paste(bool asStyle) {
  ImageDropZone* zone = asStyle || styles_->dropZone()->hasFocus() ? styles_->dropZone() : contentZone_;
  if (zone == styles_->dropZone() && session_.isRendering()) return true;
  const QMimeData* data = QApplication::clipboard()->mimeData();
  if (!ImageDropZone::canAccept(data)) return false;
  zone->accept(data);
  return true;
}

void InputsPanel::showContent() {
  const LoadedImage& content = session_.content();
  contentZone_->setPreview(content.thumbnail,
                           QStringLiteral("%1\n%2").arg(content.name, sizeText(content.size())));
}

}  // namespace impasto
