// SPDX-License-Identifier: MIT
// The 'auto' thread count's decision (threads.cc feeds it; test_threads.cc checks it): all cores
// while no other process keeps a CPU busy; under contention, short alternating trials of all cores
// and one thread, keeping whichever did more work per second. A process that marks its training
// steps (native.markStep, which Optimizer.zeroGrad calls) is measured in steps per second, over
// windows that begin and end as a step ends: work done, whatever share of the CPUs the scheduler
// gives each count and whatever CPU time each spends per step (on this VM two threads train 25-30%
// slower in some processes than in others, spending more CPU per image: docs/threads.md, session 16). Other
// processes (inference) are measured in useful CPU-seconds per second (CPU time less the pool's
// spinning), which assumes the CPU time per unit of work does not depend on the thread count. A
// rule from the load alone cannot know either: on 2 cores with one busy loop it chose 1 thread
// where 2 were 1.7x faster.
#pragma once
#include <cmath>

namespace simdnet {

// Cumulative counts at one moment (threads.cc reads /proc/stat, getrusage, the pool and the step marks).
struct CpuTimes {
  double wall = 0;       // monotonic clock
  double busy_all = 0;   // CPU time of every CPU, all processes
  double busy_self = 0;  // this process's CPU time
  double spin = 0;       // CPU time the pool's threads spun while spin accounting was on
  double steps = 0;      // training steps ended so far (native.markStep)
  bool at_step = false;  // taken as a step ended: a window measured in steps starts and ends only at such a sample
};

class ThreadTrials {
 public:
  static constexpr double kCheck = 0.2;         // seconds between load checks (a new neighbour is seen within 0.4 s)
  static constexpr double kWindow = 0.3;        // seconds per measurement at least, in CPU time...
  static constexpr double kStepWindow = 0.15;   // ...and in steps (exact: whole steps over their own wall time)
  static constexpr double kQuiet = 0.25;        // others' CPUs below this: the machine is quiet
  static constexpr double kChange = 0.5;        // others' CPUs changed this much since the last trial: a new one soon
  static constexpr double kMargin = 1.1;        // a challenger must beat the count in use by 10% in CPU time...
  static constexpr double kStepMargin = 1.05;   // ...5% in steps (a direct measure; 90% of the best is the goal)
  static constexpr double kGiveUp = 0.85;       // a challenger below this share of it after a third of a window loses
  static constexpr double kMinBackoff = 1.0;    // seconds until the next trial after a switch...
  static constexpr double kMaxBackoff = 8.0;    // ...doubling up to this while the count in use keeps winning
  static constexpr double kMinWork = 0.1;       // ...and until the process had this much CPU time (busy machine)
  static constexpr double kMaxWindow = 3.0;     // but no longer than this (in steps: until the next step ends)
  static constexpr double kLate = 3 * kWindow;  // no sample for this long: the process idled; window discarded
  static constexpr double kNoStep = 10.0;       // a trial in steps saw none end for this long: discarded

  explicit ThreadTrials(int max_threads) : max_(max_threads < 1 ? 1 : max_threads), count_(max_) {}

  // The count to use now.
  int count() const { return count_; }
  // When step() wants its next sample (seconds on the CpuTimes::wall clock).
  double next_at() const { return next_at_; }
  // True during a trial window: the pool must count its spinning then.
  bool measuring() const { return phase_ != Phase::kSettled; }
  // True during a trial measured in steps: only a sample taken as a step ends can end a window; other samples are
  // wanted only every kLate / 3 (poll_at) to see an idle process.
  bool by_steps() const { return measuring() && by_steps_; }
  double poll_at() const { return last_.wall + kLate / 3; }
  // Work per second in the last trial (steps/s when last_by_steps(), else useful CPU-seconds/s): the count in use
  // (mean of the windows before and after), and the challenger.
  double last_kept() const { return kept_rate_; }
  double last_challenger() const { return challenger_rate_; }
  bool last_by_steps() const { return by_steps_; }
  // How many trials have ended, and the count in use during the last (SIMDNET_THREADS_TRACE prints each).
  int trials_ended() const { return trials_ended_; }
  int last_trial_kept() const { return last_trial_kept_; }

  // Takes a sample (at or after next_at(), or poll_at() while by_steps()) and returns the count to use from now on.
  int step(const CpuTimes& s) {
    if (!started_) {
      started_ = true;
      ref_ = last_ = s;
      next_at_ = s.wall + kCheck;
      return count_;
    }
    if (s.steps > last_.steps) stepped_at_ = s.wall;
    if (phase_ == Phase::kSettled) return check(s);
    if (s.wall - last_.wall > kLate) return discard(s);
    last_ = s;
    if (by_steps_ && !s.at_step) {  // only an idle check: windows start and end as a step ends...
      return s.wall - stepped_at_ > kNoStep ? discard(s) : count_;  // ...unless the steps stopped (inference now)
    }
    const double window = by_steps_ ? kStepWindow : kWindow;
    if (align_marks_ > 0) {  // a trial in steps starts as the second step ends: the first may be a new model's first
      if (--align_marks_ > 0) return count_;  // (ResNet-20 b128: 1.6-1.9x as long as the next)
      ref_ = s;
      next_at_ = s.wall + window;
      return count_;
    }
    const double dt = s.wall - ref_.wall;
    const double rate = by_steps_ ? (dt > 0 ? (s.steps - ref_.steps) / dt : 0) : useful(s);
    // A challenger clearly behind loses at once: a trial of a slower count costs a third of a window, not a whole
    // one (a wrong early stop keeps the count in use). LeNet beside one busy loop runs one thread at about 80% of
    // two, and full windows at that cost each trial 0.3 s at 80% speed: the trials of the first seconds (1, 2, 4 s
    // apart) took 10-15% of a 4 s run's steps.
    const bool hopeless = phase_ == Phase::kChallenger && dt >= window / 3 && rate < kGiveUp * kept_rate_;
    const bool enough = dt >= window && (s.busy_self - ref_.busy_self >= kMinWork || dt >= kMaxWindow);
    if (!hopeless && !enough) {
      next_at_ = s.wall + window / 3;  // too short yet, or too few scheduler slices
      return count_;
    }
    ref_ = s;
    next_at_ = s.wall + window / 3;
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
    // Every core wins a tie (it is the count of a quiet machine); one thread must win by the margin.
    const double margin = kept_ == 1 ? 1.0 : by_steps_ ? kStepMargin : kMargin;
    return settle(s, challenger_rate_ > kept_rate_ * margin);
  }

 private:
  enum class Phase { kSettled, kKept, kChallenger, kKeptAgain };

  // A load check: every core on a quiet machine; under contention a trial when one is due. The first trial starts at
  // the first check that sees a neighbour, and a new neighbour (or one gone) cuts the backoff short: a short run
  // beside one gets its count within about a second, also on a machine that was busy before.
  int check(const CpuTimes& s) {
    const double dt = s.wall - ref_.wall;
    const double others = dt > 0 ? ((s.busy_all - ref_.busy_all) - (s.busy_self - ref_.busy_self)) / dt : 0;
    const bool stepping = s.wall - stepped_at_ <= kMaxWindow;  // a step ended lately: measure in steps
    ref_ = last_ = s;
    next_at_ = s.wall + kCheck;
    if (max_ == 1 || others < kQuiet) {  // nobody to compete with: every core
      kept_ = count_ = max_;
      backoff_ = kMinBackoff;
      trial_at_ = s.wall;
      return count_;
    }
    if (std::fabs(others - trial_others_) >= kChange && ended_at_ + kMinBackoff < trial_at_)
      trial_at_ = ended_at_ + kMinBackoff;
    if (s.wall >= trial_at_) {
      trial_others_ = others;
      phase_ = Phase::kKept;  // first measure the count in use...
      by_steps_ = stepping;
      align_marks_ = stepping ? 2 : 0;
      next_at_ = stepping ? s.wall : s.wall + kWindow / 3;
    }
    return count_;
  }

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
    next_at_ = s.wall + kCheck;
    ended_at_ = s.wall;
    trial_at_ = s.wall + backoff_;
    return count_;
  }

  // A window that saw the process idle says nothing: back to the count in use, a new trial soon.
  int discard(const CpuTimes& s) {
    count_ = kept_;
    phase_ = Phase::kSettled;
    ref_ = last_ = s;
    next_at_ = s.wall + kCheck;
    trial_at_ = s.wall + kWindow;
    return count_;
  }

  int max_, count_, kept_ = max_;
  Phase phase_ = Phase::kSettled;
  bool started_ = false;
  bool by_steps_ = false;  // this trial measures steps per second
  int align_marks_ = 0;    // step ends to wait for before its first window begins
  CpuTimes ref_, last_;    // where the window began; the last sample
  double next_at_ = 0, trial_at_ = 0, backoff_ = kMinBackoff;
  double stepped_at_ = -1e300;  // when a sample last saw a step marked since the one before
  double trial_others_ = 0;     // others' CPUs when the last trial began
  double ended_at_ = -1e300;    // when the last trial ended
  double kept_rate_ = 0, challenger_rate_ = 0;
  int trials_ended_ = 0, last_trial_kept_ = 0;
};

}  // namespace simdnet
