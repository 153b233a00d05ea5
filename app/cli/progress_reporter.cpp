#include "progress_reporter.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/io/image_io.h"

namespace impasto::cli {

std::string snapshotPath(const std::string& output, int iteration) {
  std::filesystem::path path(output);
  char number[16];
  std::snprintf(number, sizeof number, "-%04d", iteration);
  return (path.parent_path() / (path.stem().string() + number + path.extension().string())).string();
}

ProgressReporter::ProgressReporter(bool json, int reportEvery, int saveEvery, std::string output)
    : json_(json),
      terminal_(isatty(STDERR_FILENO) != 0),
      reportEvery_(reportEvery),
      saveEvery_(saveEvery),
      output_(std::move(output)) {}

void ProgressReporter::onStep(const StepReport& r) {
  if (r.iteration % reportEvery_ != 0 && r.iteration != r.iterations) return;
  if (json_) {
    nlohmann::json line{{"iteration", r.iteration},
                        {"iterations", r.iterations},
                        {"loss", r.loss},
                        {"content_loss", r.contentLoss},
                        {"style_loss", r.styleLoss},
                        {"style_loss_per_layer", r.styleLossPerLayer},
                        {"tv_loss", r.tvLoss},
                        {"elapsed_s", r.elapsedSeconds}};
    std::cout << line.dump() << std::endl;
    return;
  }
  const double rate = r.elapsedSeconds > 0 ? r.iteration / r.elapsedSeconds : 0.0;
  const double eta = rate > 0 ? (r.iterations - r.iteration) / rate : 0.0;
  const int width = 30;
  const int filled = r.iterations > 0 ? width * r.iteration / r.iterations : width;
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  char line[200];
  std::snprintf(line, sizeof line, "[%s] %d/%d  J=%.4g  %.2f steps/s  ETA %dm%02ds", bar.c_str(), r.iteration,
                r.iterations, r.loss, rate, int(eta) / 60, int(eta) % 60);
  // A bar that redraws itself on a terminal; plain lines in logs.
  std::cerr << (terminal_ ? "\r" : "") << line << (terminal_ ? "" : "\n") << std::flush;
}

void ProgressReporter::onFrame(int iteration, const cv::Mat& frame) {
  if (saveEvery_ <= 0 || iteration % saveEvery_ != 0) return;
  cv::Mat rgb;
  frame.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
  saveImage(rgb, snapshotPath(output_, iteration));
}

void ProgressReporter::finish(const RenderResult& result, const std::string& output) {
  if (terminal_ && !json_) std::cerr << "\n";
  if (json_) {
    nlohmann::json line{{"done", true},
                        {"output", output},
                        {"iteration", result.iterations},
                        {"cancelled", result.cancelled},
                        {"loss", result.last.loss},
                        {"content_loss", result.last.contentLoss},
                        {"style_loss", result.last.styleLoss},
                        {"elapsed_s", result.last.elapsedSeconds}};
    std::cout << line.dump() << std::endl;
  } else {
    std::cerr << (result.cancelled ? "Interrupted; saved the current image to " : "Saved ") << output << "\n";
  }
}

}  // namespace impasto::cli
