#include "core/engine/render.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/ops/rand.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "core/engine/cost_function.h"
#include "core/engine/cpu_allocator.h"
#include "core/engine/stepper.h"
#include "core/engine/tensor_convert.h"
#include "core/io/image_io.h"
#include "core/util/error.h"

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

void RenderControl::checkpoint(RenderPhase phase) {
  if (probe_) probe_(phase);
  if (cancelled_) throw RenderCancelled();
}

std::string computeDeviceName() { return torch::cuda::is_available() ? "cuda" : "cpu"; }

namespace {

using Clock = std::chrono::steady_clock;

at::Tensor initialImage(const RenderJob& job, const RenderSettings& settings, const at::Tensor& content) {
  switch (settings.init) {
    case InitKind::Content:
      return content.clone();
    case InitKind::Noise: {
      auto generator = at::make_generator<at::CPUGeneratorImpl>(settings.seed);
      return at::rand(content.sizes(), generator, at::kFloat);
    }
    case InitKind::Image: {
      if (job.initImage.empty()) throw Error(ErrorKind::Usage, "No init image given");
      cv::Mat resized;
      cv::resize(job.initImage, resized, cv::Size(int(content.size(3)), int(content.size(2))), 0, 0,
                 cv::INTER_AREA);
      return imageToTensor(resized);
    }
  }
  return content.clone();
}

void applyThreads(int threads) {
  if (threads > 0)
    at::set_num_threads(threads);
  else
    at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
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
    const at::Device device(computeDeviceName() == "cuda" ? at::kCUDA : at::kCPU);

    at::Tensor content = imageToTensor(resizeToLongest(job.content, settings.size));
    std::vector<at::Tensor> styles;
    for (const auto& style : job.styles)
      styles.push_back(imageToTensor(resizeToLongest(style, settings.size)));
    at::Tensor generated = initialImage(job, settings, content).to(device).contiguous();

    RenderResult result;
    try {
      control.checkpoint(RenderPhase::Start);
      CostFunction cost(job.model, content, styles, job.styleBlend, settings.contentLayer, settings.weights,
                        device, at::kFloat, [&control](RenderPhase phase) { control.checkpoint(phase); });
      Stepper stepper(settings.optimizer, settings.learningRate, generated);
      observer.onStarted(int(content.size(3)), int(content.size(2)));

      const auto start = Clock::now();
      Clock::duration pausedFor{};
      auto nextChange = settings.weightChanges.begin();  // replayed from a preset
      for (int i = 1; i <= settings.iterations; ++i) {
        if (control.paused()) {
          const auto pauseStart = Clock::now();
          while (control.paused() && !control.cancelled())
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          pausedFor += Clock::now() - pauseStart;
        }
        control.checkpoint(RenderPhase::Step);
        StepReport report;
        std::optional<LossWeights> scheduled;
        for (; nextChange != settings.weightChanges.end() && nextChange->fromIteration <= i; ++nextChange)
          scheduled = nextChange->weights;
        report.newWeights = control.takeWeights();  // the studio's sliders win over a replay
        if (!report.newWeights) report.newWeights = scheduled;
        if (report.newWeights) {
          cost.setWeights(*report.newWeights);
          stepper.reset();  // the old curvature belongs to the old cost
        }
        CostTerms terms = stepper.step(cost);

        report.iteration = i;
        report.iterations = settings.iterations;
        report.loss = terms.total.item<double>();
        report.contentLoss = terms.content;
        report.styleLoss = terms.style;
        report.styleLossPerLayer = terms.stylePerLayer;
        report.tvLoss = terms.tv;
        report.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start - pausedFor).count();
        result.iterations = i;
        result.last = std::move(report);
        observer.onStep(result.last);
        if (i % settings.frameEvery == 0 || i == settings.iterations)
          observer.onFrame(i, toRgb8(tensorToImage(generated)));
      }
    } catch (const RenderCancelled&) {
      // Thrown between layers: G still holds the last completed step.
      result.cancelled = true;
    }
    result.image = tensorToImage(generated);
    return result;
  });
}

}  // namespace impasto
