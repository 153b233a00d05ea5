#include "faces_command.h"

#include <CLI/App.hpp>
#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/faces/face_analyzer.h"
#include "core/io/image_io.h"
#include "core/library/face_model_location.h"
#include "core/util/error.h"

namespace impasto {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct FacesArgs {
  std::vector<std::string> images;
  std::string people;
  bool crops = false;
  bool json = false;
  double threshold = kSamePersonThreshold;
  int inputSize = 416;
};

const char* const kFacesFooter =
    "Distances are Euclidean between 128-d FaceRecognitionNet descriptors; below the threshold\n"
    "(0.6 by default, the network's training target) two faces are the same person.\n"
    "Environment:\n"
    "  IMPASTO_FACE_MODELS  a folder with the face-api.js weight manifests, instead of the\n"
    "                       installed 'face-api' model (impasto-cli models download face-api)\n"
    "Exit codes: 0 done, 2 usage error, 3 no face found, unreadable image, empty people folder\n"
    "or missing face models.";

std::string fixed(double value, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

void printLine(const json& line) { std::cout << line.dump() << std::endl; }

json boxJson(const FaceRect& box) {
  return {{"x", box.x}, {"y", box.y}, {"width", box.width}, {"height", box.height}};
}

// The faces of one image: the whole image as one face with --crops, else
// the detected faces, largest first.
std::vector<FaceAnalysis> facesOf(const FaceModels& models, const fs::path& path, const FacesArgs& args) {
  const cv::Mat image = loadImage(path);
  if (args.crops) {
    FaceAnalysis face;
    face.box = {0, 0, double(image.cols), double(image.rows)};
    face.aligned = face.box;
    face.descriptor = models.describe(image);
    return {face};
  }
  std::vector<FaceAnalysis> faces = models.analyze(image, args.inputSize);
  std::stable_sort(faces.begin(), faces.end(),
                   [](const FaceAnalysis& a, const FaceAnalysis& b) { return a.box.area() > b.box.area(); });
  return faces;
}

// The descriptor of the largest face of an image; Error(Input) when it has none.
std::vector<float> largestFaceDescriptor(const FaceModels& models, const fs::path& path,
                                         const FacesArgs& args) {
  const std::vector<FaceAnalysis> faces = facesOf(models, path, args);
  if (faces.empty())
    throw Error(ErrorKind::Input, "No face found in '" + path.string() +
                                      "'. If it is already a cropped face, add --crops; otherwise try "
                                      "a larger --input-size.");
  return faces.front().descriptor;
}

void checkThreshold(const FacesArgs& args) {
  if (!(args.threshold > 0) || args.threshold > 10)
    throw Error(ErrorKind::Usage,
                "--threshold must be a distance above 0 (0.6 by default), not " + fixed(args.threshold, 3));
  if (args.inputSize < 32 || args.inputSize % 32 != 0 || args.inputSize > 4096)
    throw Error(ErrorKind::Usage, "--input-size must be a multiple of 32 from 32 to 4096, not " +
                                      std::to_string(args.inputSize));
}

int detectCommand(const FacesArgs& args) {
  checkThreshold(args);
  const FaceModels models(locateFaceModels());
  std::vector<std::string> faceless;
  for (const std::string& image : args.images) {
    const std::vector<FaceAnalysis> faces = facesOf(models, image, args);
    if (faces.empty()) faceless.push_back(image);
    if (args.json) {
      json list = json::array();
      for (const FaceAnalysis& face : faces) {
        json item = {{"box", boxJson(face.box)}};
        if (!args.crops) {
          item["score"] = face.score;
          json points = json::array();
          for (const FacePoint& p : face.landmarks) points.push_back({p[0], p[1]});
          item["landmarks"] = points;
        }
        item["descriptor"] = face.descriptor;
        list.push_back(std::move(item));
      }
      printLine({{"image", image}, {"faces", list}});
      continue;
    }
    std::cout << image << ": " << faces.size() << (faces.size() == 1 ? " face" : " faces") << "\n";
    for (std::size_t i = 0; i < faces.size(); ++i) {
      const FaceRect& b = faces[i].box;
      std::cout << "  face " << i + 1 << ": " << fixed(b.width, 0) << "x" << fixed(b.height, 0) << " at ("
                << fixed(b.x, 0) << ", " << fixed(b.y, 0) << ")";
      if (!args.crops) std::cout << ", score " << fixed(faces[i].score, 2);
      std::cout << "\n";
    }
    std::cout << std::flush;
  }
  if (faceless.empty()) return 0;
  for (const std::string& image : faceless) std::cerr << "impasto-cli: no face found in '" << image << "'\n";
  return 3;
}

int verifyCommand(const FacesArgs& args) {
  checkThreshold(args);
  const FaceModels models(locateFaceModels());
  const double d = descriptorDistance(largestFaceDescriptor(models, args.images.at(0), args),
                                      largestFaceDescriptor(models, args.images.at(1), args));
  const bool same = d < args.threshold;
  if (args.json) {
    printLine({{"distance", d}, {"threshold", args.threshold}, {"same_person", same}});
  } else {
    std::cout << "Same person: " << (same ? "yes" : "no") << " (distance " << fixed(d, 3)
              << (same ? " < " : " >= ") << "threshold " << fixed(args.threshold, 2) << ")" << std::endl;
  }
  return 0;
}

bool isImageFile(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// DIR/NAME/*.png|jpg: each person's descriptors, from all their photos.
std::map<std::string, std::vector<std::vector<float>>> enrol(const FaceModels& models,
                                                             const FacesArgs& args) {
  const fs::path dir(args.people);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(ErrorKind::Input,
                "The people folder '" + args.people + "' does not exist or is not a folder.");
  std::map<std::string, std::vector<std::vector<float>>> people;
  std::vector<fs::path> folders;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) && it->path().filename().string().front() != '.') folders.push_back(it->path());
  std::sort(folders.begin(), folders.end());
  for (const fs::path& folder : folders) {
    std::vector<fs::path> photos;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && isImageFile(it->path())) photos.push_back(it->path());
    std::sort(photos.begin(), photos.end());
    for (const fs::path& photo : photos)
      people[folder.filename().string()].push_back(largestFaceDescriptor(models, photo, args));
  }
  if (people.empty())
    throw Error(ErrorKind::Input, "The people folder '" + args.people +
                                      "' holds nobody: put each person's photos (.png or .jpg) in a folder "
                                      "named after them, DIR/NAME/photo.jpg.");
  return people;
}

int identifyCommand(const FacesArgs& args) {
  checkThreshold(args);
  const FaceModels models(locateFaceModels());
  const auto people = enrol(models, args);
  for (const std::string& image : args.images) {
    const std::vector<float> probe = largestFaceDescriptor(models, image, args);
    // A person's distance is the mean over their photos, as face-api.js's FaceMatcher does.
    std::string nearest;
    double best = 0;
    for (const auto& [name, descriptors] : people) {
      double sum = 0;
      for (const auto& d : descriptors) sum += descriptorDistance(probe, d);
      const double mean = sum / double(descriptors.size());
      if (nearest.empty() || mean < best) {
        nearest = name;
        best = mean;
      }
    }
    const bool known = best < args.threshold;
    if (args.json) {
      printLine({{"image", image}, {"name", known ? json(nearest) : json(nullptr)}, {"distance", best}});
    } else if (known) {
      std::cout << image << ": " << nearest << " (distance " << fixed(best, 3) << ")" << std::endl;
    } else {
      std::cout << image << ": unknown (nearest " << nearest << ", distance " << fixed(best, 3)
                << " >= threshold " << fixed(args.threshold, 2) << ")" << std::endl;
    }
  }
  return 0;
}

void addCommonOptions(CLI::App* command, const std::shared_ptr<FacesArgs>& args, bool threshold) {
  command->add_flag("--crops", args->crops,
                    "each image is already a cropped face: the whole image goes into the recognition net");
  command->add_flag("--json", args->json, "one JSON object per line on stdout");
  command->add_option("--input-size", args->inputSize, "the face detector's input size (multiple of 32)")
      ->type_name("N")
      ->capture_default_str();
  if (threshold)
    command->add_option("--threshold", args->threshold, "the distance below which two faces are one person")
        ->type_name("T")
        ->capture_default_str();
}

}  // namespace

void addFacesCommand(CLI::App& app, std::function<int()>& command) {
  CLI::App* faces =
      app.add_subcommand("faces", "find faces, verify and recognise people (face-api.js networks)");
  faces->require_subcommand(1);
  faces->footer(kFacesFooter);
  auto args = std::make_shared<FacesArgs>();

  CLI::App* detect = faces->add_subcommand(
      "detect", "the faces in each image: box, score, 68 landmarks and 128-d descriptor");
  detect->add_option("IMAGE", args->images, "images to look at")->required();
  addCommonOptions(detect, args, false);
  detect->callback([&command, args] { command = [args] { return detectCommand(*args); }; });

  CLI::App* verify =
      faces->add_subcommand("verify", "whether the largest faces of two images are one person");
  verify->add_option("A", args->images, "two images")->required()->expected(2);
  addCommonOptions(verify, args, true);
  verify->callback([&command, args] { command = [args] { return verifyCommand(*args); }; });

  CLI::App* identify =
      faces->add_subcommand("identify", "who each image shows, among the people enrolled from --people DIR");
  identify->add_option("--people", args->people, "one folder per person: DIR/NAME/*.png|jpg")
      ->type_name("DIR")
      ->required();
  identify->add_option("IMAGE", args->images, "images to identify")->required();
  addCommonOptions(identify, args, true);
  identify->callback([&command, args] { command = [args] { return identifyCommand(*args); }; });
}

}  // namespace impasto
