#pragma once

#include <QList>
#include <QWidget>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/render.h"
#include "core/models/model.h"
#include "ui/model_choice.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace impasto {

class LogSlider;
class ScientificSpinBox;

// The knobs of a render: the model, α and β, the portrait guard (Keep
// identity, γ, face boxes), the per-layer λ table and the content layer, output size, iterations, optimiser,
// init, seed, TV, pooling, colour preservation and iterate averaging. Weights (α, β, λ, the layer check
// boxes, TV, γ) stay editable while a render runs and are applied live; the rest is locked until it ends.
class ParameterPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ParameterPanel(QWidget* parent = nullptr);

  // The model whose layers the table shows, and its defaults (resolved settings).
  // Layer choices set earlier by setSettings are kept when the new model has them.
  void setModelLayers(const std::vector<std::string>& layers, const RenderSettings& defaults);
  void clearModelLayers();
  bool hasLayers() const;

  RenderSettings settings() const;
  void setSettings(const RenderSettings& settings);
  LossWeights weights() const;

  Pooling pooling() const;
  void setPooling(Pooling pooling);

  void setModelChoices(const QList<ModelChoice>& choices, const QString& currentId);
  QString currentModelId() const;
  void setModelState(const QString& text);
  // A model is ready: its layers and defaults in the table, "Ready: N layers",
  // and its long title as the picker's tooltip.
  void showModel(const Model& model, const RenderSettings& defaults);

  void setRunning(bool running);

  // The portrait guard's controls. Without the face models Keep identity and
  // the face boxes are disabled, with why (and the download command) as tooltip.
  void setFaceModelsAvailable(bool available, const QString& why = {});
  // "2 faces", "No faces in the content", "Looking for faces…"
  void setFaceState(const QString& text);
  bool showFaceBoxes() const;

  // For tests and presets: direct access to the live controls.
  LogSlider* alphaSlider() const { return alpha_; }
  LogSlider* betaSlider() const { return beta_; }
  LogSlider* tvSlider() const { return tv_; }
  LogSlider* identitySlider() const { return identity_; }
  QCheckBox* keepIdentityBox() const { return keepIdentity_; }
  QCheckBox* faceBoxesBox() const { return faceBoxes_; }
  QLabel* faceStateLabel() const { return faceState_; }
  QTableWidget* layerTable() const { return layers_; }
  QComboBox* modelCombo() const { return model_; }
  QComboBox* preserveColorsCombo() const { return preserveColors_; }
  QComboBox* averageCombo() const { return average_; }
  void setStyleLayer(const std::string& layer, bool used, std::optional<double> lambda = std::nullopt);

 signals:
  // α, β, a λ, a layer check box, TV, Keep identity or γ changed by the user.
  void weightsEdited();
  void showFaceBoxesToggled(bool on);
  void modelChosen(const QString& id);
  void poolingChosen();
  void manageModelsRequested();

 private:
  QWidget* buildModelGroup();
  QWidget* buildWeightsGroup();
  QWidget* buildPortraitGroup();
  QWidget* buildLayersGroup();
  void updatePortraitControls();
  QWidget* buildOutputGroup();
  void applyLayerChoices(const std::map<std::string, double>& styleLayers, const std::string& contentLayer);
  int rowOf(const std::string& layer) const;
  ScientificSpinBox* lambdaBox(int row) const;

  QComboBox* model_ = nullptr;
  QLabel* modelState_ = nullptr;
  QPushButton* manage_ = nullptr;
  QComboBox* pooling_ = nullptr;
  LogSlider* alpha_ = nullptr;
  LogSlider* beta_ = nullptr;
  LogSlider* tv_ = nullptr;
  QCheckBox* keepIdentity_ = nullptr;
  LogSlider* identity_ = nullptr;
  QCheckBox* faceBoxes_ = nullptr;
  QLabel* faceState_ = nullptr;
  bool faceModelsAvailable_ = true;
  QTableWidget* layers_ = nullptr;
  QComboBox* contentLayer_ = nullptr;
  QSpinBox* size_ = nullptr;
  QSpinBox* iterations_ = nullptr;
  QComboBox* optimizer_ = nullptr;
  ScientificSpinBox* learningRate_ = nullptr;
  QComboBox* init_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QComboBox* preserveColors_ = nullptr;
  QComboBox* average_ = nullptr;
  QDoubleSpinBox* averageDecay_ = nullptr;
  QList<QWidget*> lockedWhileRunning_;
  bool filling_ = false;
  // Layer choices from a preset that arrived before the model's layers.
  std::optional<std::pair<std::map<std::string, double>, std::string>> pendingLayers_;
  // α and β that settings named before the model's layers arrived; the
  // model's defaults fill in the ones they left to it.
  std::optional<double> pendingAlpha_, pendingBeta_;
};

}  // namespace impasto
