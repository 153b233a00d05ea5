#pragma once

#include <deque>
#include <optional>

#include <QString>

namespace impasto {

// Rate and time left of something that counts up (render steps, downloaded
// bytes), from the samples of the last few seconds, so a pause or a slow
// start does not distort the estimate for long.
class RateMeter {
 public:
  explicit RateMeter(double windowSeconds = 5.0) : window_(windowSeconds) {}

  void reset();
  // seconds: a monotonic clock reading; count: the total so far.
  void add(double seconds, double count);
  // Units per second; empty until two samples span some time.
  std::optional<double> rate() const;
  // Seconds until count reaches total at the current rate.
  std::optional<double> secondsLeft(double total) const;

 private:
  struct Sample {
    double seconds;
    double count;
  };
  double window_;
  std::deque<Sample> samples_;
};

// "1 h 02 min", "3 min 05 s", "12 s"
QString durationText(double seconds);
// "1.2 MB", "574.7 MB"
QString byteText(double bytes);

}  // namespace impasto
