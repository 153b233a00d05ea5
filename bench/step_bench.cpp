// Benchmark: the cost of one engine step against one bare forward+backward of the
// same truncated network and against one iteration of a plain torch::optim::LBFGS
// loop on the same cost, as ratios measured in one run (the machines are noisy),
// plus the peak resident memory of each configuration (each runs in a child process).
//
//   impasto-bench [--darknet FILE.onnx] [--sizes 256,512] [--repeats 5] [--plain-allocator]
//   impasto-bench --one MODEL SIZE REPEATS ALLOCATOR   (internal: one configuration)
//   impasto-bench --render [--sizes 512,1024] [--iterations 2] [--tile PX]
//   impasto-bench --render-one SIZE ITERATIONS TILE   (internal: one render)
//
// --render times whole renders of VGG-19 (random weights, no pyramid) as the
// CLI runs them: seconds per step after the first and the process's peak RSS.
//
// --plain-allocator measures without the apps' reusing CPU allocator (core/cpu_allocator.h).
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/random_vgg.h"
#include "core/engine/cost_function.h"
#include "core/engine/cpu_allocator.h"
#include "core/engine/feature_extractor.h"
#include "core/engine/render.h"
#include "core/engine/stepper.h"
#include "core/engine/tensor_convert.h"
#include "core/models/layers.h"
#include "core/models/vgg.h"
#include "core/util/error.h"

namespace {

using namespace impasto;
using bench::randomVgg19;
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long peakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

int benchThreads() {
  const char* threads = std::getenv("IMPASTO_BENCH_THREADS");
  return threads ? std::max(1, std::atoi(threads)) : int(std::max(1u, std::thread::hardware_concurrency()));
}

int runOne(const std::string& modelArg, int size, int repeats) {
  // The engine uses every core (render() sets this); measure under the same
  // conditions, or with --threads N (passed to each child in the environment).
  torch::set_num_threads(benchThreads());
  ModelPtr model = modelArg == "vgg19-random" ? randomVgg19() : loadModelFile(modelArg);
  RenderSettings settings;
  settings.size = size;
  settings.weights.alpha = 1.0;
  settings.weights.beta = 1e4;
  settings = resolveSettings(settings, *model);

  // A 4:3 image like the classic content photo, longest side = size.
  const int64_t h = size * 3 / 4, w = size;
  torch::manual_seed(1);
  torch::Tensor content = torch::rand({1, 3, h, w});
  torch::Tensor style = torch::rand({1, 3, h, w});
  CostFunction cost(model, content, {style}, {}, settings.contentLayer, settings.weights, torch::kCPU);

  std::vector<std::string> used{settings.contentLayer};
  for (const auto& [name, lambda] : settings.weights.styleLayers) used.push_back(name);
  FeatureExtractor bare(*model, used);
  const std::string deepest = bare.layerNames().back();

  torch::Tensor generated = content.clone();
  Stepper stepper(Optimizer::Lbfgs, 1.0, generated);
  auto engineStep = [&] { stepper.step(cost); };
  auto bareStep = [&] {
    torch::Tensor x = content.clone().set_requires_grad(true);
    bare.forward(x).at(deepest).sum().backward();
  };

  // The plain loop users compare with: LibTorch's own L-BFGS on the same cost,
  // one iteration per step() (its history kept across calls).
  torch::Tensor plainG = content.clone().set_requires_grad(true);
  torch::optim::LBFGS plain({plainG}, torch::optim::LBFGSOptions(1.0).max_iter(1).history_size(20));
  auto plainStep = [&] {
    plain.step([&] {
      plain.zero_grad();
      torch::Tensor loss = cost.evaluate(plainG).total;
      loss.backward();
      return loss;
    });
  };

  engineStep();  // warm-up: first-call allocations and oneDNN kernel choice
  bareStep();
  plainStep();
  std::vector<double> engineTimes, bareTimes, plainTimes;
  for (int i = 0; i < repeats; ++i) {
    // Interleaved, so drifts in machine load hit all three alike.
    auto t0 = Clock::now();
    engineStep();
    auto t1 = Clock::now();
    bareStep();
    auto t2 = Clock::now();
    plainStep();
    auto t3 = Clock::now();
    engineTimes.push_back(std::chrono::duration<double>(t1 - t0).count());
    bareTimes.push_back(std::chrono::duration<double>(t2 - t1).count());
    plainTimes.push_back(std::chrono::duration<double>(t3 - t2).count());
  }
  const double e = median(engineTimes), b = median(bareTimes), p = median(plainTimes);
  std::printf("| %s | %d | %lldx%lld | %.3f | %.3f | %.2f | %.3f | %.2f | %ld |\n",
              model->manifest().name.c_str(), size, (long long)w, (long long)h, e, b, e / b, p, e / p,
              peakRssMiB());
  return 0;
}

// A photo-like content and a painting-like style of the same size: the
// memory and time of a step do not depend on what the pixels show.
cv::Mat randomImage(int width, int height, int seed) {
  cv::Mat image(height, width, CV_32FC3);
  cv::RNG rng(std::uint64_t(seed) + 1);
  rng.fill(image, cv::RNG::UNIFORM, 0.0, 1.0);
  return image;
}

class StepClock : public RenderObserver {
 public:
  void onStep(const StepReport& report) override {
    stepTimes.push_back(report.elapsedSeconds);
    freshBlocks.push_back(cpuAllocatorStats().fresh);
  }
  void onMemoryPlan(int, const MemoryPlan& p) override { plan = p; }
  MemoryPlan plan;
  std::vector<double> stepTimes;
  std::vector<std::size_t> freshBlocks;  // big blocks that needed new memory, so far
};

int renderOne(int size, int iterations, int tile) {
  RenderJob job;
  job.model = randomVgg19();
  job.content = randomImage(size, size * 3 / 4, 1);
  job.styles = {randomImage(size, size * 3 / 4, 2)};
  job.settings.size = size;
  job.settings.iterations = iterations;
  job.settings.scales = 1;
  job.settings.threads = std::getenv("IMPASTO_BENCH_THREADS") ? benchThreads() : 0;
  job.tile = tile;
  StepClock clock;
  RenderControl control;
  const auto start = Clock::now();
  render(job, clock, control);
  const double total = std::chrono::duration<double>(Clock::now() - start).count();
  // The first step also computes the targets; later steps are the steady state.
  const auto& t = clock.stepTimes;
  const double perStep = t.size() > 1 ? (t.back() - t.front()) / double(t.size() - 1) : t.front();
  // Steady state: blocks the allocator could not reuse per step after the first.
  const auto& f = clock.freshBlocks;
  const double freshPerStep = f.size() > 1 ? double(f.back() - f.front()) / double(f.size() - 1) : 0.0;
  const std::string tiles = clock.plan.tile > 0 ? std::to_string(clock.plan.tile) : "untiled";
  std::printf("| %d | %dx%d | %s | %.2f | %.1f | %ld | %.0f | %.1f |\n", size, size, size * 3 / 4,
              tiles.c_str(), perStep, total, peakRssMiB(), clock.plan.plannedBytes / (1024.0 * 1024.0),
              freshPerStep);
  return 0;
}

int renderTable(const std::string& self, const std::vector<int>& sizes, int iterations, int tile) {
  std::printf("VGG-19 (random weights), --scales 1, %d iterations\n\n", iterations);
  std::printf(
      "| size | G (WxH) | tile | s / step | wall (s) | peak RSS (MiB) | estimate (MiB) | fresh blocks / step "
      "|\n"
      "|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  for (int size : sizes) {
    const std::string command = "'" + self + "' --render-one " + std::to_string(size) + " " +
                                std::to_string(iterations) + " " + std::to_string(tile);
    if (std::system(command.c_str()) != 0) std::cerr << "render failed: " << command << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 5 && args[0] == "--one") {
      if (args[4] == "reusing") installReusingCpuAllocator();
      return runOne(args[1], std::stoi(args[2]), std::stoi(args[3]));
    }
    if (args.size() == 4 && args[0] == "--render-one") {
      if (!std::getenv("IMPASTO_PLAIN_ALLOCATOR")) installReusingCpuAllocator();
      return renderOne(std::stoi(args[1]), std::stoi(args[2]), std::stoi(args[3]));
    }
    bool renders = false;
    int iterations = 2, tile = 0;
    std::string darknet = "../shared/models/darknet-reference/darknet-reference-conv5.onnx";
    std::vector<int> sizes{256, 512};
    int repeats = 5;
    std::string allocator = "reusing";
    for (std::size_t i = 0; i < args.size(); ++i) {
      const bool hasValue = i + 1 < args.size();
      if (args[i] == "--plain-allocator")
        allocator = "plain";
      else if (args[i] == "--render")
        renders = true;
      else if (args[i] == "--iterations" && hasValue)
        iterations = std::stoi(args[++i]);
      else if (args[i] == "--tile" && hasValue)
        tile = std::stoi(args[++i]);
      else if (args[i] == "--darknet" && hasValue)
        darknet = args[++i];
      else if (args[i] == "--threads" && hasValue)
        setenv("IMPASTO_BENCH_THREADS", args[++i].c_str(), 1);
      else if (args[i] == "--repeats" && hasValue)
        repeats = std::stoi(args[++i]);
      else if (args[i] == "--sizes" && hasValue) {
        sizes.clear();
        std::stringstream list(args[++i]);
        for (std::string s; std::getline(list, s, ',');) sizes.push_back(std::stoi(s));
      } else {
        std::cerr << "impasto-bench: unknown argument '" << args[i] << "'\n";
        return 2;
      }
    }
    if (renders) return renderTable(argv[0], sizes, iterations, tile);
    std::vector<std::string> models{"vgg19-random"};
    if (std::filesystem::exists(darknet))
      models.insert(models.begin(), darknet);
    else
      std::cerr << "darknet-reference not found at " << darknet << "; pass --darknet FILE\n";

    std::printf("threads: %d, allocator: %s\n\n", benchThreads(), allocator.c_str());
    std::printf(
        "| model | size | G (WxH) | engine step (s) | bare fwd+bwd (s) | engine / bare | "
        "torch::optim::LBFGS iteration (s) | engine / LBFGS | peak RSS (MiB) |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    for (const auto& model : models)
      for (int size : sizes) {
        // A child process per configuration, so each peak RSS is its own.
        std::string command = std::string("'") + argv[0] + "' --one '" + model + "' " + std::to_string(size) +
                              " " + std::to_string(repeats) + " " + allocator;
        if (std::system(command.c_str()) != 0) std::cerr << "configuration failed: " << command << "\n";
      }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "impasto-bench: " << e.what() << "\n";
    return 1;
  }
}
