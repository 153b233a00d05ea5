#include "ui/final_render.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QThread>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/engine/checkpoint_file.h"
#include "core/io/atomic_file.h"
#include "core/io/image_io.h"
#include "core/library/sha256.h"
#include "core/util/error.h"
#include "ui/render_controller.h"
#include "ui/render_record.h"

namespace impasto {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kCheckpointName = "final-render.checkpoint";
constexpr const char* kKind = "impasto-studio-final-render";
// The saved inputs: a header line, the size, then RGB float32 rows. Exact
// (an 8-bit PNG would round a 16-bit photo), and read back without a decoder.
constexpr const char* kImageMagic = "IMPASTO-RGBF32\n";

double monotonicNow() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string imageBytes(const cv::Mat& rgb) {
  const cv::Mat image = rgb.isContinuous() ? rgb : rgb.clone();
  std::string bytes = kImageMagic;
  bytes += std::to_string(image.cols) + " " + std::to_string(image.rows) + "\n";
  const std::size_t size = image.total() * image.elemSize();
  const std::size_t header = bytes.size();
  bytes.resize(header + size);
  std::memcpy(bytes.data() + header, image.data, size);
  return bytes;
}

cv::Mat imageFromBytes(const std::string& bytes) {
  const std::size_t magic = std::strlen(kImageMagic);
  const std::size_t end = bytes.find('\n', magic);
  int width = 0, height = 0;
  if (bytes.compare(0, magic, kImageMagic) != 0 || end == std::string::npos ||
      std::sscanf(bytes.c_str() + magic, "%d %d", &width, &height) != 2 || width <= 0 || height <= 0 ||
      std::int64_t(width) * height > kMaxImagePixels ||
      bytes.size() - end - 1 != std::size_t(width) * std::size_t(height) * 3 * sizeof(float))
    throw Error(ErrorKind::Input, "A saved input image of the final render is damaged");
  cv::Mat image(height, width, CV_32FC3);
  std::memcpy(image.data, bytes.data() + end + 1, image.total() * image.elemSize());
  return image;
}

std::string describe(const FinalRender::Description& d, const Json& files) {
  Json settings = Json::parse(presetToJson(d.preset, JsonStyle::Compact));
  settings.erase("impasto_version");  // a newer build may continue an older one's render
  return Json{{"kind", kKind},
              {"settings", settings},
              {"model", d.modelId.toStdString()},
              {"files", files},
              {"output", d.output.toStdString()}}
      .dump();
}

}  // namespace

FinalRender::FinalRender(QString folder, QObject* parent)
    : QObject(parent), folder_(std::move(folder)), controller_(new RenderController(this)) {
  controller_->setMaxFramesPerSecond(2.0);  // a print-size frame is large: the window shows a few
  controller_->setCheckpointSink([this](const RenderState& state) { onCheckpointOnWorker(state); });
  connect(controller_, &RenderController::finished, this, &FinalRender::onFinished);
  connect(controller_, &RenderController::failed, this, &FinalRender::failed);
  connect(controller_, &RenderController::stepsReported, this, [this](const QList<StepReport>& reports) {
    if (!reports.isEmpty()) workRate_.add(monotonicNow(), reports.back().progress);
  });
}

FinalRender::~FinalRender() {
  // Join the render before this object's members go: the worker saves
  // checkpoints through them until it sees the cancel.
  delete controller_;
}

QString FinalRender::defaultFolder() {
  const QString base = qEnvironmentVariableIsSet("IMPASTO_DATA_DIR")
                           ? qEnvironmentVariable("IMPASTO_DATA_DIR")
                           : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  return QDir(base).filePath(QStringLiteral("final-render"));
}

QString FinalRender::checkpointPath() const {
  return QDir(folder_).filePath(QString::fromLatin1(kCheckpointName));
}

bool FinalRender::isRunning() const { return controller_->isRunning(); }

bool FinalRender::hasCheckpoint() const { return QFileInfo::exists(checkpointPath()); }

void FinalRender::setCheckpointInterval(int steps, double seconds) {
  checkpointEvery_ = steps;
  checkpointSeconds_ = seconds;
}

void FinalRender::saveInputs(const RenderJob& job) {
  if (!QDir().mkpath(folder_))
    throw Error(ErrorKind::Output, tr("Could not create %1 for the final render's checkpoint.")
                                       .arg(QDir::toNativeSeparators(folder_))
                                       .toStdString());
  const fs::path dir = folder_.toStdString();
  auto save = [&](const cv::Mat& image, const std::string& name) {
    const std::string bytes = imageBytes(image);
    writeFileAtomically(dir / name, bytes);
    return Json{{"path", name}, {"sha256", Sha256::hashHex(bytes)}};
  };
  Json styles = Json::array();
  for (std::size_t i = 0; i < job.styles.size(); ++i)
    styles.push_back(save(job.styles[i], "style-" + std::to_string(i) + ".rgbf32"));
  Json files{{"content", save(job.content, "content.rgbf32")}, {"styles", styles}};
  if (!job.initImage.empty()) files["init_image"] = save(job.initImage, "init.rgbf32");
  identity_ = describe(description_, files);
}

void FinalRender::start(RenderJob job, const Description& description) {
  if (isRunning()) throw Error(ErrorKind::Usage, tr("A final render is running already.").toStdString());
  checkOutputWritable(description.output.toStdString());
  description_ = description;
  fs::remove(checkpointPath().toStdString());  // a new render replaces an old one's checkpoint
  saveInputs(job);
  run(std::move(job));
}

void FinalRender::resume(Saved saved, ModelPtr model) {
  if (isRunning()) throw Error(ErrorKind::Usage, tr("A final render is running already.").toStdString());
  description_ = saved.description;
  saved.job.model = withPooling(model, saved.description.preset.pooling);
  const int resumedFrom = saved.job.resumeFrom ? saved.job.resumeFrom->iteration : 0;
  // The identity is the checkpoint's own: keep saving under it.
  identity_ = loadCheckpoint(checkpointPath().toStdString()).render;
  run(std::move(saved.job));
  resumedFrom_ = resumedFrom;
}

void FinalRender::run(RenderJob job) {
  job.checkpointEvery = checkpointEvery_;
  job.checkpointSeconds = checkpointSeconds_;
  job.settings.frameEvery = 1;
  job.settings.threads = std::max(1, QThread::idealThreadCount() - 1);
  checkpointsSaved_ = 0;
  resumedFrom_ = 0;
  workRate_.reset();
  controller_->start(std::move(job));
}

void FinalRender::cancel() { controller_->stop(); }

void FinalRender::onCheckpointOnWorker(const RenderState& state) {
  // On the render thread: G is saved without a copy; a failed save costs a
  // checkpoint, not the render.
  try {
    saveCheckpoint(Checkpoint{identity_, state}, checkpointPath().toStdString());
  } catch (const std::exception& e) {
    const QString message = tr("Could not save the final render's checkpoint: %1").arg(e.what());
    QMetaObject::invokeMethod(
        this, [this, message] { emit failed(message); }, Qt::QueuedConnection);
    return;
  }
  const int iteration = state.iteration;
  QMetaObject::invokeMethod(
      this,
      [this, iteration] {
        ++checkpointsSaved_;
        emit checkpointSaved(iteration);
      },
      Qt::QueuedConnection);
}

void FinalRender::onFinished(bool cancelled) {
  if (cancelled) {
    emit finished(true, description_.output);
    return;
  }
  try {
    RenderRecord record;
    record.begin(description_.preset);
    SaveOptions options;
    options.jpegQuality = 100;
    options.pngText = record.exportMetadata(controller_->lastReport().iteration);
    saveImage(controller_->result(), description_.output.toStdString(), options);
  } catch (const std::exception& e) {
    // The checkpoint stays: the render can be resumed and written elsewhere.
    emit failed(tr("The final render could not be written: %1").arg(e.what()));
    return;
  }
  discard();
  emit finished(false, description_.output);
}

void FinalRender::discard() {
  if (isRunning()) return;
  QDir(folder_).removeRecursively();
}

FinalRender::Saved FinalRender::loadSaved() const {
  const Checkpoint checkpoint = loadCheckpoint(checkpointPath().toStdString());
  const Json render = Json::parse(checkpoint.render, nullptr, false);
  if (!render.is_object() || render.value("kind", std::string()) != kKind)
    throw Error(ErrorKind::Input, "The checkpoint is not one of a studio final render");
  Saved saved;
  try {
    saved.description.output = QString::fromStdString(render.at("output").get<std::string>());
    saved.description.modelId = QString::fromStdString(render.at("model").get<std::string>());
    applyPresetJson(render.at("settings").dump(), saved.description.preset, "in the checkpoint");
    const fs::path dir = folder_.toStdString();
    auto load = [&](const Json& entry) {
      const std::string name = entry.at("path").get<std::string>();
      if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
        throw Error(ErrorKind::Input, "The checkpoint names an input outside its folder");
      const std::string bytes = readFileBytes(dir / name, std::uintmax_t(kMaxImagePixels) * 12 + 64);
      if (!sha256Matches(entry.at("sha256").get<std::string>(), Sha256::hashHex(bytes)))
        throw Error(ErrorKind::Input, "The final render's saved " + name +
                                          " does not match its checkpoint: it was changed or damaged");
      return imageFromBytes(bytes);
    };
    const Json& files = render.at("files");
    saved.job.content = load(files.at("content"));
    for (const Json& style : files.at("styles")) saved.job.styles.push_back(load(style));
    if (files.contains("init_image")) saved.job.initImage = load(files.at("init_image"));
  } catch (const Json::exception&) {
    throw Error(ErrorKind::Input, "The checkpoint's description of its render is damaged");
  }
  if (saved.job.styles.empty()) throw Error(ErrorKind::Input, "The checkpoint's render has no style image");
  saved.job.settings = saved.description.preset.settings;
  saved.job.styleBlend = saved.description.preset.styleBlend;
  saved.job.resumeFrom = checkpoint.state;
  return saved;
}

}  // namespace impasto
