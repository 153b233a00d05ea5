// Benchmark: time to quality. J after N evaluations of the cost (and the wall
// time they took) for the engine's projected L-BFGS, for torch::optim::LBFGS
// with its strong-Wolfe line search, and for Adam, on the same cost.
//
//   impasto-quality-bench [--darknet FILE.onnx] [--content IMG] [--style IMG]
//                         [--evals 25,50,100,200] [--clip GAIN] [--models darknet,vgg19]
//
// "J after N" is the lowest J among the first N evaluations: what a render
// stopped there would keep. Ours reports J at accepted points only, so this is
// its last accepted J; torch's line search and Adam also evaluate points they
// then leave. --clip GAIN saturates the photo (contrast times GAIN about 0.5,
// clamped), which leaves large areas at 0 and 1: the case where a projected
// L-BFGS must keep the bound-held pixels out of its direction.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/random_vgg.h"
#include "core/engine/cost_function.h"
#include "core/engine/cpu_allocator.h"
#include "core/engine/render.h"
#include "core/engine/stepper.h"
#include "core/engine/tensor_convert.h"
#include "core/io/image_io.h"
#include "core/models/layers.h"
#include "core/models/vgg.h"
#include "core/util/error.h"

namespace {

using namespace impasto;
using bench::randomVgg19;
using Clock = std::chrono::steady_clock;

// One evaluation: its J and the seconds since the optimiser started.
struct Trace {
  std::vector<double> loss, seconds;
  int accepted = 0;    // ours: steps whose point became the iterate
  int maxRetries = 0;  // ours: the most halvings one direction needed
  int rises = 0;       // ours: accepted J above the previous accepted J
};

// A photo (or, without one, seeded noise) at the longest side `size`.
torch::Tensor picture(const std::string& path, int size, std::uint64_t seed) {
  if (!path.empty() && std::filesystem::exists(path))
    return imageToTensor(resizeToLongest(loadImage(path), size));
  torch::manual_seed(seed);
  return torch::rand({1, 3, size * 3 / 4, size});
}

Trace runOurs(CostFunction& cost, const torch::Tensor& start, Optimizer optimizer, int evals) {
  torch::Tensor g = start.clone();
  // The learning rates a render uses by default (resolveSettings).
  Stepper stepper(optimizer, optimizer == Optimizer::Lbfgs ? 1.0 : 0.02, g);
  Trace trace;
  const auto t0 = Clock::now();
  double lastAccepted = 0.0;
  for (int i = 0; i < evals; ++i) {
    const CostTerms terms = stepper.step(cost);
    trace.loss.push_back(stepper.evaluatedLoss());
    trace.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (stepper.accepted()) {
      const double j = terms.total.item<double>();
      if (trace.accepted > 0 && j > lastAccepted) ++trace.rises;
      lastAccepted = j;
      ++trace.accepted;
    }
    trace.maxRetries = std::max(trace.maxRetries, stepper.retries());
  }
  return trace;
}

Trace runTorchLbfgs(CostFunction& cost, const torch::Tensor& start, int evals) {
  torch::Tensor g = start.clone().set_requires_grad(true);
  // Unconstrained (torch has no bounds): G may leave [0, 1], an easier problem than ours.
  torch::optim::LBFGS lbfgs({g}, torch::optim::LBFGSOptions(1.0)
                                     .history_size(20)
                                     .max_iter(evals)
                                     .max_eval(evals)
                                     .tolerance_grad(0.0)
                                     .tolerance_change(0.0)
                                     .line_search_fn("strong_wolfe"));
  Trace trace;
  const auto t0 = Clock::now();
  // One step() runs until max_eval; a new step() continues should it stop early.
  while (int(trace.loss.size()) < evals) {
    const std::size_t before = trace.loss.size();
    lbfgs.step([&] {
      lbfgs.zero_grad();
      torch::Tensor loss = cost.evaluate(g).total;
      loss.backward();
      trace.loss.push_back(loss.item<double>());
      trace.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      return loss;
    });
    if (trace.loss.size() == before) break;
  }
  return trace;
}

double bestWithin(const Trace& t, int n) {
  double best = t.loss.front();
  for (int i = 0; i < n && i < int(t.loss.size()); ++i) best = std::min(best, t.loss[std::size_t(i)]);
  return best;
}

void runModel(const std::string& label, const ModelPtr& model, int size, const std::string& contentPath,
              const std::string& stylePath, double clip, const std::vector<int>& evals) {
  RenderSettings settings;
  settings.size = size;
  settings.alphaFromModel = settings.betaFromModel = true;  // the model's recommended α, β
  settings = resolveSettings(settings, *model);
  torch::Tensor content = picture(contentPath, size, 1);
  if (clip > 0.0) content = ((content - 0.5) * clip + 0.5).clamp(0.0, 1.0).contiguous();
  const double held = (content.eq(0.0) | content.eq(1.0)).to(torch::kDouble).mean().item<double>();
  torch::Tensor style = picture(stylePath, size, 2);
  CostFunction cost(model, content, {style}, {}, settings.contentLayer, settings.weights, torch::kCPU);
  const int most = *std::max_element(evals.begin(), evals.end());

  std::printf("\n%s at %d px (G %lldx%lld), alpha %g, beta %g, content at a bound: %.1f%%\n", label.c_str(),
              size, (long long)content.size(3), (long long)content.size(2), settings.weights.alpha,
              settings.weights.beta, 100.0 * held);
  std::fflush(stdout);
  struct Row {
    std::string name;
    Trace trace;
  };
  std::vector<Row> rows;
  rows.push_back({"ours: projected L-BFGS", runOurs(cost, content, Optimizer::Lbfgs, most)});
  rows.push_back({"torch::optim::LBFGS, strong Wolfe", runTorchLbfgs(cost, content, most)});
  rows.push_back({"Adam (lr 0.02)", runOurs(cost, content, Optimizer::Adam, most)});

  std::printf("\n| optimiser |");
  for (int n : evals) std::printf(" J after %d | s |", n);
  std::printf("\n|---|");
  for (std::size_t i = 0; i < evals.size(); ++i) std::printf("---|---|");
  std::printf("\n");
  for (const Row& row : rows) {
    std::printf("| %s |", row.name.c_str());
    for (int n : evals) {
      const std::size_t last = std::size_t(std::min<int>(n, int(row.trace.loss.size())) - 1);
      std::printf(" %.4g | %.1f |", bestWithin(row.trace, n), row.trace.seconds[last]);
    }
    std::printf("\n");
  }
  const Trace& ours = rows.front().trace;
  std::printf(
      "\nours: J at the start %.4g; %d accepted steps in %d evaluations (%.2f evaluations a step), "
      "at most %d halvings of one direction, %d rises of the accepted J\n",
      ours.loss.front(), ours.accepted, int(ours.loss.size()),
      double(ours.loss.size()) / std::max(1, ours.accepted), ours.maxRetries, ours.rises);
  std::fflush(stdout);
}

std::vector<int> intList(const std::string& text) {
  std::vector<int> values;
  std::stringstream list(text);
  for (std::string s; std::getline(list, s, ',');) values.push_back(std::stoi(s));
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    std::string darknet = "../shared/models/darknet-reference/darknet-reference-conv5.onnx";
    std::string content = "../shared/images/tubingen.jpg", style = "../shared/images/starry_night.jpg";
    std::vector<int> evals{25, 50, 100, 200};
    std::string models = "darknet,vgg19";
    double clip = 0.0;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const bool hasValue = i + 1 < args.size();
      if (args[i] == "--darknet" && hasValue)
        darknet = args[++i];
      else if (args[i] == "--content" && hasValue)
        content = args[++i];
      else if (args[i] == "--style" && hasValue)
        style = args[++i];
      else if (args[i] == "--evals" && hasValue)
        evals = intList(args[++i]);
      else if (args[i] == "--clip" && hasValue)
        clip = std::stod(args[++i]);
      else if (args[i] == "--models" && hasValue)
        models = args[++i];
      else {
        std::cerr << "impasto-quality-bench: unknown argument '" << args[i] << "'\n";
        return 2;
      }
    }
    if (evals.empty() || *std::min_element(evals.begin(), evals.end()) < 1) {
      std::cerr << "impasto-quality-bench: --evals needs positive counts\n";
      return 2;
    }
    installReusingCpuAllocator();
    torch::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
    if (!std::filesystem::exists(content))
      std::cerr << "no content photo at " << content << ": seeded noise\n";
    if (!std::filesystem::exists(style)) std::cerr << "no style image at " << style << ": seeded noise\n";
    std::printf("threads: %u\n", std::max(1u, std::thread::hardware_concurrency()));
    if (models.find("darknet") != std::string::npos) {
      if (std::filesystem::exists(darknet))
        runModel("darknet-reference", loadModelFile(darknet), 384, content, style, clip, evals);
      else
        std::cerr << "darknet-reference not found at " << darknet << "; pass --darknet FILE\n";
    }
    if (models.find("vgg19") != std::string::npos)
      runModel("VGG-19 (random weights)", randomVgg19(), 256, content, style, clip, evals);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "impasto-quality-bench: " << e.what() << "\n";
    return 1;
  }
}
