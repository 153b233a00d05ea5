#pragma once

#include <opencv2/core.hpp>

#include "core/engine/render.h"
#include "tests/support/test_models.h"

namespace impasto::test {

// A job for the tiny seeded model (test_models.h): `content` in the style of
// `style` at `size` px, `iterations` steps, α 1, β 1000, on one thread, a
// frame every `frameEvery` steps; the rest RenderSettings' defaults.
inline RenderJob tinyRenderJob(const cv::Mat& content, const cv::Mat& style, int size, int iterations,
                               int frameEvery) {
  RenderJob job;
  job.content = content;
  job.styles = {style};
  job.model = makeTinyModel();
  job.settings.size = size;
  job.settings.iterations = iterations;
  job.settings.weights.alpha = 1.0;
  job.settings.weights.beta = 1e3;
  job.settings.threads = 1;
  job.settings.frameEvery = frameEvery;
  return job;
}

}  // namespace impasto::test
