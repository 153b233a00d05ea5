#pragma once

#include <stdexcept>
#include <string>

namespace impasto {

// What went wrong, from the user's point of view. The CLI maps it to an exit code.
enum class ErrorKind {
  Usage,      // bad flags or settings
  Input,      // an image that cannot be read or is too large
  Model,      // a model file that is missing, corrupt or unsupported
  Output,     // a file that cannot be written
  Network,    // a download that failed
  Cancelled,  // the user asked to stop
  Internal,   // a bug or a third-party failure we did not expect
};

// The one error type core throws. Its message is written for the user: it says
// what happened and, where it can, what to do about it.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

// Runs fn and rethrows third-party exceptions (c10::Error, cv::Exception,
// std::exception) as Error of the given kind, prefixed with context.
template <typename Fn>
auto wrapErrors(ErrorKind kind, const std::string& context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(kind, context + ": " + e.what());
  }
}

}  // namespace impasto
