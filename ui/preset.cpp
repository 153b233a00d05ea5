#include "ui/preset.h"

#include <cstddef>

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include "core/util/version.h"
#include "core/io/atomic_file.h"
#include "core/util/error.h"
#include "core/io/image_io.h"

namespace impasto {

namespace {

// Each enum's preset spelling, written and read through the same table.
template <typename E>
struct Spelling {
  E value;
  const char* name;
};

constexpr Spelling<Pooling> kPoolings[] = {
    {Pooling::Max, "max"}, {Pooling::Avg, "avg"}, {Pooling::AsTrained, "as-trained"}};
constexpr Spelling<Optimizer> kOptimizers[] = {{Optimizer::Lbfgs, "lbfgs"}, {Optimizer::Adam, "adam"}};
constexpr Spelling<InitKind> kInits[] = {
    {InitKind::Content, "content"}, {InitKind::Noise, "noise"}, {InitKind::Image, "image"}};

template <typename E, std::size_t N>
QString nameOf(const Spelling<E> (&table)[N], E value) {
  for (const auto& entry : table)
    if (entry.value == value) return QLatin1String(entry.name);
  return QLatin1String(table[0].name);  // unreachable while the tables cover every value
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

template <typename E, std::size_t N>
E choice(const QJsonObject& o, const char* key, const Spelling<E> (&table)[N], const QString& origin) {
  const QString v = text(o, key, origin);
  QStringList names;
  for (const auto& entry : table) {
    if (v == QLatin1String(entry.name)) return entry.value;
    names << QLatin1String(entry.name);
  }
  const QString last = names.takeLast();
  bad(origin, QStringLiteral("'%1' must be %2 or %3").arg(QLatin1String(key), names.join(QStringLiteral(", ")), last));
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
      {QStringLiteral("pooling"), nameOf(kPoolings, p.pooling)},
      {QStringLiteral("size"), s.size},
      {QStringLiteral("iterations"), s.iterations},
      {QStringLiteral("alpha"), s.weights.alpha},
      {QStringLiteral("beta"), s.weights.beta},
      {QStringLiteral("style_layers"), layers},
      {QStringLiteral("tv"), s.weights.tv},
      {QStringLiteral("content_layer"), QString::fromStdString(s.contentLayer)},
      {QStringLiteral("optimizer"), nameOf(kOptimizers, s.optimizer)},
      {QStringLiteral("lr"), s.learningRate},
      {QStringLiteral("init"), nameOf(kInits, s.init)},
      // JSON numbers are doubles: a seed above 2^53 would not survive, and seeds here are ints.
      {QStringLiteral("seed"), double(s.seed)},
      {QStringLiteral("style_blend"), blend},
      {QStringLiteral("impasto_version"), QString::fromLatin1(version())},
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
  if (has("pooling")) p.pooling = choice(o, "pooling", kPoolings, origin);
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
  if (has("optimizer")) s.optimizer = choice(o, "optimizer", kOptimizers, origin);
  if (has("lr")) s.learningRate = number(o, "lr", origin);
  if (has("init")) s.init = choice(o, "init", kInits, origin);
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
