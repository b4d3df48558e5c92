#include "cmd/berthctl/exec_commands.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "cmd/berthctl/terminal.h"

namespace berthctl {
namespace {

using berth::streaming::client::RemoteCommandOptions;
using berth::streaming::client::TerminalSizeQueue;
using berth::streaming::client::Transport;

struct StreamFlags {
  bool stdin = false;
  bool tty = false;
  Transport transport = Transport::kSpdy;
  berth::streaming::TlsClientOptions
      tls;  // from the global --tls-ca-file / --insecure-skip-tls-verify
};

berth::streaming::TlsClientOptions TlsOptions(const GlobalOptions& options) {
  return {options.tls_ca_file, options.insecure_skip_tls_verify};
}

struct ExecFlags {
  StreamFlags stream;
  bool sync = false;
  int64_t sync_timeout = 0;
};

// Runs the remote side of an exec or attach against this process's stdin/stdout/stderr and
// returns its exit code. With a TTY and a terminal on stdin, the terminal is raw for the
// duration and its size follows the local window.
int StreamToTerminal(const std::string& what, const std::string& url, const StreamFlags& flags) {
  // A reader of our stdout that goes away is a write error, not a silent death.
  ::signal(SIGPIPE, SIG_IGN);
  RemoteCommandOptions remote;
  remote.stdin = flags.stdin;
  remote.stdout = true;
  remote.stderr = !flags.tty;
  remote.tty = flags.tty;
  remote.transport = flags.transport;
  remote.tls = flags.tls;
  TerminalSizeQueue sizes;
  std::optional<RawTerminal> raw;
  std::optional<TerminalSizeWatcher> watcher;
  if (flags.tty && ::isatty(STDIN_FILENO)) {
    raw.emplace(STDIN_FILENO);
    watcher.emplace(STDIN_FILENO, sizes);
  }
  auto code = berth::streaming::client::RunRemoteCommand(
      url, remote, flags.stdin ? STDIN_FILENO : -1, STDOUT_FILENO, flags.tty ? -1 : STDERR_FILENO,
      watcher ? &sizes : nullptr);
  watcher.reset();
  raw.reset();
  if (!code.ok()) {
    std::fprintf(stderr, "berthctl: %s: %s\n", what.c_str(), code.error().message().c_str());
    return 1;
  }
  return *code;
}

// Like `crictl exec --sync`: ExecSync, its output printed once the command has ended.
int ExecSync(const GlobalOptions& options, const std::string& container,
             const std::vector<std::string>& cmd, int64_t timeout) {
  Client client(options);
  ::runtime::v1::ExecSyncRequest request;
  request.set_container_id(container);
  for (const auto& arg : cmd) request.add_cmd(arg);
  request.set_timeout(timeout);
  // The call lasts as long as the command: bounded by its own timeout plus --timeout, or not at
  // all when the command has none.
  std::unique_ptr<grpc::ClientContext> context;
  if (timeout > 0) {
    context = client.Context(static_cast<int>(timeout) + options.timeout_seconds);
  } else {
    if (!client.WaitForConnection()) {
      std::fprintf(stderr, "berthctl: exec: cannot connect to %s within the --timeout of %d s\n",
                   options.endpoint.c_str(), options.timeout_seconds);
      return 1;
    }
    context = client.StreamContext();
  }
  ::runtime::v1::ExecSyncResponse response;
  auto status = client.runtime().ExecSync(context.get(), request, &response);
  if (!status.ok()) return ReportRpcError("exec " + container, status);
  std::fwrite(response.stdout().data(), 1, response.stdout().size(), stdout);
  std::fwrite(response.stderr().data(), 1, response.stderr().size(), stderr);
  return response.exit_code();
}

int Exec(const GlobalOptions& options, const ExecFlags& flags, const std::string& container,
         const std::vector<std::string>& cmd) {
  if (cmd.empty()) {
    std::fprintf(stderr, "berthctl: exec: no command given\n");
    return 1;
  }
  if (flags.sync) return ExecSync(options, container, cmd, flags.sync_timeout);
  Client client(options);
  ::runtime::v1::ExecRequest request;
  request.set_container_id(container);
  for (const auto& arg : cmd) request.add_cmd(arg);
  request.set_stdin(flags.stream.stdin);
  request.set_tty(flags.stream.tty);
  request.set_stdout(true);
  // With a TTY there is one output stream (CRI: ExecRequest.stderr must then be false).
  request.set_stderr(!flags.stream.tty);
  ::runtime::v1::ExecResponse response;
  auto status = client.runtime().Exec(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("exec " + container, status);
  StreamFlags stream = flags.stream;
  stream.tls = TlsOptions(options);
  return StreamToTerminal("exec " + container, response.url(), stream);
}

int Attach(const GlobalOptions& options, const StreamFlags& flags, const std::string& container) {
  Client client(options);
  ::runtime::v1::AttachRequest request;
  request.set_container_id(container);
  request.set_stdin(flags.stdin);
  request.set_tty(flags.tty);
  request.set_stdout(true);
  request.set_stderr(!flags.tty);
  ::runtime::v1::AttachResponse response;
  auto status = client.runtime().Attach(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("attach " + container, status);
  StreamFlags stream = flags;
  stream.tls = TlsOptions(options);
  return StreamToTerminal("attach " + container, response.url(), stream);
}

void AddStreamFlags(CLI::App& command, StreamFlags* flags) {
  command.add_flag("-i,--stdin", flags->stdin, "pass stdin to the container");
  command.add_flag("-t,--tty", flags->tty, "stdin is a TTY");
  AddTransportOption(command, &flags->transport);
}

}  // namespace

void AddTransportOption(CLI::App& command, Transport* transport) {
  command.add_option("--transport", *transport, "streaming protocol: spdy or websocket")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Transport>{{"spdy", Transport::kSpdy},
                                           {"websocket", Transport::kWebSocket}},
          CLI::ignore_case))
      ->default_str("spdy");
}

void AddExecCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto exec_flags = std::make_shared<ExecFlags>();
  auto exec_container = std::make_shared<std::string>();
  auto* exec = app.add_subcommand("exec", "run a command in a running container");
  AddStreamFlags(*exec, &exec_flags->stream);
  exec->add_flag("-s,--sync", exec_flags->sync,
                 "run with ExecSync and print its output at the end");
  exec->add_option("--timeout", exec_flags->sync_timeout,
                   "with --sync: seconds before the command is killed (0: none)")
      ->capture_default_str();
  exec->add_option("container", *exec_container, "container ID (or a unique prefix)")->required();
  // Everything after the container is the command and its arguments, options included (as
  // crictl parses it; CLI11 would take a `--` after the container as the end of `exec`).
  exec->prefix_command();
  exec->footer("Usage: berthctl exec [-i] [-t] [--sync] CONTAINER COMMAND [ARG...]");
  exec->callback([&options, exit_code, exec, exec_flags, exec_container] {
    *exit_code = Exec(options, *exec_flags, *exec_container, exec->remaining());
  });

  auto attach_flags = std::make_shared<StreamFlags>();
  auto attach_container = std::make_shared<std::string>();
  auto* attach = app.add_subcommand("attach", "attach to a running container's stdio");
  AddStreamFlags(*attach, attach_flags.get());
  attach->add_option("container", *attach_container, "container ID (or a unique prefix)")
      ->required();
  attach->callback([&options, exit_code, attach_flags, attach_container] {
    *exit_code = Attach(options, *attach_flags, *attach_container);
  });
}

}  // namespace berthctl
