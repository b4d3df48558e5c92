// Integration fixture: a real docker-registry on 127.0.0.1 (anonymous, basic or token mode) run by
// test/fixtures/registry.py, and the fixture images built by test/fixtures/images.py. See
// test/fixtures/README.md for what the scripts do and what the images contain.
//
//   auto registry = RegistryFixture::Start(RegistryMode::kToken);
//   registry->Push(images["images"]["busybox"]["layout"], "busybox:latest");
//   ... pull "<registry->host()>/busybox:latest" with registry->username()/password() ...
//
// registry.py leaves a supervisor process that outlives the `start` command; the test process
// becomes a child subreaper so that the supervisor is re-parented to it and reaped by Stop(),
// instead of lingering as a zombie under a PID 1 that reaps late.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "test/integration/berthd_fixture.h"

namespace berth::testing {

enum class RegistryMode { kAnonymous, kBasic, kToken };

// What the fixtures need that this machine lacks ("" when everything is there), for
// `if (auto missing = MissingRegistryTools(); !missing.empty()) GTEST_SKIP() << missing;`.
std::string MissingRegistryTools();

class RegistryFixture {
 public:
  struct Options {
    std::string password;         // random when empty
    bool anonymous_pull = false;  // token mode: anonymous clients get pull tokens
    int token_ttl_seconds = 300;
  };

  // Starts a registry in a fresh temporary directory. Throws std::runtime_error with
  // registry.py's message when it could not start.
  static std::unique_ptr<RegistryFixture> Start(RegistryMode mode, const Options& options);
  static std::unique_ptr<RegistryFixture> Start(RegistryMode mode) {
    return Start(mode, Options{});
  }

  ~RegistryFixture();  // Stop()
  RegistryFixture(const RegistryFixture&) = delete;
  RegistryFixture& operator=(const RegistryFixture&) = delete;

  std::string host() const;      // "127.0.0.1:41234": the domain of image references
  std::string url() const;       // "http://127.0.0.1:41234"
  std::string username() const;  // "" in anonymous mode
  std::string password() const;  // "" in anonymous mode
  const std::string& dir() const { return dir_.path(); }
  const nlohmann::json& info() const { return info_; }  // registry.json

  // Pushes the OCI layout's index.json entry (the only one, or the one named `ref_name`) as
  // "repo:tag"; returns registry.py's answer ({repo, tag, digest, media_type, reference}).
  // Throws std::runtime_error on failure.
  nlohmann::json Push(const std::string& layout_dir, const std::string& repo_tag,
                      const std::string& ref_name = "");
  // Flips every byte of a stored blob (the registry keeps serving it with its old digest).
  void Corrupt(const std::string& digest);

  // A log file in dir(): "registry.log", "token-server.log", "supervisor.log".
  std::string ReadLog(const std::string& name) const;
  // Requests the token server has answered so far (token mode).
  int TokenRequests() const;

  // Stops every process and reaps the ones re-parented to this process. Idempotent.
  void Stop();

 private:
  RegistryFixture() : dir_("berth-registry") {}
  std::vector<std::string> Command(const std::vector<std::string>& args) const;

  TempDir dir_;
  nlohmann::json info_;
  bool running_ = false;
};

// Builds every fixture image (images.py build) into `dir` and returns images.json. Throws
// std::runtime_error on failure.
nlohmann::json BuildFixtureImages(const std::string& dir);

// The fixture images, built once per test process into a directory removed at exit.
const nlohmann::json& SharedFixtureImages();

// Makes this process a child subreaper (PR_SET_CHILD_SUBREAPER); safe to call repeatedly.
void BecomeChildSubreaper();

// A 127.0.0.1 port that nothing listens on (bound once by this process, then released).
int UnusedLoopbackPort();

}  // namespace berth::testing
