#include "core/util/text.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace impasto {

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return c < 0x80 ? static_cast<char>(std::tolower(c)) : static_cast<char>(c);
  });
  return s;
}

std::string joined(const std::vector<std::string>& names, std::size_t limit) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < limit; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > limit) s += ", ...";
  return s;
}

std::string formatByteSize(std::int64_t bytes) {
  static const char* const kUnits[] = {"bytes", "KB", "MB", "GB", "TB"};
  double value = double(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  std::ostringstream out;
  if (unit == 0) {
    out << bytes << (bytes == 1 ? " byte" : " bytes");
  } else {
    out.precision(value < 10.0 ? 1 : 0);
    out << std::fixed << value << " " << kUnits[unit];
  }
  return out.str();
}

std::string formatDuration(double seconds) {
  const long total = std::lround(std::max(0.0, seconds));
  std::ostringstream out;
  if (total >= 3600)
    out << total / 3600 << ":" << std::setw(2) << std::setfill('0') << (total / 60) % 60;
  else
    out << total / 60;
  out << ":" << std::setw(2) << std::setfill('0') << total % 60;
  return out.str();
}

bool isRegularFile(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace impasto
