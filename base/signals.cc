#include "base/signals.h"

#include <pthread.h>
#include <signal.h>

namespace berth {
namespace {

sigset_t TerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t signals = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that hangs up mid-write must not kill the daemon.
  signal(SIGPIPE, SIG_IGN);
}

const char* WaitForTerminationSignal() {
  sigset_t signals = TerminationSignals();
  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  return received == SIGTERM ? "SIGTERM" : "SIGINT";
}

}  // namespace berth
