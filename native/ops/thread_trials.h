// SPDX-License-Identifier: MIT
// The 'auto' thread count's decision (threads.cc feeds it; test_threads.cc checks it): all cores
// while no other process keeps a CPU busy; under contention, short alternating trials of all cores
// and one thread, keeping whichever did more useful work per second. Useful work is this process's
// CPU time less the pool's spinning: for the same program, CPU time per unit of work hardly
// depends on the thread count, so useful CPU-seconds per second compare the two counts' speed
// directly, whatever the scheduler gives each (a fair share per thread, cgroups, a neighbour's
// priority). A rule from the load alone cannot know that: on 2 cores with one busy loop it chose 1
// thread where 2 were 1.7x faster.
#pragma once

namespace simdnet {

// Cumulative seconds at one moment (threads.cc reads /proc/stat, getrusage and the pool).
struct CpuTimes {
  double wall = 0;       // monotonic clock
  double busy_all = 0;   // CPU time of every CPU, all processes
  double busy_self = 0;  // this process's CPU time
  double spin = 0;       // CPU time the pool's threads spun while spin accounting was on
};

class ThreadTrials {
 public:
  static constexpr double kWindow = 0.3;        // seconds per measurement at least (and between load checks)...
  static constexpr double kQuiet = 0.25;        // others' CPUs below this: the machine is quiet
  static constexpr double kMargin = 1.1;        // a challenger must beat the count in use by 10% (noise; 90% is enough)
  static constexpr double kGiveUp = 0.85;       // a challenger below this share of it after kWindow / 3 loses at once
  static constexpr double kMinBackoff = 1.0;    // seconds until the next trial after a switch...
  static constexpr double kMaxBackoff = 8.0;    // ...doubling up to this while the count in use keeps winning
  static constexpr double kMinWork = 0.1;       // ...and until the process had this much CPU time (busy machine)
  static constexpr double kMaxWindow = 3.0;     // but no longer than this
  static constexpr double kLate = 3 * kWindow;  // no op started for this long: the process idled; window discarded

  explicit ThreadTrials(int max_threads) : max_(max_threads < 1 ? 1 : max_threads), count_(max_) {}

  // The count to use now.
  int count() const { return count_; }
  // When step() wants its next sample (seconds on the CpuTimes::wall clock).
  double next_at() const { return next_at_; }
  // True during a trial window: the pool must count its spinning then.
  bool measuring() const { return phase_ != Phase::kSettled; }
  // Useful CPU-seconds per second in the last trial: the count in use (mean of the windows before
  // and after), and the challenger.
  double last_kept() const { return kept_rate_; }
  double last_challenger() const { return challenger_rate_; }
  // How many trials have ended, and the count in use during the last (SIMDNET_THREADS_TRACE prints each).
  int trials_ended() const { return trials_ended_; }
  int last_trial_kept() const { return last_trial_kept_; }

  // Takes a sample (at or after next_at()) and returns the count to use from now on.
  int step(const CpuTimes& s) {
    if (!started_) {
      started_ = true;
      ref_ = last_ = s;
      next_at_ = s.wall + kWindow;
      return count_;
    }
    const double dt = s.wall - ref_.wall;
    switch (phase_) {
      case Phase::kSettled: {
        const double others = dt > 0 ? ((s.busy_all - ref_.busy_all) - (s.busy_self - ref_.busy_self)) / dt : 0;
        ref_ = last_ = s;
        next_at_ = s.wall + kWindow;
        if (max_ == 1 || others < kQuiet) {  // nobody to compete with: every core
          kept_ = count_ = max_;
          backoff_ = kMinBackoff;
          trial_at_ = s.wall + kMinBackoff;
        } else if (s.wall >= trial_at_) {
          phase_ = Phase::kKept;  // first measure the count in use...
          next_at_ = s.wall + kWindow / 3;
        }
        return count_;
      }
      case Phase::kKept:  // the count in use, then the other one, then the count in use again
      case Phase::kChallenger:
      case Phase::kKeptAgain: {
        if (s.wall - last_.wall > kLate) return discard(s);
        last_ = s;
        const double rate = useful(s);
        // A challenger clearly behind loses at once: a trial of a slower count costs a third of a window, not a
        // whole one (a wrong early stop keeps the count in use). LeNet beside one busy loop runs one thread at about
        // 80% of two, and full windows at that cost each trial 0.3 s at 80% speed: the trials of the first seconds
        // (1, 2, 4 s apart) took 10-15% of a 4 s run's steps.
        const bool hopeless = phase_ == Phase::kChallenger && dt >= kWindow / 3 && rate < kGiveUp * kept_rate_;
        if (!hopeless && (dt < kWindow || s.busy_self - ref_.busy_self < kMinWork) && dt < kMaxWindow) {
          next_at_ = s.wall + kWindow / 3;  // too short yet, or too few scheduler slices
          return count_;
        }
        ref_ = last_ = s;
        next_at_ = s.wall + kWindow / 3;
        if (phase_ == Phase::kKept) {
          kept_rate_ = rate;
          phase_ = Phase::kChallenger;
          count_ = kept_ == 1 ? max_ : 1;
          return count_;
        }
        if (phase_ == Phase::kChallenger) {
          challenger_rate_ = rate;
          if (hopeless) return settle(s, false);
          phase_ = Phase::kKeptAgain;
          count_ = kept_;
          return count_;
        }
        kept_rate_ = 0.5 * (kept_rate_ + rate);  // the mean of both sides cancels a steady drift in the load
        // Every core wins a tie (it is the count of a quiet machine); one thread must win by kMargin.
        return settle(s, challenger_rate_ > kept_rate_ * (kept_ == 1 ? 1.0 : kMargin));
      }
    }
    return count_;
  }

 private:
  enum class Phase { kSettled, kKept, kChallenger, kKeptAgain };

  double useful(const CpuTimes& s) const {
    const double dt = s.wall - ref_.wall;
    return dt > 0 ? ((s.busy_self - ref_.busy_self) - (s.spin - ref_.spin)) / dt : 0;
  }

  // Ends a trial: switches to the challenger when it won (then tries again soon), else backs off.
  int settle(const CpuTimes& s, bool challenger_won) {
    ++trials_ended_;
    last_trial_kept_ = kept_;
    if (challenger_won) {
      kept_ = count_ = kept_ == 1 ? max_ : 1;
      backoff_ = kMinBackoff;
    } else {
      count_ = kept_;
      backoff_ = backoff_ * 2 < kMaxBackoff ? backoff_ * 2 : kMaxBackoff;
    }
    phase_ = Phase::kSettled;
    ref_ = last_ = s;
    next_at_ = s.wall + kWindow;
    trial_at_ = s.wall + backoff_;
    return count_;
  }

  // A window that saw the process idle says nothing: back to the count in use, a new trial soon.
  int discard(const CpuTimes& s) {
    count_ = kept_;
    phase_ = Phase::kSettled;
    ref_ = last_ = s;
    next_at_ = s.wall + kWindow;
    trial_at_ = s.wall + kWindow;
    return count_;
  }

  int max_, count_, kept_ = max_;
  Phase phase_ = Phase::kSettled;
  bool started_ = false;
  CpuTimes ref_, last_;  // where the window began; the last sample
  double next_at_ = 0, trial_at_ = 0, backoff_ = kMinBackoff;
  double kept_rate_ = 0, challenger_rate_ = 0;
  int trials_ended_ = 0, last_trial_kept_ = 0;
};

}  // namespace simdnet
