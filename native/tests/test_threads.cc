// SPDX-License-Identifier: MIT
// The 'auto' thread count's rule (ops/thread_trials.h) on made-up CPU-time samples: all cores on a
// quiet machine; under contention a trial of one thread against all cores keeps whichever did
// more useful work (CPU time less spinning) per second, backs off while the count in use keeps
// winning, discards windows in which the process sat idle, and returns to all cores when the
// machine is quiet again. No clocks or threads: every sample is given.
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
    const double dt = trials.next_at() > now.wall ? trials.next_at() - now.wall : 0;
    const int c = trials.count();
    now.wall += dt + idle;
    now.busy_self += rate[c] * dt;
    now.spin += spin[c] * dt;
    now.busy_all += (rate[c] + others) * dt + others * idle;
    return trials.step(now);
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
    Machine m(1);  // one core: always 1
    m.others = 1;
    m.run(5);
    t.truth("one core: 1 thread", m.trials.count() == 1);
  }
}

}  // namespace simdnet::test
