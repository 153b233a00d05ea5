#include "ui/layer_viewer_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/util/error.h"
#include "ui/background_task.h"
#include "ui/image_convert.h"

namespace impasto {

namespace {
constexpr int kTileSide = 150;
constexpr int kColumns = 4;
}  // namespace

LayerViewerDialog::LayerViewerDialog(QWidget* parent)
    : QDialog(parent),
      source_(new QComboBox(this)),
      layer_(new QComboBox(this)),
      count_(new QSpinBox(this)),
      status_(new QLabel(this)),
      grid_(new QGridLayout),
      gridHost_(new QWidget),
      task_(new BackgroundTask(this)) {
  setWindowTitle(tr("Layer viewer"));
  resize(720, 640);
  count_->setRange(1, 64);
  count_->setValue(16);
  auto* form = new QFormLayout;
  form->addRow(tr("Image"), source_);
  form->addRow(tr("Layer"), layer_);
  form->addRow(tr("Channels"), count_);
  auto* scroll = new QScrollArea(this);
  gridHost_->setLayout(grid_);
  scroll->setWidget(gridHost_);
  scroll->setWidgetResizable(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  auto* layout = new QVBoxLayout(this);
  auto* explain = new QLabel(tr("The channels of the chosen layer that respond most strongly to the image, "
                                "brightest where they fire. Early layers pick up colours and edges, deeper "
                                "ones textures and parts of objects: choose style layers by what they see."),
                             this);
  explain->setWordWrap(true);
  layout->addWidget(explain);
  layout->addLayout(form);
  layout->addWidget(status_);
  layout->addWidget(scroll, 1);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(source_, &QComboBox::currentIndexChanged, this, &LayerViewerDialog::refresh);
  connect(layer_, &QComboBox::currentIndexChanged, this, &LayerViewerDialog::refresh);
  connect(count_, &QSpinBox::valueChanged, this, &LayerViewerDialog::refresh);
}

LayerViewerDialog::~LayerViewerDialog() {
  // One layer's forward pass: short, and it holds no lock the GUI needs.
  delete task_;
}

void LayerViewerDialog::setModel(ModelPtr model) {
  model_ = std::move(model);
  const QString current = layer_->currentText();
  const QSignalBlocker block(layer_);
  layer_->clear();
  if (model_) {
    for (const std::string& name : model_->layerNames()) layer_->addItem(QString::fromStdString(name));
  }
  const int index = layer_->findText(current);
  if (index >= 0) layer_->setCurrentIndex(index);
  refresh();
}

void LayerViewerDialog::setSources(const QList<Source>& sources) {
  const QString current = source_->currentText();
  sources_ = sources;
  const QSignalBlocker block(source_);
  source_->clear();
  for (const Source& s : sources_) source_->addItem(s.name);
  const int index = source_->findText(current);
  if (index >= 0) source_->setCurrentIndex(index);
  refresh();
}

void LayerViewerDialog::setLayer(const QString& layer) {
  const int index = layer_->findText(layer);
  if (index >= 0) layer_->setCurrentIndex(index);
}

bool LayerViewerDialog::isComputing() const { return task_->isBusy(); }

void LayerViewerDialog::refresh() {
  if (!model_) {
    status_->setText(tr("Load a model first."));
    return;
  }
  const int index = source_->currentIndex();
  if (index < 0 || index >= sources_.size() || sources_[index].rgb.empty()) {
    status_->setText(tr("Add a content or style image first."));
    return;
  }
  status_->setText(tr("Computing %1…").arg(layer_->currentText()));
  struct Outcome {
    std::vector<ChannelActivation> channels;
    QString error;
  };
  auto outcome = std::make_shared<Outcome>();
  ModelPtr model = model_;
  cv::Mat rgb = sources_[index].rgb;  // shared, never written: the images are immutable once loaded
  const std::string layer = layer_->currentText().toStdString();
  const int count = count_->value();
  // While one layer computes, the newest request waits and replaces older waiting ones.
  task_->run(
      [outcome, model, rgb, layer, count] {
        try {
          outcome->channels = strongestChannelActivations(*model, rgb, layer, count, kMaxSide);
        } catch (const std::exception& e) {
          outcome->error = QString::fromStdString(e.what());
        }
      },
      [this, outcome] { showResult(outcome->channels, outcome->error); });
}

void LayerViewerDialog::showResult(const std::vector<ChannelActivation>& channels, const QString& error) {
  if (task_->hasPending()) return;  // the user chose again meanwhile: show that instead
  while (QLayoutItem* item = grid_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  tiles_ = 0;
  if (!error.isEmpty()) {
    status_->setText(error);
    emit failed(error);
    return;
  }
  const QString layer = layer_->currentText();
  if (!channels.empty())
    status_->setText(tr("%1: %2 strongest channels, %3 × %4 each")
                         .arg(layer)
                         .arg(channels.size())
                         .arg(channels.front().map.cols)
                         .arg(channels.front().map.rows));
  for (const ChannelActivation& c : channels) {
    auto* tile = new QLabel(gridHost_);
    const QImage image =
        mapToQImage(c.map).scaled(kTileSide, kTileSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    tile->setPixmap(QPixmap::fromImage(image));
    tile->setToolTip(tr("channel %1, mean activation %2").arg(c.channel).arg(c.mean, 0, 'g', 3));
    auto* caption = new QLabel(tr("#%1  (%2)").arg(c.channel).arg(c.mean, 0, 'g', 3), gridHost_);
    caption->setAlignment(Qt::AlignCenter);
    const int row = (tiles_ / kColumns) * 2;
    const int column = tiles_ % kColumns;
    grid_->addWidget(tile, row, column, Qt::AlignCenter);
    grid_->addWidget(caption, row + 1, column, Qt::AlignCenter);
    ++tiles_;
  }
  emit computed(tiles_);
}

}  // namespace impasto
