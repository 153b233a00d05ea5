#pragma once

#include <functional>

#include <QFrame>

class QLabel;
class QPushButton;

namespace impasto {

// A message across the top of the window: errors and advice that must not
// interrupt the user with a modal box (a bad dropped file, a missing model,
// a failed export). It stays until dismissed or replaced.
class MessageBar : public QFrame {
  Q_OBJECT

 public:
  enum class Level { Info, Warning, Error };

  explicit MessageBar(QWidget* parent = nullptr);

  // Shows text; with actionText, a button that runs action.
  void showMessage(Level level, const QString& text, const QString& actionText = {},
                   std::function<void()> action = {});
  void dismiss();
  QString text() const;
  Level level() const { return level_; }

 private:
  QLabel* icon_;
  QLabel* text_;
  QPushButton* action_;
  QPushButton* close_;
  std::function<void()> callback_;
  Level level_ = Level::Info;
};

}  // namespace impasto
