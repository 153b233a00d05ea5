#pragma once

#include <QDialog>
#include <QList>
#include <memory>
#include <opencv2/core.hpp>
#include <thread>

#include "core/engine/layer_activations.h"
#include "core/models/model.h"

class QComboBox;
class QGridLayout;
class QLabel;
class QSpinBox;

namespace impasto {

class BackgroundTask;

// "Visualizing deep layers": for the content, a style or the current render
// and a chosen layer, a grid of the channels that respond most strongly, so
// an artist can see what each layer picks up and choose layers with meaning.
// The activations are computed on a worker thread; the dialog stays live.
class LayerViewerDialog : public QDialog {
  Q_OBJECT

 public:
  struct Source {
    QString name;
    cv::Mat rgb;  // CV_32FC3 RGB [0, 1]
  };

  explicit LayerViewerDialog(QWidget* parent = nullptr);
  ~LayerViewerDialog() override;

  void setModel(ModelPtr model);
  void setSources(const QList<Source>& sources);
  const QList<Source>& sources() const { return sources_; }
  void setLayer(const QString& layer);
  int tileCount() const { return tiles_; }
  bool isComputing() const;

  static constexpr int kMaxSide = 320;

 signals:
  void computed(int tiles);
  void failed(const QString& message);

 public slots:
  void refresh();

 private:
  void showResult(const std::vector<ChannelActivation>& channels, const QString& error);

  ModelPtr model_;
  QList<Source> sources_;
  QComboBox* source_;
  QComboBox* layer_;
  QSpinBox* count_;
  QLabel* status_;
  QGridLayout* grid_;
  QWidget* gridHost_;
  BackgroundTask* task_;
  int tiles_ = 0;
};

}  // namespace impasto
