#include "progress_reporter.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/engine/checkpoint_file.h"
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
                        {"level", r.level},
                        {"levels", r.levels},
                        {"width", r.width},
                        {"height", r.height},
                        {"progress", r.progress},
                        {"loss", r.loss},
                        {"content_loss", r.contentLoss},
                        {"style_loss", r.styleLoss},
                        {"style_loss_per_layer", r.styleLossPerLayer},
                        {"tv_loss", r.tvLoss},
                        {"identity_loss", r.identityLoss},
                        {"elapsed_s", r.elapsedSeconds}};
    std::cout << line.dump() << std::endl;
    return;
  }
  const double rate = r.elapsedSeconds > 0 ? r.iteration / r.elapsedSeconds : 0.0;
  // Later levels have more pixels: the ETA follows the work done, not the steps.
  const double eta = r.progress > 0 ? r.elapsedSeconds * (1.0 - r.progress) / r.progress : 0.0;
  const int width = 30;
  const int filled = std::clamp(int(width * r.progress), 0, width);
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  char level[64] = "";
  if (r.levels > 1)
    std::snprintf(level, sizeof level, "  level %d/%d %dx%d", r.level, r.levels, r.width, r.height);
  char line[256];
  std::snprintf(line, sizeof line, "[%s] %d/%d%s  J=%.4g  %.2f steps/s  ETA %dm%02ds", bar.c_str(),
                r.iteration, r.iterations, level, r.loss, rate, int(eta) / 60, int(eta) % 60);
  // A bar that redraws itself on a terminal; plain lines in logs.
  std::cerr << (terminal_ ? "\r" : "") << line << (terminal_ ? "\033[K" : "\n") << std::flush;
}

void ProgressReporter::onMemoryPlan(int level, const MemoryPlan& plan) {
  constexpr double kGB = 1024.0 * 1024.0 * 1024.0;
  if (json_) {
    const nlohmann::json memory{{"width", plan.width},
                                {"height", plan.height},
                                {"estimate_gb", plan.plannedBytes / kGB},
                                {"untiled_gb", plan.untiledBytes / kGB},
                                {"budget_gb", plan.budgetBytes / kGB},
                                {"tile", plan.tile}};
    std::cout << nlohmann::json{{"level", level}, {"memory", memory}}.dump() << std::endl;
    return;
  }
  if (plan.tile == 0) return;  // the usual case needs no word
  char line[256];
  std::snprintf(line, sizeof line,
                "%d x %d would need about %.1f GB (budget %.1f GB): evaluating exactly in tiles of %d px, "
                "about %.1f GB",
                plan.width, plan.height, plan.untiledBytes / kGB, plan.budgetBytes / kGB, plan.tile,
                plan.plannedBytes / kGB);
  std::cerr << (terminal_ ? "\r\033[K" : "") << line << "\n" << std::flush;
}

void ProgressReporter::onFrame(int iteration, const cv::Mat& frame) {
  // Frame 0 is the starting image: nothing rendered to save yet.
  if (saveEvery_ <= 0 || iteration == 0 || iteration % saveEvery_ != 0) return;
  cv::Mat rgb;
  frame.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
  saveImage(rgb, snapshotPath(output_, iteration));
}

void ProgressReporter::saveCheckpointsTo(std::string path, std::string renderJson) {
  checkpointPath_ = std::move(path);
  checkpointRender_ = std::move(renderJson);
}

void ProgressReporter::onCheckpoint(const RenderState& state) {
  if (checkpointPath_.empty()) return;
  saveCheckpoint({checkpointRender_, state}, checkpointPath_);
  if (json_)
    std::cout << nlohmann::json{{"checkpoint", checkpointPath_}, {"iteration", state.iteration}}.dump()
              << std::endl;
}

void ProgressReporter::finish(const RenderResult& result, const std::string& output,
                              const std::vector<FaceIdentity>& faces) {
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
    if (!faces.empty()) {
      nlohmann::json list = nlohmann::json::array();
      for (const FaceIdentity& face : faces)
        list.push_back(
            {{"box",
              {{"x", face.box.x}, {"y", face.box.y}, {"width", face.box.width}, {"height", face.box.height}}},
             {"distance", face.distance},
             {"same_person", face.samePerson}});
      line["faces"] = list;
    }
    std::cout << line.dump() << std::endl;
  } else {
    std::cerr << (result.cancelled ? "Interrupted; saved the current image to " : "Saved ") << output << "\n";
    for (std::size_t i = 0; i < faces.size(); ++i) {
      char distance[32];
      std::snprintf(distance, sizeof distance, "%.2f", faces[i].distance);
      std::cerr << "Face " << i + 1 << ": "
                << (faces[i].samePerson ? "same person \u2713 d = " : "identity drifting \u2717 d = ")
                << distance << "\n";
    }
  }
}

}  // namespace impasto::cli
