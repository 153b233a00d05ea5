#include "core/render.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include <ATen/CPUGeneratorImpl.h>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "core/cost_function.h"
#include "core/cpu_allocator.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/stepper.h"
#include "core/tensor_image.h"

namespace impasto {

void RenderControl::submitWeights(const LossWeights& weights) {
  std::lock_guard<std::mutex> lock(mailboxMutex_);
  mailbox_ = weights;
}

std::optional<LossWeights> RenderControl::takeWeights() {
  std::lock_guard<std::mutex> lock(mailboxMutex_);
  std::optional<LossWeights> taken;
  taken.swap(mailbox_);
  return taken;
}

std::string computeDeviceName() { return torch::cuda::is_available() ? "cuda" : "cpu"; }

RenderSettings resolveSettings(RenderSettings settings, const Model& model) {
  const ModelManifest& manifest = model.manifest();
  auto requireLayer = [&](const std::string& name, const char* role) {
    if (!model.hasLayer(name)) {
      std::string valid;
      for (const auto& n : model.layerNames()) valid += (valid.empty() ? "" : ", ") + n;
      throw Error(ErrorKind::Usage, std::string("Unknown ") + role + " layer '" + name + "' for model '" +
                                        manifest.name + "'. Its layers are: " + valid);
    }
  };
  if (settings.contentLayer.empty()) settings.contentLayer = manifest.defaultContentLayer;
  if (settings.contentLayer.empty()) throw Error(ErrorKind::Usage, "Choose a content layer (--content-layer)");
  requireLayer(settings.contentLayer, "content");
  if (settings.weights.styleLayers.empty()) {
    const auto& defaults = manifest.defaultStyleLayers;
    for (const auto& name : defaults) settings.weights.styleLayers[name] = 1.0 / double(defaults.size());
  }
  if (settings.weights.styleLayers.empty()) throw Error(ErrorKind::Usage, "Choose style layers (--style-layers)");
  for (const auto& [name, lambda] : settings.weights.styleLayers) {
    requireLayer(name, "style");
    if (!(lambda >= 0.0) || !std::isfinite(lambda))
      throw Error(ErrorKind::Usage, "Layer weight λ of '" + name + "' must be a finite number ≥ 0");
  }
  if (settings.size < 16 || settings.size > 16384)
    throw Error(ErrorKind::Usage, "Size must be between 16 and 16384 pixels");
  if (settings.iterations < 0) throw Error(ErrorKind::Usage, "Iterations must be ≥ 0");
  for (double w : {settings.weights.alpha, settings.weights.beta, settings.weights.tv})
    if (!(w >= 0.0) || !std::isfinite(w)) throw Error(ErrorKind::Usage, "α, β and the TV weight must be finite and ≥ 0");
  if (settings.learningRate <= 0.0) settings.learningRate = settings.optimizer == Optimizer::Lbfgs ? 1.0 : 0.02;
  if (settings.frameEvery < 1) settings.frameEvery = 1;
  return settings;
}

namespace {

using Clock = std::chrono::steady_clock;

torch::Tensor initialImage(const RenderJob& job, const RenderSettings& settings, const torch::Tensor& content) {
  switch (settings.init) {
    case InitKind::Content:
      return content.clone();
    case InitKind::Noise: {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(settings.seed);
      return torch::rand(content.sizes(), generator, torch::kFloat32);
    }
    case InitKind::Image: {
      if (job.initImage.empty()) throw Error(ErrorKind::Usage, "No init image given");
      cv::Mat resized;
      cv::resize(job.initImage, resized, cv::Size(int(content.size(3)), int(content.size(2))), 0, 0, cv::INTER_AREA);
      return imageToTensor(resized);
    }
  }
  return content.clone();
}

void applyThreads(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
  else torch::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace

RenderResult render(const RenderJob& job, RenderObserver& observer, RenderControl& control) {
  if (!job.model) throw Error(ErrorKind::Usage, "No model loaded");
  if (job.content.empty()) throw Error(ErrorKind::Usage, "No content image");
  if (job.styles.empty()) throw Error(ErrorKind::Usage, "No style image");
  const RenderSettings settings = resolveSettings(job.settings, *job.model);

  // Once the render's tensors are gone, the memory kept for the next step is idle.
  struct ReleaseIdleMemory {
    ~ReleaseIdleMemory() { releaseCachedCpuMemory(); }
  } releaseIdleMemory;
  return wrapErrors(ErrorKind::Internal, "Rendering failed", [&] {
    applyThreads(settings.threads);
    const torch::Device device(computeDeviceName() == "cuda" ? torch::kCUDA : torch::kCPU);

    torch::Tensor content = imageToTensor(resizeToLongest(job.content, settings.size));
    std::vector<torch::Tensor> styles;
    for (const auto& style : job.styles) styles.push_back(imageToTensor(resizeToLongest(style, settings.size)));
    torch::Tensor generated = initialImage(job, settings, content).to(device).contiguous();

    CostFunction cost(job.model, content, styles, job.styleBlend, settings.contentLayer, settings.weights, device);
    Stepper stepper(settings.optimizer, settings.learningRate, generated);
    observer.onStarted(int(content.size(3)), int(content.size(2)));

    RenderResult result;
    const auto start = Clock::now();
    Clock::duration pausedFor{};
    for (int i = 1; i <= settings.iterations; ++i) {
      if (control.paused()) {
        const auto pauseStart = Clock::now();
        while (control.paused() && !control.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        pausedFor += Clock::now() - pauseStart;
      }
      if (control.cancelled()) {
        result.cancelled = true;
        break;
      }
      if (auto weights = control.takeWeights()) {
        cost.setWeights(*weights);
        stepper.reset();  // the old curvature belongs to the old cost
      }
      CostTerms terms = stepper.step(cost);

      StepReport& report = result.last;
      report.iteration = i;
      report.iterations = settings.iterations;
      report.loss = terms.total.item<double>();
      report.contentLoss = terms.content;
      report.styleLoss = terms.style;
      report.styleLossPerLayer = terms.stylePerLayer;
      report.tvLoss = terms.tv;
      report.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start - pausedFor).count();
      result.iterations = i;
      observer.onStep(report);
      if (i % settings.frameEvery == 0 || i == settings.iterations)
        observer.onFrame(i, toRgb8(tensorToImage(generated)));
    }
    result.image = tensorToImage(generated);
    return result;
  });
}

}  // namespace impasto
