#pragma once

namespace impasto {

// The project version ("0.1.0"). Defined in a source file that CMake generates
// (core/util/version.cpp.in), so a version bump rebuilds one file, not the world.
const char* version();

}  // namespace impasto
