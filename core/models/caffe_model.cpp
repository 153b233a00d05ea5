#include "core/models/caffe_model.h"

#include <cstdio>

#include "core/io/private_file.h"
#include "core/models/dnn_layers.h"
#include "core/models/embedded_files.h"
#include "core/util/error.h"

namespace impasto {

namespace fs = std::filesystem;

namespace {

// OpenCV reads a prototxt from a file or reads both parts from memory; a built-in
// prototxt goes through a private temporary file, so the weights (over 500 MB
// for VGG) are still read straight from their file. The file sits in a fresh
// mkdtemp folder (mode 0700, unpredictable name) and is created with O_EXCL:
// nothing planted in a shared /tmp can redirect or read the write.
class TemporaryCopy {
 public:
  TemporaryCopy(std::string_view name, std::string_view text)
      : dir_(fs::temp_directory_path(), "impasto-caffe-"), path_(dir_.path() / std::string(name)) {
    const FilePtr out = createFileExclusively(path_);
    if (std::fwrite(text.data(), 1, text.size(), out.get()) != text.size() || std::fflush(out.get()) != 0)
      throw Error(ErrorKind::Output,
                  "Cannot write a temporary file in " + dir_.path().string() +
                      "; check that it exists, is writable and has free space (or set TMPDIR)");
  }
  const fs::path& path() const { return path_; }

 private:
  PrivateTempDir dir_;  // removed with the file when the copy goes
  fs::path path_;
};

}  // namespace

std::string CaffePrototxt::describe() const {
  return file.empty() ? std::string(builtinName) + " (built in)" : file.string();
}

std::vector<LayerSpec> readCaffeLayers(const CaffePrototxt& prototxt, const fs::path& caffemodel) {
  const std::string origin = caffemodel.string();
  std::optional<TemporaryCopy> copy;
  if (prototxt.file.empty()) copy.emplace(prototxt.builtinName, prototxt.builtinText);
  const fs::path prototxtFile = copy ? copy->path() : prototxt.file;
  return readDnnLayers([&] { return cv::dnn::readNetFromCaffe(prototxtFile.string(), caffemodel.string()); },
                       "the Caffe model " + origin + " with " + prototxt.describe(),
                       "do the prototxt and the weights belong together?", origin);
}

std::optional<CaffePrototxt> findCaffePrototxt(const fs::path& caffemodel) {
  const auto dir = caffemodel.parent_path();
  const std::string stem = caffemodel.stem().string();
  std::error_code ec;
  for (const auto& candidate :
       {dir / (stem + ".prototxt"), dir / (stem + "_deploy.prototxt"), dir / "deploy.prototxt"})
    if (fs::is_regular_file(candidate, ec)) return CaffePrototxt{candidate, {}, {}};
  // The published VGG weights come without a deploy file that OpenCV likes.
  std::string_view builtin;
  if (stem.rfind("VGG_ILSVRC_19_layers", 0) == 0) builtin = "vgg19_deploy.prototxt";
  if (stem.rfind("VGG_ILSVRC_16_layers", 0) == 0) builtin = "vgg16_deploy.prototxt";
  for (const EmbeddedFile& file : builtinCaffePrototxts())
    if (!builtin.empty() && file.fileName == builtin) return CaffePrototxt{{}, file.fileName, file.bytes};
  return std::nullopt;
}

}  // namespace impasto
