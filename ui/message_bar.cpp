#include "ui/message_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>

namespace impasto {

MessageBar::MessageBar(QWidget* parent)
    : QFrame(parent), icon_(new QLabel(this)), text_(new QLabel(this)), action_(new QPushButton(this)),
      close_(new QPushButton(this)) {
  setFrameShape(QFrame::StyledPanel);
  setAutoFillBackground(true);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(8, 4, 4, 4);
  text_->setWordWrap(true);
  text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  close_->setText(QStringLiteral("✕"));
  close_->setFlat(true);
  close_->setToolTip(tr("Dismiss"));
  close_->setFixedWidth(28);
  layout->addWidget(icon_);
  layout->addWidget(text_, 1);
  layout->addWidget(action_);
  layout->addWidget(close_);
  connect(close_, &QPushButton::clicked, this, &MessageBar::dismiss);
  connect(action_, &QPushButton::clicked, this, [this] {
    if (callback_) callback_();
  });
  hide();
}

void MessageBar::showMessage(Level level, const QString& text, const QString& actionText, std::function<void()> action) {
  level_ = level;
  const QStyle::StandardPixmap pixmap = level == Level::Error     ? QStyle::SP_MessageBoxCritical
                                        : level == Level::Warning ? QStyle::SP_MessageBoxWarning
                                                                  : QStyle::SP_MessageBoxInformation;
  icon_->setPixmap(style()->standardIcon(pixmap).pixmap(20, 20));
  QPalette p = palette();
  p.setColor(QPalette::Window, level == Level::Error     ? QColor(0xf8, 0xd7, 0xda)
                               : level == Level::Warning ? QColor(0xff, 0xf3, 0xcd)
                                                         : QColor(0xd1, 0xec, 0xf1));
  p.setColor(QPalette::WindowText, Qt::black);
  setPalette(p);
  text_->setText(text);
  callback_ = std::move(action);
  action_->setText(actionText);
  action_->setVisible(!actionText.isEmpty() && callback_);
  show();
}

void MessageBar::dismiss() {
  callback_ = {};
  text_->clear();
  hide();
}

QString MessageBar::text() const { return text_->text(); }

}  // namespace impasto
