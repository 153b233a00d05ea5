#include "ui/parameter_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <limits>
#include <utility>

#include "ui/log_slider.h"
#include "ui/scientific_spin_box.h"

namespace impasto {

namespace {
enum Column { kLayerColumn = 0, kStyleColumn = 1, kLambdaColumn = 2 };
}

ParameterPanel::ParameterPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(buildModelGroup());
  layout->addWidget(buildWeightsGroup());
  layout->addWidget(buildPortraitGroup());
  layout->addWidget(buildLayersGroup(), 1);
  layout->addWidget(buildOutputGroup());
}

QWidget* ParameterPanel::buildModelGroup() {
  auto* group = new QGroupBox(tr("Model"), this);
  auto* form = new QFormLayout(group);
  model_ = new QComboBox(group);
  model_->setToolTip(tr("The network whose features define content and style"));
  model_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  model_->setMinimumContentsLength(16);
  modelState_ = new QLabel(group);
  modelState_->setWordWrap(true);
  manage_ = new QPushButton(tr("Manage models…"), group);
  pooling_ = new QComboBox(group);
  pooling_->addItem(tr("As trained"), int(Pooling::AsTrained));
  pooling_->addItem(tr("Max"), int(Pooling::Max));
  pooling_->addItem(tr("Average (smoother)"), int(Pooling::Avg));
  pooling_->setToolTip(tr("Gatys et al. found average pooling gives slightly smoother results"));
  form->addRow(tr("Model"), model_);
  form->addRow(QString(), modelState_);
  form->addRow(QString(), manage_);
  form->addRow(tr("Pooling"), pooling_);
  lockedWhileRunning_ << model_ << pooling_;
  connect(model_, &QComboBox::activated, this,
          [this](int index) { emit modelChosen(model_->itemData(index).toString()); });
  connect(pooling_, &QComboBox::activated, this, [this] { emit poolingChosen(); });
  connect(manage_, &QPushButton::clicked, this, &ParameterPanel::manageModelsRequested);
  return group;
}

QWidget* ParameterPanel::buildWeightsGroup() {
  auto* group = new QGroupBox(tr("Weights (live)"), this);
  group->setToolTip(tr(
      "J = α·J_content + β·Σ λ_l·J_style^l + TV·J_tv. Changes apply at the next step of a running render."));
  auto* form = new QFormLayout(group);
  alpha_ = new LogSlider(1e-4, 1e6, false, group);
  beta_ = new LogSlider(1e-4, 1e8, false, group);
  tv_ = new LogSlider(1e-6, 1e2, true, group);
  alpha_->setToolTip(tr("α: how much G keeps the content image's structure"));
  beta_->setToolTip(tr("β: how strongly G takes on the style images' textures"));
  tv_->setToolTip(tr("Total-variation weight: smooths noise; 0 turns it off"));
  alpha_->setValue(1.0);
  beta_->setValue(1.0);
  tv_->setValue(0.0);
  form->addRow(QStringLiteral("α"), alpha_);
  form->addRow(QStringLiteral("β"), beta_);
  form->addRow(tr("TV"), tv_);
  for (LogSlider* s : {alpha_, beta_, tv_})
    connect(s, &LogSlider::valueChanged, this, &ParameterPanel::weightsEdited);
  return group;
}

QWidget* ParameterPanel::buildPortraitGroup() {
  auto* group = new QGroupBox(tr("Portrait guard (live)"), this);
  group->setToolTip(
      tr("Keeps faces recognisable: adds γ·Σ ‖f(C_face) − f(G_face)‖² to J, f the 128-d face descriptor. "
         "The badge on the preview shows the distance d, the largest over the face cut seven ways (shifted, "
         "scaled), never only the cuts the term keeps; below 0.6 it is the same person."));
  auto* form = new QFormLayout(group);
  keepIdentity_ = new QCheckBox(tr("Keep identity"), group);
  identity_ = new LogSlider(1e-1, 1e7, false, group);
  identity_->setValue(kDefaultIdentity);
  identity_->setToolTip(tr("γ: how strongly the faces stay the same person's"));
  faceBoxes_ = new QCheckBox(tr("Show face boxes"), group);
  faceState_ = new QLabel(group);
  faceState_->setWordWrap(true);
  form->addRow(keepIdentity_);
  form->addRow(QStringLiteral("γ"), identity_);
  form->addRow(faceBoxes_);
  form->addRow(faceState_);
  connect(keepIdentity_, &QCheckBox::toggled, this, [this] {
    updatePortraitControls();
    if (!filling_) emit weightsEdited();
  });
  connect(identity_, &LogSlider::valueChanged, this, &ParameterPanel::weightsEdited);
  connect(faceBoxes_, &QCheckBox::toggled, this, &ParameterPanel::showFaceBoxesToggled);
  updatePortraitControls();
  return group;
}

void ParameterPanel::updatePortraitControls() {
  keepIdentity_->setEnabled(faceModelsAvailable_);
  faceBoxes_->setEnabled(faceModelsAvailable_);
  identity_->setEnabled(faceModelsAvailable_ && keepIdentity_->isChecked());
}

void ParameterPanel::setFaceModelsAvailable(bool available, const QString& why) {
  faceModelsAvailable_ = available;
  const QString tip = available ? tr("Keep the faces of the content the same person's while the style grows")
                                : tr("Needs the face models: %1").arg(why);
  keepIdentity_->setToolTip(tip);
  faceBoxes_->setToolTip(available ? tr("Draw the content's faces on the preview") : tip);
  if (!available) setFaceState(tr("Face models not installed"));
  updatePortraitControls();
}

void ParameterPanel::setFaceState(const QString& text) { faceState_->setText(text); }

bool ParameterPanel::showFaceBoxes() const { return faceBoxes_->isEnabled() && faceBoxes_->isChecked(); }

QWidget* ParameterPanel::buildLayersGroup() {
  auto* group = new QGroupBox(tr("Layers"), this);
  auto* layout = new QVBoxLayout(group);
  layers_ = new QTableWidget(0, 3, group);
  layers_->setHorizontalHeaderLabels({tr("Layer"), tr("Style"), QStringLiteral("λ")});
  layers_->verticalHeader()->hide();
  layers_->horizontalHeader()->setSectionResizeMode(kLayerColumn, QHeaderView::Stretch);
  layers_->horizontalHeader()->setSectionResizeMode(kStyleColumn, QHeaderView::ResizeToContents);
  layers_->horizontalHeader()->setSectionResizeMode(kLambdaColumn, QHeaderView::ResizeToContents);
  layers_->setSelectionMode(QAbstractItemView::NoSelection);
  layers_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  layers_->setMinimumHeight(140);
  layers_->setToolTip(tr("Check the layers whose Gram matrices define the style, each with its weight λ"));
  connect(layers_, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
    if (filling_ || item->column() != kStyleColumn) return;
    if (auto* box = lambdaBox(item->row())) box->setEnabled(item->checkState() == Qt::Checked);
    emit weightsEdited();
  });
  contentLayer_ = new QComboBox(group);
  contentLayer_->setToolTip(tr("The layer whose activations G must match on the content image"));
  auto* form = new QFormLayout;
  form->addRow(tr("Content layer"), contentLayer_);
  layout->addWidget(layers_, 1);
  layout->addLayout(form);
  lockedWhileRunning_ << contentLayer_;
  return group;
}

QWidget* ParameterPanel::buildOutputGroup() {
  auto* group = new QGroupBox(tr("Render"), this);
  auto* form = new QFormLayout(group);
  size_ = new QSpinBox(group);
  size_->setRange(kMinSize, kMaxSize);
  size_->setValue(512);
  size_->setSuffix(tr(" px"));
  size_->setToolTip(tr("Longest side of the result"));
  iterations_ = new QSpinBox(group);
  iterations_->setRange(1, kMaxIterations);
  iterations_->setValue(500);
  optimizer_ = new QComboBox(group);
  optimizer_->addItem(QStringLiteral("L-BFGS"), int(Optimizer::Lbfgs));
  optimizer_->addItem(QStringLiteral("Adam"), int(Optimizer::Adam));
  learningRate_ = new ScientificSpinBox(group);
  learningRate_->setRange(0.0, 1e3);
  learningRate_->setValue(0.0);
  learningRate_->setSpecialValueText(tr("default"));
  init_ = new QComboBox(group);
  init_->addItem(tr("Content image"), int(InitKind::Content));
  init_->addItem(tr("Noise"), int(InitKind::Noise));
  seed_ = new QSpinBox(group);
  seed_->setRange(0, std::numeric_limits<int>::max());
  seed_->setToolTip(tr("Seed of the noise init: the same seed gives the same render"));
  form->addRow(tr("Size"), size_);
  form->addRow(tr("Iterations"), iterations_);
  form->addRow(tr("Optimiser"), optimizer_);
  form->addRow(tr("Learning rate"), learningRate_);
  form->addRow(tr("Start from"), init_);
  form->addRow(tr("Seed"), seed_);
  preserveColors_ = new QComboBox(group);
  preserveColors_->addItem(tr("Off: the painting's colours"), int(PreserveColors::Off));
  preserveColors_->addItem(tr("Luminance: brushwork only"), int(PreserveColors::Luminance));
  preserveColors_->addItem(tr("Histogram: painting recoloured"), int(PreserveColors::Histogram));
  preserveColors_->setToolTip(
      tr("Keep the photo's colours. Luminance transfers the style on brightness alone and puts the "
         "photo's colours back; Histogram gives the painting the photo's colour palette first."));
  average_ = new QComboBox(group);
  average_->addItem(tr("Off"), int(Averaging::Off));
  average_->addItem(tr("Moving average (EMA)"), int(Averaging::Ema));
  average_->setToolTip(tr("Show and export an exponential moving average of the steps' images"));
  averageDecay_ = new QDoubleSpinBox(group);
  averageDecay_->setRange(0.0, kMaxAverageDecay);
  averageDecay_->setDecimals(4);
  averageDecay_->setSingleStep(0.01);
  averageDecay_->setValue(RenderSettings{}.averageDecay);
  averageDecay_->setToolTip(tr("The average's decay per step: closer to 1 averages over more steps"));
  averageDecay_->setEnabled(false);
  connect(average_, &QComboBox::currentIndexChanged, this, [this] {
    averageDecay_->setEnabled(average_->isEnabled() &&
                              Averaging(average_->currentData().toInt()) == Averaging::Ema);
  });
  form->addRow(tr("Keep colours"), preserveColors_);
  form->addRow(tr("Averaging"), average_);
  form->addRow(tr("Decay"), averageDecay_);
  lockedWhileRunning_ << size_ << iterations_ << optimizer_ << learningRate_ << init_ << seed_
                      << preserveColors_ << average_ << averageDecay_;
  return group;
}

int ParameterPanel::rowOf(const std::string& layer) const {
  const QString name = QString::fromStdString(layer);
  for (int row = 0; row < layers_->rowCount(); ++row)
    if (layers_->item(row, kLayerColumn)->text() == name) return row;
  return -1;
}

ScientificSpinBox* ParameterPanel::lambdaBox(int row) const {
  return qobject_cast<ScientificSpinBox*>(layers_->cellWidget(row, kLambdaColumn));
}

bool ParameterPanel::hasLayers() const { return layers_->rowCount() > 0; }

void ParameterPanel::clearModelLayers() {
  filling_ = true;
  layers_->setRowCount(0);
  contentLayer_->clear();
  filling_ = false;
}

void ParameterPanel::setModelLayers(const std::vector<std::string>& layers, const RenderSettings& defaults) {
  filling_ = true;
  layers_->setRowCount(0);
  contentLayer_->clear();
  layers_->setRowCount(int(layers.size()));
  for (int row = 0; row < int(layers.size()); ++row) {
    const QString name = QString::fromStdString(layers[std::size_t(row)]);
    auto* nameItem = new QTableWidgetItem(name);
    nameItem->setFlags(Qt::ItemIsEnabled);
    layers_->setItem(row, kLayerColumn, nameItem);
    auto* check = new QTableWidgetItem;
    check->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    check->setCheckState(Qt::Unchecked);
    layers_->setItem(row, kStyleColumn, check);
    auto* lambda = new ScientificSpinBox(layers_);
    lambda->setRange(0.0, 1e6);
    lambda->setValue(1.0);
    lambda->setEnabled(false);
    lambda->setFrame(false);
    connect(lambda, &QDoubleSpinBox::valueChanged, this, [this] {
      if (!filling_) emit weightsEdited();
    });
    layers_->setCellWidget(row, kLambdaColumn, lambda);
    contentLayer_->addItem(name);
  }
  filling_ = false;

  if (pendingLayers_) {
    bool allKnown = rowOf(pendingLayers_->second) >= 0;
    for (const auto& [name, lambda] : pendingLayers_->first) allKnown = allKnown && rowOf(name) >= 0;
    if (allKnown) {
      applyLayerChoices(pendingLayers_->first, pendingLayers_->second);
      pendingLayers_.reset();
      pendingAlpha_.reset();
      pendingBeta_.reset();
      return;
    }
    pendingLayers_.reset();
  }
  applyLayerChoices(defaults.weights.styleLayers, defaults.contentLayer);
  alpha_->setValue(std::exchange(pendingAlpha_, std::nullopt).value_or(defaults.weights.alpha));
  beta_->setValue(std::exchange(pendingBeta_, std::nullopt).value_or(defaults.weights.beta));
}

void ParameterPanel::applyLayerChoices(const std::map<std::string, double>& styleLayers,
                                       const std::string& contentLayer) {
  filling_ = true;
  for (int row = 0; row < layers_->rowCount(); ++row) {
    const auto it = styleLayers.find(layers_->item(row, kLayerColumn)->text().toStdString());
    const bool used = it != styleLayers.end();
    layers_->item(row, kStyleColumn)->setCheckState(used ? Qt::Checked : Qt::Unchecked);
    if (auto* box = lambdaBox(row)) {
      box->setEnabled(used);
      if (used) box->setValue(it->second);
    }
  }
  const int content = contentLayer_->findText(QString::fromStdString(contentLayer));
  if (content >= 0) contentLayer_->setCurrentIndex(content);
  filling_ = false;
}

void ParameterPanel::setStyleLayer(const std::string& layer, bool used, std::optional<double> lambda) {
  const int row = rowOf(layer);
  if (row < 0) return;
  if (lambda) {
    if (auto* box = lambdaBox(row)) box->setValue(*lambda);
  }
  // Through the item, as a click would: itemChanged emits weightsEdited.
  layers_->item(row, kStyleColumn)->setCheckState(used ? Qt::Checked : Qt::Unchecked);
}

LossWeights ParameterPanel::weights() const {
  LossWeights w;
  w.alpha = alpha_->value();
  w.beta = beta_->value();
  w.tv = tv_->value();
  w.identity = keepIdentity_->isChecked() ? identity_->value() : 0.0;
  for (int row = 0; row < layers_->rowCount(); ++row) {
    if (layers_->item(row, kStyleColumn)->checkState() != Qt::Checked) continue;
    const ScientificSpinBox* box = lambdaBox(row);
    w.styleLayers[layers_->item(row, kLayerColumn)->text().toStdString()] = box ? box->value() : 1.0;
  }
  if (pendingLayers_ && !hasLayers()) w.styleLayers = pendingLayers_->first;
  return w;
}

RenderSettings ParameterPanel::settings() const {
  RenderSettings s;
  s.size = size_->value();
  s.iterations = iterations_->value();
  s.weights = weights();
  s.contentLayer = hasLayers() ? contentLayer_->currentText().toStdString()
                               : (pendingLayers_ ? pendingLayers_->second : std::string());
  s.optimizer = Optimizer(optimizer_->currentData().toInt());
  s.learningRate = learningRate_->value();
  s.init = InitKind(init_->currentData().toInt());
  s.seed = std::uint64_t(seed_->value());
  s.preserveColors = PreserveColors(preserveColors_->currentData().toInt());
  s.average = Averaging(average_->currentData().toInt());
  s.averageDecay = averageDecay_->value();
  return s;
}

void ParameterPanel::setSettings(const RenderSettings& s) {
  size_->setValue(s.size);
  iterations_->setValue(s.iterations);
  alpha_->setValue(s.weights.alpha);
  beta_->setValue(s.weights.beta);
  tv_->setValue(s.weights.tv);
  {
    filling_ = true;  // the caller submits the new settings as one change
    keepIdentity_->setChecked(s.weights.identity > 0.0);
    filling_ = false;
  }
  if (s.weights.identity > 0.0) identity_->setValue(s.weights.identity);
  optimizer_->setCurrentIndex(std::max(0, optimizer_->findData(int(s.optimizer))));
  learningRate_->setValue(s.learningRate);
  init_->setCurrentIndex(std::max(0, init_->findData(int(s.init))));
  seed_->setValue(int(std::min<std::uint64_t>(s.seed, std::uint64_t(std::numeric_limits<int>::max()))));
  preserveColors_->setCurrentIndex(std::max(0, preserveColors_->findData(int(s.preserveColors))));
  average_->setCurrentIndex(std::max(0, average_->findData(int(s.average))));
  averageDecay_->setValue(s.averageDecay);
  if (hasLayers()) {
    applyLayerChoices(s.weights.styleLayers, s.contentLayer);
  } else {
    pendingLayers_ = std::make_pair(s.weights.styleLayers, s.contentLayer);
    pendingAlpha_ = s.alphaFromModel ? std::nullopt : std::optional<double>(s.weights.alpha);
    pendingBeta_ = s.betaFromModel ? std::nullopt : std::optional<double>(s.weights.beta);
  }
}

Pooling ParameterPanel::pooling() const { return Pooling(pooling_->currentData().toInt()); }

void ParameterPanel::setPooling(Pooling pooling) {
  pooling_->setCurrentIndex(std::max(0, pooling_->findData(int(pooling))));
}

void ParameterPanel::setModelChoices(const QList<ModelChoice>& choices, const QString& currentId) {
  const QSignalBlocker block(model_);
  model_->clear();
  for (const ModelChoice& c : choices) {
    model_->addItem(c.usable ? c.title : tr("%1 (%2)").arg(c.title, c.state), c.id);
    model_->setItemData(
        model_->count() - 1,
        c.description.isEmpty() ? c.state : QStringLiteral("%1\n%2").arg(c.description, c.state),
        Qt::ToolTipRole);
  }
  model_->setCurrentIndex(std::max(0, model_->findData(currentId)));
}

QString ParameterPanel::currentModelId() const { return model_->currentData().toString(); }

void ParameterPanel::setModelState(const QString& text) { modelState_->setText(text); }

void ParameterPanel::showModel(const Model& model, const RenderSettings& defaults) {
  setModelLayers(model.layerNames(), defaults);
  const ModelManifest& manifest = model.manifest();
  setModelState(tr("Ready: %1 layers").arg(model.layerNames().size()));
  model_->setToolTip(QString::fromStdString(manifest.title.empty() ? manifest.name : manifest.title));
}

void ParameterPanel::setRunning(bool running) {
  for (QWidget* w : lockedWhileRunning_) w->setEnabled(!running);
  averageDecay_->setEnabled(!running && Averaging(average_->currentData().toInt()) == Averaging::Ema);
}

}  // namespace impasto
