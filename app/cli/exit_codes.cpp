#include "exit_codes.h"

#include <exception>
#include <iostream>

namespace impasto {

int exitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage:
      return 2;
    case ErrorKind::Input:
    case ErrorKind::Model:
    case ErrorKind::Output:
      return 3;
    case ErrorKind::Network:
      return 4;
    case ErrorKind::Cancelled:
      return 130;
    case ErrorKind::Internal:
      return 1;
  }
  return 1;
}

int runReportingErrors(const std::function<int()>& command) {
  try {
    return command();
  } catch (const Error& e) {
    std::cerr << "impasto-cli: " << e.what() << "\n";
    return exitCodeFor(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "impasto-cli: unexpected error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace impasto
