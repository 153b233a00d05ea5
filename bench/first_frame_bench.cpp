// Benchmark: how soon the studio shows something after Start. Runs the render
// the studio runs (frames every step, the default pyramid, one core left to
// the GUI) and prints, from the moment render() is called: the first frame
// (the starting image), the first frame after a step, and the first visibly
// stylised frame: one whose brushwork, the fine detail of its difference
// from the photo (the difference minus its Gaussian blur, σ = 2 px, at the
// frame's size), reaches a mean of 4/255. A global shift of brightness or
// colour does not count. It then stops the render.
//
//   impasto-first-frame-bench [--shared DIR] [--size 512] [--threads N] [--save DIR] [--trace 1]
//
// Models: darknet-reference from DIR/models (when present) and VGG-19 with
// seeded random weights (the real topology and cost without the download).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/random_vgg.h"
#include "core/engine/cpu_allocator.h"
#include "core/engine/render.h"
#include "core/engine/tensor_convert.h"
#include "core/io/image_io.h"
#include "core/models/layers.h"
#include "core/models/model.h"
#include "core/models/vgg.h"
#include "core/util/error.h"

namespace {

using namespace impasto;
using bench::randomVgg19;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr double kVisibleChange = 4.0;  // mean |fine detail of frame − photo|, in 1/255

// The fine detail of the change from photo to frame: what strokes add.
double brushwork(const cv::Mat& frame, const cv::Mat& photo) {
  cv::Mat a, b, change, blurred;
  frame.convertTo(a, CV_32FC3);
  photo.convertTo(b, CV_32FC3);
  change = a - b;
  cv::GaussianBlur(change, blurred, cv::Size(0, 0), 2.0);
  return cv::norm(change, blurred, cv::NORM_L1) / double(frame.total() * 3);
}

class Timer : public RenderObserver {
 public:
  Timer(const cv::Mat& photo, RenderControl& control, std::string save)
      : photo_(photo), control_(control), save_(std::move(save)) {}

  void onFrame(int iteration, const cv::Mat& frame) override {
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    cv::Mat photo8 = toRgb8(resizeToLongest(photo_, std::max(frame.cols, frame.rows)));
    if (photo8.size() != frame.size()) cv::resize(photo8, photo8, frame.size(), 0, 0, cv::INTER_AREA);
    const double change = brushwork(frame, photo8);
    if (trace) std::fprintf(stderr, "  frame %d at %.2f s: brushwork %.2f/255\n", iteration, t, change);
    if (!first) first = t;
    if (iteration > 0 && !firstStep) firstStep = t;
    if (change >= kVisibleChange && !stylised) {
      stylised = t;
      stylisedIteration = iteration;
      stylisedSize = frame.size();
      if (!save_.empty()) {
        cv::Mat rgb;
        frame.convertTo(rgb, CV_32FC3, 1.0 / 255);
        saveImage(rgb, save_);
      }
      control_.cancel();
    }
    if (t > 300.0) control_.cancel();
  }

  Clock::time_point start = Clock::now();
  std::optional<double> first, firstStep, stylised;
  int stylisedIteration = 0;
  bool trace = false;
  cv::Size stylisedSize;

 private:
  cv::Mat photo_;
  RenderControl& control_;
  std::string save_;
};

std::string seconds(const std::optional<double>& t) {
  char text[32];
  if (!t) return "-";
  std::snprintf(text, sizeof text, "%.2f s", *t);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  installReusingCpuAllocator();
  fs::path shared = "../shared";
  std::string saveDir;
  bool trace = false;
  int size = 512;
  int threads = std::max(1, int(std::thread::hardware_concurrency()) - 1);  // as the studio
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--shared") shared = argv[i + 1];
    if (flag == "--size") size = std::stoi(argv[i + 1]);
    if (flag == "--threads") threads = std::stoi(argv[i + 1]);
    if (flag == "--save") saveDir = argv[i + 1];
    if (flag == "--trace") trace = std::string(argv[i + 1]) != "0";
  }
  try {
    const cv::Mat photo = loadImage(shared / "images" / "tubingen.jpg");
    const cv::Mat painting = loadImage(shared / "images" / "starry_night.jpg");
    std::vector<std::pair<std::string, ModelPtr>> models;
    const fs::path darknet = shared / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
    if (fs::exists(darknet)) models.emplace_back("darknet-reference", loadModelFile(darknet));
    models.emplace_back("vgg19-random", randomVgg19());
    std::printf("Tübingen x Starry Night, %d px, default pyramid, %d thread(s); from Start:\n", size,
                threads);
    std::printf("%-18s %-12s %-14s %-22s %s\n", "model", "first frame", "first step", "visibly stylised",
                "(iteration, frame size)");
    for (const auto& [name, model] : models) {
      RenderJob job;
      job.content = photo;
      job.styles = {painting};
      job.model = model;
      job.settings.size = size;
      job.settings.alphaFromModel = job.settings.betaFromModel = true;
      job.settings.frameEvery = 1;
      job.settings.threads = threads;
      RenderControl control;
      Timer timer(photo, control, saveDir.empty() ? "" : saveDir + "/first-stylised-" + name + ".png");
      timer.trace = trace;
      timer.start = Clock::now();
      render(job, timer, control);
      std::printf("%-18s %-12s %-14s %-22s (%d, %dx%d)\n", name.c_str(), seconds(timer.first).c_str(),
                  seconds(timer.firstStep).c_str(), seconds(timer.stylised).c_str(), timer.stylisedIteration,
                  timer.stylisedSize.width, timer.stylisedSize.height);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "impasto-first-frame-bench: %s\n", e.what());
    return 1;
  }
}
