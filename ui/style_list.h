#pragma once

#include <QWidget>
#include <vector>

class QDoubleSpinBox;
class QVBoxLayout;

namespace impasto {

class ImageDropZone;
class StudioSession;
struct StyleImage;

// A view of the session's style images: each with its blend weight and a
// remove button, and a drop zone that adds more. Edits go to the session;
// the rows follow its signals. Locked while a render runs.
class StyleList : public QWidget {
  Q_OBJECT

 public:
  explicit StyleList(StudioSession& session, QWidget* parent = nullptr);

  int count() const { return int(rows_.size()); }
  ImageDropZone* dropZone() const { return dropZone_; }

 private:
  struct Row {
    QWidget* widget = nullptr;
    QDoubleSpinBox* weight = nullptr;
  };
  Row makeRow(const StyleImage& style);
  void rebuild();
  void showWeight(int index, double weight);
  void setEditable(bool editable);

  StudioSession& session_;
  ImageDropZone* dropZone_;
  QVBoxLayout* rowsLayout_;
  std::vector<Row> rows_;
};

}  // namespace impasto
