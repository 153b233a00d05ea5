#pragma once

#include <map>
#include <string>
#include <vector>

namespace impasto {

// An optimiser's state in plain arrays, so a checkpoint can save it and a
// resumed render carry on with the same curvature or moments.
struct OptimizerState {
  std::map<std::string, std::vector<float>> arrays;  // flat vectors, G's size each
  std::map<std::string, double> numbers;
};

}  // namespace impasto
