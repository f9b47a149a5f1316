// SPDX-License-Identifier: MIT
// The 'auto' thread count's rule (ops/thread_trials.h) on made-up CPU-time samples: all cores on a
// quiet machine; under contention a trial of one thread against all cores keeps whichever did
// more useful work (CPU time less spinning) per second, backs off while the count in use keeps
// winning, discards windows in which the process sat idle, and returns to all cores when the
// machine is quiet again; a process that marks its steps is measured in steps per second over whole
// steps. No clocks or threads: every sample is given.
#include <cmath>
#include <string>

#include "check.h"
#include "ops/thread_trials.h"

namespace simdnet::test {
namespace {

// Drives a ThreadTrials with a machine in which other processes keep `others` CPUs busy and this
// process does `rate[count]` CPU-seconds per second with `spin[count]` of them spinning.
struct Machine {
  ThreadTrials trials;
  CpuTimes now;
  double others = 0;
  double rate[3] = {0, 1, 1.8}, spin[3] = {0, 0, 0.1};
  explicit Machine(int max) : trials(max) {}
  // Advances to the next sample the rule asks for (plus `idle` seconds with no work) and takes it.
  int next(double idle = 0) {
    const double at = trials.by_steps() ? trials.poll_at() : trials.next_at();
    const double dt = at > now.wall ? at - now.wall : 0;
    const int c = trials.count();
    now.wall += dt + idle;
    now.busy_self += rate[c] * dt;
    now.spin += spin[c] * dt;
    now.busy_all += (rate[c] + others) * dt + others * idle;
    return trials.step(now);
  }
  // One training step on the count in use, taking `step_rate[count]` steps per second, with the samples threads.cc
  // takes: at ten op starts within the step when due, then as the step ends (native.markStep).
  double step_rate[3] = {0, 240, 220};
  void advance(double dt, int c) {
    now.wall += dt;
    now.busy_self += rate[c] * dt;
    now.spin += spin[c] * dt;
    now.busy_all += (rate[c] + others) * dt;
  }
  void training_step() {
    const int c = trials.count();
    const double op = 1 / step_rate[c] / 10;
    now.at_step = false;
    for (int k = 0; k < 10; ++k) {
      if (now.wall >= (trials.by_steps() ? trials.poll_at() : trials.next_at())) trials.step(now);
      advance(op, c);
    }
    now.steps += 1;
    now.at_step = true;
    if (now.wall >= trials.next_at()) trials.step(now);
  }
  // Trains for `seconds`; returns the share of the steps run on count 1.
  double train(double seconds) {
    const double end = now.wall + seconds;
    double steps = 0, on_one = 0;
    for (; now.wall < end; ++steps) {
      if (trials.count() == 1) ++on_one;
      training_step();
    }
    return on_one / steps;
  }
  // Runs samples until `seconds` have passed; returns the share of that time spent on count 1.
  double run(double seconds) {
    const double end = now.wall + seconds;
    double on_one = 0;
    while (now.wall < end) {
      const double t0 = now.wall;
      const int c = trials.count();
      next();
      if (c == 1) on_one += now.wall - t0;
    }
    return on_one / seconds;
  }
};

}  // namespace

void test_thread_trials(Tally& t) {
  {
    Machine m(2);  // quiet: every core, no trials
    t.truth("quiet machine: all cores", m.run(20) == 0 && m.trials.count() == 2 && !m.trials.measuring());
  }
  {
    Machine m(2);  // one busy loop, 2 threads do more useful work: stays on all cores (trials cost little)
    m.others = 1;
    m.rate[1] = 1.0, m.rate[2] = 1.3, m.spin[2] = 0.05;
    const double on_one = m.run(60);
    t.truth("contended, 2 threads faster: keeps 2", m.trials.count() == 2 || m.trials.measuring());
    t.truth("contended, 2 threads faster: 1 thread under 2% of the time (" + std::to_string(on_one) + ")",
            on_one < 0.02);
  }
  {
    Machine m(2);  // one thread does 5x less (a crowded machine): its trial windows stop after 0.1 s
    m.others = 3;
    m.rate[1] = 0.13, m.rate[2] = 0.65, m.spin[2] = 0;
    const double on_one = m.run(60);
    t.truth("1 thread far slower: keeps 2", m.trials.count() == 2);
    t.truth("1 thread far slower: 1 thread under 2% of the time (" + std::to_string(on_one) + ")", on_one < 0.02);
  }
  {
    Machine m(2);  // one thread does more: switches to it, tries 2 again ever more rarely
    m.others = 1.5;
    m.rate[1] = 0.9, m.rate[2] = 1.0, m.spin[2] = 0.4;  // 0.6 useful on 2 threads
    m.run(2);
    t.truth("contended, 1 thread faster: switches to 1", m.trials.count() == 1);
    const double on_one = m.run(60);
    t.truth("contended, 1 thread faster: 1 thread over 90% of the time (" + std::to_string(on_one) + ")", on_one > 0.9);
    m.others = 0;  // the neighbour stops: back to every core at the next load check
    m.run(2 * ThreadTrials::kWindow + ThreadTrials::kWindow);
    t.truth("quiet again: all cores", m.trials.count() == 2);
  }
  {
    Machine m(2);  // one thread at 90% of two: not behind enough to stop early, a full window, and 2 are kept
    m.others = 1;
    m.rate[1] = 0.9, m.rate[2] = 1.0, m.spin[2] = 0;
    for (int i = 0; i < 100 && !m.trials.measuring(); ++i) m.next();
    for (int i = 0; i < 100 && m.trials.count() == 2; ++i) m.next();  // to the challenger's window
    const double start = m.now.wall;
    while (m.trials.count() == 1) m.next();
    t.truth("1 thread at 90%: a whole window (" + std::to_string(m.now.wall - start) + " s)",
            m.now.wall - start >= ThreadTrials::kWindow);
    for (int i = 0; i < 100 && m.trials.measuring(); ++i) m.next();
    t.truth("1 thread at 90%: keeps 2", m.trials.count() == 2);
  }
  {
    Machine m(2);  // one thread at 80% of two stops after a third of a window
    m.others = 1;
    m.rate[1] = 0.8, m.rate[2] = 1.0, m.spin[2] = 0;
    for (int i = 0; i < 100 && !m.trials.measuring(); ++i) m.next();
    for (int i = 0; i < 100 && m.trials.count() == 2; ++i) m.next();
    const double start = m.now.wall;
    while (m.trials.count() == 1) m.next();
    t.truth("1 thread at 80%: stops early (" + std::to_string(m.now.wall - start) + " s)",
            m.now.wall - start < ThreadTrials::kWindow);
  }
  {
    Machine m(2);  // a tie (within the margin) keeps the count in use
    m.others = 1;
    m.rate[1] = 1.0, m.rate[2] = 1.02, m.spin[2] = 0;
    t.truth("contended, a tie: keeps all cores", m.run(30) == 0.0 || m.trials.count() == 2);
  }
  {
    Machine m(2);  // after a switch to 1 thread, a tie brings every core back at the next trial
    m.others = 1;
    m.rate[1] = 1.0, m.rate[2] = 0.5, m.spin[2] = 0;
    m.run(2);
    const bool switched = m.trials.count() == 1;
    m.rate[2] = 1.02;
    m.run(3);
    for (int i = 0; i < 100 && m.trials.measuring(); ++i) m.next();  // to the end of a trial
    t.truth("tie after a switch: back to all cores", switched && m.trials.count() == 2);
  }
  {
    Machine m(2);  // a window in which the process idled is discarded, not counted against a count
    m.others = 1;
    m.rate[1] = 0.5, m.rate[2] = 1.5, m.spin[2] = 0;
    for (int i = 0; i < 100 && !m.trials.measuring(); ++i) m.next();
    t.truth("contended: a trial starts", m.trials.measuring());
    const int kept = m.trials.count();
    m.next(10 * ThreadTrials::kWindow);  // the process did nothing for 3 s
    t.truth("idle window discarded", !m.trials.measuring() && m.trials.count() == kept);
  }
  {
    Machine m(2);  // a crowded machine: this process gets 5% of a CPU; windows grow until it did 0.1 s of work
    m.others = 2;
    m.rate[1] = 0.05, m.rate[2] = 0.03, m.spin[2] = 0;
    m.run(20);
    t.truth("crowded, 1 thread faster: switches to 1", m.trials.count() == 1 || m.trials.measuring());
    t.truth("crowded: windows of 0.1 CPU-seconds", m.trials.last_challenger() > 0 && m.trials.last_kept() > 0);
    // The first trial ran the default (2) against 1 thread; the trace's record of it says so.
    t.truth("crowded: trials counted, the last one's count in use given",
            m.trials.trials_ended() >= 1 && (m.trials.last_trial_kept() == 1 || m.trials.last_trial_kept() == 2));
  }
  {
    Machine m(2);  // a slow two-thread process (docs/threads.md, session 16): more CPU time, fewer steps than 1 thread
    m.others = 1;
    m.rate[1] = 1.0, m.rate[2] = 1.3, m.spin[2] = 0.05;            // useful CPU-s/s: 2 threads look 25% faster...
    m.step_rate[1] = 15600.0 / 64, m.step_rate[2] = 14000.0 / 64;  // ...but train 10% slower
    m.train(0.5);
    const int ended = m.trials.trials_ended();
    m.train(1.0);
    t.truth("steps, slow 2 threads: a trial within a second of the neighbour",
            ended == 0 && m.trials.trials_ended() >= 1);
    t.truth("steps, slow 2 threads: measured in steps", m.trials.last_by_steps());
    const double on_one = m.train(30);
    t.truth("steps, slow 2 threads: switches to 1", m.trials.count() == 1 || m.trials.measuring());
    t.truth("steps, slow 2 threads: 1 thread in over 85% of the steps (" + std::to_string(on_one) + ")", on_one > 0.85);
  }
  {
    Machine m(2);  // a fast two-thread process: 2 threads train 19% faster, kept
    m.others = 1;
    m.step_rate[1] = 16000.0 / 64, m.step_rate[2] = 19000.0 / 64;
    const double on_one = m.train(30);
    t.truth("steps, fast 2 threads: keeps 2", m.trials.count() == 2);
    t.truth("steps, fast 2 threads: 1 thread in under 3% of the steps (" + std::to_string(on_one) + ")", on_one < 0.03);
  }
  {
    Machine m(2);  // ResNet-20-like steps of 0.25-0.3 s: windows cover whole steps, so the rates are exact
    m.step_rate[1] = 3.3, m.step_rate[2] = 4.1;
    m.train(1);  // quiet first (the first load checks see steps), then a neighbour
    m.others = 1;
    for (int i = 0; i < 200 && m.trials.trials_ended() == 0; ++i) m.training_step();
    t.truth("steps, long steps: a trial ends", m.trials.trials_ended() == 1 && m.trials.count() == 2);
    t.truth("steps, long steps: exact rates (" + std::to_string(m.trials.last_kept()) + ", " +
                std::to_string(m.trials.last_challenger()) + ")",
            std::abs(m.trials.last_kept() - 4.1) < 1e-9 && std::abs(m.trials.last_challenger() - 3.3) < 1e-9);
  }
  {
    Machine m(2);  // a machine busy already (trials backed off to 8 s), then a new neighbour: a trial within 1.5 s
    m.others = 0.6;
    m.step_rate[1] = 16000.0 / 64, m.step_rate[2] = 19000.0 / 64;
    m.train(30);
    m.others = 1.6;
    const int ended = m.trials.trials_ended();
    m.train(1.5);
    t.truth("steps, a new neighbour: a trial soon", m.trials.trials_ended() > ended);
  }
  {
    Machine m(2);  // training stops during a trial in steps (inference from then on): the trial is dropped, CPU time
    m.step_rate[1] = 3.3, m.step_rate[2] = 4.1;
    m.train(1);
    m.others = 1;
    for (int i = 0; i < 100 && !m.trials.by_steps(); ++i) m.training_step();
    const bool in_steps = m.trials.by_steps();
    const int ended = m.trials.trials_ended();
    m.run(20);
    t.truth("steps stop: the next trials use CPU time",
            in_steps && m.trials.trials_ended() > ended && !m.trials.last_by_steps());
  }
  {
    Machine m(2);  // training on a quiet machine: every core, no trials
    t.truth("steps, quiet: all cores", m.train(20) == 0 && m.trials.trials_ended() == 0 && !m.trials.measuring());
  }
  {
    Machine m(1);  // one core: always 1
    m.others = 1;
    m.run(5);
    t.truth("one core: 1 thread", m.trials.count() == 1);
  }
}

}  // namespace simdnet::test
