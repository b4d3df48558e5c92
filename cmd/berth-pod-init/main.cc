// berth-pod-init: PID 1 of a pod whose containers share one PID namespace. It only reaps zombies
// (the orphans of every container land here) and exits on SIGTERM or SIGINT, which takes the
// whole PID namespace down with it. Deliberately tiny: no allocation after start, no libraries.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

int main() {
  sigset_t signals;
  sigfillset(&signals);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  while (true) {
    int received = 0;
    sigwait(&signals, &received);
    if (received == SIGTERM || received == SIGINT) return 0;
    if (received == SIGCHLD) {
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    }
  }
}
