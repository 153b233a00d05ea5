// Benchmark: does the portrait guard keep portraits the same person under
// strong style? Renders each photo without the identity term and with each γ
// given, and prints three d(C, G) for every face of the content: at the
// aligned crop alone (what the term could fool), the guard's (the done
// line's: the largest over its own cuts, which the term never sees) and with
// the face found again in G by the detector and aligned by G's own landmarks;
// below 0.6 the same person.
//
//   impasto-identity-bench --model FILE --style FILE [--photos DIR] [--image FILE]...
//                          [--size 256] [--iterations 200] [--beta 1e6] [--gammas 0,1000]
//                          [--threads 1] [--pad 0.5] [--save DIR]
//
// --photos: every .png/.jpg in DIR (not its subfolders); --image: one more
// photo (repeatable). The detector finds few faces in tight face crops
// (face-api.js's 150 px examples): photos of at most 160 px get a blurred
// border of their own edges, --pad (0.5) times their side each way, so that
// the face has the context a photo has. The table says which were padded.
// Needs the face models ($IMPASTO_FACE_MODELS or the installed face-api).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/engine/cpu_allocator.h"
#include "core/engine/render.h"
#include "core/faces/face_analyzer.h"
#include "core/faces/portrait_guard.h"
#include "core/io/image_io.h"
#include "core/library/face_model_location.h"
#include "core/models/model.h"
#include "core/util/error.h"

namespace {

using namespace impasto;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Photo {
  std::string name;
  cv::Mat rgb;
  bool padded = false;
};

// A tight face crop (at most kCropSide) with a blurred border of its own
// edges, `pad` times its side each way: the detector sees few faces in the
// crops as they are.
constexpr int kCropSide = 160;
Photo withContext(const fs::path& path, double pad) {
  Photo photo{path.filename().string(), loadImage(path)};
  if (std::max(photo.rgb.cols, photo.rgb.rows) > kCropSide || pad <= 0) return photo;
  const int border = int(std::max(photo.rgb.cols, photo.rgb.rows) * pad);
  cv::Mat padded;
  cv::copyMakeBorder(photo.rgb, padded, border, border, border, border, cv::BORDER_REPLICATE);
  cv::Mat blurred;
  cv::GaussianBlur(padded, blurred, cv::Size(0, 0), border / 4.0);
  photo.rgb.copyTo(blurred(cv::Rect(border, border, photo.rgb.cols, photo.rgb.rows)));
  photo.rgb = blurred;
  photo.padded = true;
  return photo;
}

std::vector<double> parseList(const std::string& text) {
  std::vector<double> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) values.push_back(std::stod(item));
  return values;
}

struct Outcome {
  std::vector<double> aligned;      // d at the one exact crop the old guard measured
  std::vector<FaceIdentity> faces;  // the guard's d (the done line's): the largest over its cuts
  std::vector<double> foundAgain;   // d with G's face found and aligned in G itself; < 0: not found
  double seconds = 0;
};

// d at the aligned region alone (C at G's size and G cut alike): what a
// network fooled at that one crop reports.
std::vector<double> alignedDistances(const FaceModels& models, const PortraitGuard& guard,
                                     const cv::Mat& contentAtSize, const cv::Mat& generated) {
  std::vector<double> distances;
  for (const FaceRect& r : alignedRegionsAt(guard.faces(), guard.contentSize(), generated.size())) {
    const cv::Rect cut(int(r.x), int(r.y), int(r.width), int(r.height));
    distances.push_back(cut.area() == 0 ? -1.0
                                        : descriptorDistance(models.describe(contentAtSize(cut).clone()),
                                                             models.describe(generated(cut).clone())));
  }
  return distances;
}

// The check that owes nothing to the regions the term keeps: the whole face
// pipeline run on G by itself (detector, landmarks, alignment), as on C at
// G's size, the detector's input at the image's own size (faces in a
// 768 px picture are too small for its default 416). Each guarded region is matched with the face of each
// image whose aligned box overlaps it most (IoU at least 0.3); -1 where G has none.
std::vector<double> foundAgainDistances(const FaceModels& models, const std::vector<FaceRect>& regions,
                                        const cv::Mat& contentAtSize, const cv::Mat& generated) {
  const auto match = [](const std::vector<FaceAnalysis>& faces, const FaceRect& region) {
    const FaceAnalysis* best = nullptr;
    double bestIou = 0.3;
    for (const FaceAnalysis& face : faces)
      if (const double iou = intersectionOverUnion(face.aligned, region); iou >= bestIou)
        bestIou = iou, best = &face;
    return best;
  };
  const int inputSize = (std::max(generated.cols, generated.rows) + 31) / 32 * 32;
  const std::vector<FaceAnalysis> inContent = models.analyze(contentAtSize, inputSize);
  const std::vector<FaceAnalysis> inGenerated = models.analyze(generated, inputSize);
  std::vector<double> distances;
  for (const FaceRect& region : regions) {
    const FaceAnalysis* c = match(inContent, region);
    const FaceAnalysis* g = match(inGenerated, region);
    distances.push_back(c && g ? descriptorDistance(c->descriptor, g->descriptor) : -1.0);
  }
  return distances;
}

Outcome renderOne(const Photo& photo, const cv::Mat& style, const ModelPtr& model,
                  const std::shared_ptr<const FaceModels>& faces, double gamma, int size, int iterations,
                  double beta, int threads, const std::string& save) {
  RenderJob job;
  job.content = photo.rgb;
  job.styles = {style};
  job.model = model;
  job.settings.size = size;
  job.settings.scales = 1;
  job.settings.iterations = iterations;
  job.settings.alphaFromModel = true;
  job.settings.weights.beta = beta;
  job.settings.weights.identity = gamma;
  job.settings.threads = threads;
  job.settings.frameEvery = iterations + 1;
  job.settings = resolveSettings(job.settings, *model);
  if (gamma > 0) job.faceModels = faces;
  RenderObserver quiet;
  RenderControl control;
  const auto start = Clock::now();
  const RenderResult result = render(job, quiet, control);
  Outcome outcome;
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const PortraitGuard guard(*faces, job.content);
  cv::Mat contentAtSize;
  cv::resize(job.content, contentAtSize, result.image.size(), 0, 0, cv::INTER_AREA);
  outcome.aligned = alignedDistances(*faces, guard, contentAtSize, result.image);
  outcome.faces = guard.measure(result.image);
  outcome.foundAgain =
      foundAgainDistances(*faces, alignedRegionsAt(guard.faces(), guard.contentSize(), result.image.size()),
                          contentAtSize, result.image);
  if (!save.empty()) {
    std::ostringstream name;
    name << fs::path(photo.name).stem().string() << "-gamma" << gamma << ".png";
    saveImage(result.image, fs::path(save) / name.str());
  }
  return outcome;
}

// "0.01/0.35/0.41" per face: d at the aligned crop, the guard's d, the
// found-again d ("-" where the face was not found in G); "!" after a d of
// 0.6 or more.
std::string distances(const Outcome& outcome) {
  const auto cell = [](double d) {
    char text[16];
    if (d < 0) return std::string("-");
    std::snprintf(text, sizeof text, "%.2f%s", d, d >= kSamePersonThreshold ? "!" : "");
    return std::string(text);
  };
  std::string text;
  for (std::size_t i = 0; i < outcome.faces.size(); ++i) {
    if (!text.empty()) text += " ";
    text += cell(outcome.aligned[i]) + "/" + cell(outcome.faces[i].distance) + "/" +
            cell(i < outcome.foundAgain.size() ? outcome.foundAgain[i] : -1.0);
  }
  return text.empty() ? "-" : text;
}

}  // namespace

int main(int argc, char** argv) {
  installReusingCpuAllocator();
  std::string modelPath, stylePath, photosDir, save;
  std::vector<fs::path> images;
  int size = 256, iterations = 200, threads = 1;
  double beta = 1e6;
  double pad = 0.5;
  std::vector<double> gammas = {0.0, kDefaultIdentity};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model") modelPath = value;
    if (flag == "--style") stylePath = value;
    if (flag == "--photos") photosDir = value;
    if (flag == "--image") images.emplace_back(value);
    if (flag == "--size") size = std::stoi(value);
    if (flag == "--iterations") iterations = std::stoi(value);
    if (flag == "--beta") beta = std::stod(value);
    if (flag == "--gammas") gammas = parseList(value);
    if (flag == "--threads") threads = std::stoi(value);
    if (flag == "--save") save = value;
    if (flag == "--pad") pad = std::stod(value);
  }
  if (modelPath.empty() || stylePath.empty()) {
    std::fprintf(
        stderr, "usage: impasto-identity-bench --model FILE --style FILE [--photos DIR] [--image FILE]...\n");
    return 2;
  }
  try {
    if (!photosDir.empty()) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(photosDir)) {
        const std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".png" || ext == ".jpg")) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      images.insert(images.begin(), found.begin(), found.end());
    }
    const auto faceModels = std::make_shared<const FaceModels>(locateFaceModels());
    const ModelPtr model = loadModelFile(modelPath);
    const cv::Mat style = loadImage(stylePath);
    if (!save.empty()) fs::create_directories(save);
    std::printf("%s, style %s, %d px, %d iterations, beta %g, %d thread(s)\n", model->manifest().name.c_str(),
                fs::path(stylePath).filename().string().c_str(), size, iterations, beta, threads);
    std::printf(
        "d(C, G) per face: at the aligned crop alone / the guard's (the done line's: the largest over\n"
        "its cuts, 6%% shifted or 12%% scaled) / with the face found again in G (- = not found);\n"
        "! = identity drifting, d >= %.1f; seconds per render\n",
        kSamePersonThreshold);
    std::printf("%-18s %-6s", "photo", "padded");
    for (double gamma : gammas) std::printf(" | gamma %-26g %-5s", gamma, "s");
    std::printf("\n");
    for (const fs::path& path : images) {
      const Photo photo = withContext(path, pad);
      std::printf("%-18s %-6s", photo.name.c_str(), photo.padded ? "yes" : "no");
      std::fflush(stdout);
      for (double gamma : gammas) {
        const Outcome outcome =
            renderOne(photo, style, model, faceModels, gamma, size, iterations, beta, threads, save);
        std::printf(" | %-32s %-5.0f", distances(outcome).c_str(), outcome.seconds);
        std::fflush(stdout);
      }
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "impasto-identity-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
