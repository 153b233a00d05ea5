#pragma once

#include <QScrollArea>

namespace impasto {

class ImageDropZone;
class StudioSession;
class StyleList;

// The studio's left column, a view of the session's images: the Content box
// (a drop zone that shows the photo) and the Style box (the style list).
class InputsPanel : public QScrollArea {
  Q_OBJECT

 public:
  explicit InputsPanel(StudioSession& session, QWidget* parent = nullptr);

  ImageDropZone* contentZone() const { return contentZone_; }
  StyleList* styleList() const { return styles_; }
  // Ctrl+V: the clipboard's image or image file goes to the content, or to the
  // styles when asked or when their zone has focus (not while a render runs).
  // False when the clipboard holds nothing to paste.
  bool paste(bool asStyle);

 private:
  void showContent();

  StudioSession& session_;
  ImageDropZone* contentZone_;
  StyleList* styles_;
};

}  // namespace impasto
