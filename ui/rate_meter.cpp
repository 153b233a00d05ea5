#include "ui/rate_meter.h"

#include <algorithm>
#include <cmath>

namespace impasto {

void RateMeter::reset() { samples_.clear(); }

void RateMeter::add(double seconds, double count) {
  samples_.push_back({seconds, count});
  // Keep one sample older than the window so the span always covers it.
  while (samples_.size() > 2 && samples_[1].seconds < seconds - window_) samples_.pop_front();
}

std::optional<double> RateMeter::rate() const {
  if (samples_.size() < 2) return std::nullopt;
  const double dt = samples_.back().seconds - samples_.front().seconds;
  if (dt <= 1e-3) return std::nullopt;
  return (samples_.back().count - samples_.front().count) / dt;
}

std::optional<double> RateMeter::secondsLeft(double total) const {
  const auto r = rate();
  if (!r || *r <= 0.0) return std::nullopt;
  return std::max(0.0, total - samples_.back().count) / *r;
}

QString durationText(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600) return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
  if (s >= 60) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1 s").arg(s);
}

QString byteText(double bytes) {
  if (bytes >= 1e9) return QStringLiteral("%1 GB").arg(bytes / 1e9, 0, 'f', 2);
  if (bytes >= 1e6) return QStringLiteral("%1 MB").arg(bytes / 1e6, 0, 'f', 1);
  if (bytes >= 1e3) return QStringLiteral("%1 kB").arg(bytes / 1e3, 0, 'f', 0);
  return QStringLiteral("%1 B").arg(bytes, 0, 'f', 0);
}

}  // namespace impasto
