#include "core/util/text.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/util/error.h"

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

std::filesystem::path pathInside(const std::filesystem::path& folder, const std::string& relative,
                                 const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path rel(relative);
  const auto refuse = [&](const std::string& why) {
    throw Error(ErrorKind::Model, what + " names \"" + relative + "\", " + why +
                                      ": a model may only read files in its own folder, " + folder.string());
  };
  if (rel.empty() || rel.has_root_name() || rel.has_root_directory()) refuse("an absolute path");
  for (const auto& part : rel)
    if (part == "..") refuse("which climbs out with \"..\"");
  const fs::path joined = folder / rel;
  std::error_code ec;
  const fs::path real = fs::canonical(joined, ec);
  if (ec) return joined;
  const fs::path home = fs::canonical(folder, ec);
  const fs::path inside = real.lexically_relative(home);
  if (ec || inside.empty() || *inside.begin() == "..") refuse("a link that leads out of the model's folder");
  return joined;
}

bool isRegularFile(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace impasto
