#include "ui/preset.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/image_io.h"

namespace impasto {

namespace {

QString optimizerName(Optimizer o) { return o == Optimizer::Adam ? QStringLiteral("adam") : QStringLiteral("lbfgs"); }

QString initName(InitKind k) {
  switch (k) {
    case InitKind::Noise: return QStringLiteral("noise");
    case InitKind::Image: return QStringLiteral("image");
    case InitKind::Content: break;
  }
  return QStringLiteral("content");
}

QString poolingName(Pooling p) {
  switch (p) {
    case Pooling::Max: return QStringLiteral("max");
    case Pooling::Avg: return QStringLiteral("avg");
    case Pooling::AsTrained: break;
  }
  return QStringLiteral("as-trained");
}

[[noreturn]] void bad(const QString& origin, const QString& what) {
  throw Error(ErrorKind::Usage, QStringLiteral("Preset %1: %2").arg(origin, what).toStdString());
}

double number(const QJsonObject& o, const char* key, const QString& origin) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (!v.isDouble()) bad(origin, QStringLiteral("'%1' must be a number").arg(QLatin1String(key)));
  return v.toDouble();
}

QString text(const QJsonObject& o, const char* key, const QString& origin) {
  const QJsonValue v = o.value(QLatin1String(key));
  if (!v.isString()) bad(origin, QStringLiteral("'%1' must be a string").arg(QLatin1String(key)));
  return v.toString();
}

}  // namespace

QByteArray presetToJson(const Preset& p) {
  const RenderSettings& s = p.settings;
  QJsonObject layers;
  for (const auto& [name, lambda] : s.weights.styleLayers) layers.insert(QString::fromStdString(name), lambda);
  QJsonArray blend;
  for (double w : p.styleBlend) blend.append(w);
  QJsonObject o{
      {QStringLiteral("model"), p.model},
      {QStringLiteral("pooling"), poolingName(p.pooling)},
      {QStringLiteral("size"), s.size},
      {QStringLiteral("iterations"), s.iterations},
      {QStringLiteral("alpha"), s.weights.alpha},
      {QStringLiteral("beta"), s.weights.beta},
      {QStringLiteral("style_layers"), layers},
      {QStringLiteral("tv"), s.weights.tv},
      {QStringLiteral("content_layer"), QString::fromStdString(s.contentLayer)},
      {QStringLiteral("optimizer"), optimizerName(s.optimizer)},
      {QStringLiteral("lr"), s.learningRate},
      {QStringLiteral("init"), initName(s.init)},
      // JSON numbers are doubles: a seed above 2^53 would not survive, and seeds here are ints.
      {QStringLiteral("seed"), double(s.seed)},
      {QStringLiteral("style_blend"), blend},
      {QStringLiteral("impasto_version"), QStringLiteral(IMPASTO_VERSION)},
  };
  return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

void applyPresetJson(const QByteArray& json, Preset& into, const QString& origin) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
  if (doc.isNull()) bad(origin, QStringLiteral("not valid JSON (%1)").arg(error.errorString()));
  if (!doc.isObject()) bad(origin, QStringLiteral("expected a JSON object"));
  const QJsonObject o = doc.object();
  Preset p = into;  // all or nothing: a bad field leaves `into` untouched
  RenderSettings& s = p.settings;
  auto has = [&](const char* key) { return o.contains(QLatin1String(key)); };
  if (has("model")) p.model = text(o, "model", origin);
  if (has("pooling")) {
    const QString v = text(o, "pooling", origin);
    if (v == QLatin1String("max")) p.pooling = Pooling::Max;
    else if (v == QLatin1String("avg")) p.pooling = Pooling::Avg;
    else if (v == QLatin1String("as-trained")) p.pooling = Pooling::AsTrained;
    else bad(origin, QStringLiteral("'pooling' must be max, avg or as-trained"));
  }
  if (has("size")) s.size = int(number(o, "size", origin));
  if (has("iterations")) s.iterations = int(number(o, "iterations", origin));
  if (has("alpha")) s.weights.alpha = number(o, "alpha", origin);
  if (has("beta")) s.weights.beta = number(o, "beta", origin);
  if (has("tv")) s.weights.tv = number(o, "tv", origin);
  if (has("style_layers")) {
    const QJsonValue v = o.value(QLatin1String("style_layers"));
    if (!v.isObject()) bad(origin, QStringLiteral("'style_layers' must map layer names to λ"));
    s.weights.styleLayers.clear();
    const QJsonObject layers = v.toObject();
    for (auto it = layers.begin(); it != layers.end(); ++it) {
      if (!it.value().isDouble()) bad(origin, QStringLiteral("λ of layer '%1' must be a number").arg(it.key()));
      s.weights.styleLayers[it.key().toStdString()] = it.value().toDouble();
    }
  }
  if (has("content_layer")) s.contentLayer = text(o, "content_layer", origin).toStdString();
  if (has("optimizer")) {
    const QString v = text(o, "optimizer", origin);
    if (v == QLatin1String("lbfgs")) s.optimizer = Optimizer::Lbfgs;
    else if (v == QLatin1String("adam")) s.optimizer = Optimizer::Adam;
    else bad(origin, QStringLiteral("'optimizer' must be lbfgs or adam"));
  }
  if (has("lr")) s.learningRate = number(o, "lr", origin);
  if (has("init")) {
    const QString v = text(o, "init", origin);
    if (v == QLatin1String("content")) s.init = InitKind::Content;
    else if (v == QLatin1String("noise")) s.init = InitKind::Noise;
    else if (v == QLatin1String("image")) s.init = InitKind::Image;
    else bad(origin, QStringLiteral("'init' must be content, noise or image"));
  }
  if (has("seed")) {
    const double seed = number(o, "seed", origin);
    if (seed < 0) bad(origin, QStringLiteral("'seed' must not be negative"));
    s.seed = std::uint64_t(seed);
  }
  if (has("style_blend")) {
    const QJsonValue v = o.value(QLatin1String("style_blend"));
    if (!v.isArray()) bad(origin, QStringLiteral("'style_blend' must be a list of numbers"));
    p.styleBlend.clear();
    for (const QJsonValue& w : v.toArray()) {
      if (!w.isDouble()) bad(origin, QStringLiteral("'style_blend' must be a list of numbers"));
      p.styleBlend.push_back(w.toDouble());
    }
  }
  if (s.size < 16 || s.size > 16384) bad(origin, QStringLiteral("'size' must be between 16 and 16384"));
  if (s.iterations < 1) bad(origin, QStringLiteral("'iterations' must be at least 1"));
  into = std::move(p);
}

void savePresetFile(const Preset& preset, const QString& path) {
  const QByteArray json = presetToJson(preset);
  writeFileAtomically(path.toStdString(), json.toStdString());
}

void loadPresetFile(const QString& path, Preset& into) {
  const QString name = QFileInfo(path).fileName();
  if (path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive)) {
    const auto chunks = readPngText(path.toStdString());
    const auto it = chunks.find(kSettingsKey);
    if (it == chunks.end())
      throw Error(ErrorKind::Input, QStringLiteral("%1 holds no Impasto settings: only PNGs exported by Impasto do.")
                                        .arg(name)
                                        .toStdString());
    applyPresetJson(QByteArray::fromStdString(it->second), into, name);
    return;
  }
  // QFile, not core's reader: built-in presets live in Qt resources (":/presets").
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    throw Error(ErrorKind::Input,
                QStringLiteral("Cannot read the preset %1: %2").arg(path, file.errorString()).toStdString());
  applyPresetJson(file.readAll(), into, name);
}

}  // namespace impasto
