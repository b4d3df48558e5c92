#include "runtime/systemd_bus.h"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "base/file_util.h"

namespace berth::systemd {
namespace {

constexpr char kService[] = "org.freedesktop.systemd1";
constexpr char kPath[] = "/org/freedesktop/systemd1";
constexpr char kManager[] = "org.freedesktop.systemd1.Manager";
constexpr uint64_t kCallTimeoutUsec = 30'000'000;

// systemd's D-Bus error with its closest code; a transport error keeps its errno (a lost
// connection is retried).
Error BusError(int r, const sd_bus_error& error, const std::string& what) {
  if (!sd_bus_error_is_set(&error)) return Error::FromErrno(-r, what);
  std::string detail = error.message != nullptr ? error.message : std::strerror(-r);
  std::string name = error.name != nullptr ? std::string(" (") + error.name + ")" : "";
  ErrorCode code = ErrorCode::kInternal;
  if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit"))
    code = ErrorCode::kNotFound;
  if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists"))
    code = ErrorCode::kAlreadyExists;
  if (sd_bus_error_has_name(&error, "org.freedesktop.DBus.Error.InvalidArgs"))
    code = ErrorCode::kInvalidArgument;
  return Error(code, what + ": " + detail + name);
}

// The connection, its job-result bookkeeping and the lock around both.
class Bus {
 public:
  static Bus& Get() {
    static Bus bus;
    return bus;
  }

  // Runs `call` on a connected bus under the lock; once more on a fresh connection when the old
  // one was lost (systemd re-executed, the bus daemon restarted).
  template <typename Call>
  auto With(Call&& call) -> decltype(call(static_cast<sd_bus*>(nullptr))) {
    std::lock_guard lock(mutex_);
    for (int attempt = 0;; ++attempt) {
      if (bus_ == nullptr) {
        if (auto connected = Connect(); !connected) return std::move(connected).error();
      }
      auto result = call(bus_);
      bool lost = !result.ok() &&
                  (result.error().sys_errno() == ECONNRESET ||
                   result.error().sys_errno() == ENOTCONN || result.error().sys_errno() == EPIPE);
      if (!lost || attempt > 0) return result;
      Disconnect();
    }
  }

  // After a call that returned job `job`: waits for its JobRemoved signal.
  Result<void> WaitForJob(sd_bus* bus, const std::string& job, const std::string& unit,
                          std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto done = removed_jobs_.find(job); done != removed_jobs_.end()) {
        std::string result = done->second;
        removed_jobs_.erase(done);
        if (result == "done") return Ok();
        return FailedPrecondition("systemd unit " + unit + ": its job ended with \"" + result +
                                  "\" (journalctl -u " + unit + ")");
      }
      int r = sd_bus_process(bus, nullptr);
      if (r < 0) return Error::FromErrno(-r, "read from systemd's bus");
      if (r > 0) continue;
      auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return DeadlineExceeded("systemd unit " + unit + ": its job did not end in time");
      r = sd_bus_wait(bus, static_cast<uint64_t>(left.count()));
      if (r < 0) return Error::FromErrno(-r, "wait on systemd's bus");
    }
  }

 private:
  Result<void> Connect() {
    sd_bus* bus = nullptr;
    // Root talks to systemd directly where it can (no bus daemon needed), as systemctl does.
    bool direct = PathExists("/run/systemd/private");
    int r = 0;
    if (direct) {
      r = sd_bus_new(&bus);
      if (r >= 0) r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
      if (r >= 0) r = sd_bus_start(bus);
      if (r < 0) {
        sd_bus_unref(bus);
        bus = nullptr;
        direct = false;
      }
    }
    if (bus == nullptr) r = sd_bus_open_system(&bus);
    if (r < 0)
      return Error::FromErrno(-r, "connect to systemd (/run/systemd/private, the system bus)");
    // JobRemoved tells when a unit's start or stop is done. On a direct connection messages carry
    // no sender, so the match names none there.
    r = sd_bus_match_signal(bus, nullptr, direct ? nullptr : kService, kPath, kManager,
                            "JobRemoved", &Bus::OnJobRemoved, this);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    if (r >= 0)
      r = sd_bus_call_method(bus, kService, kPath, kManager, "Subscribe", &error, nullptr, "");
    if (r < 0) {
      Error failed = BusError(r, error, "subscribe to systemd's job signals");
      sd_bus_error_free(&error);
      sd_bus_flush_close_unref(bus);
      return failed;
    }
    bus_ = bus;
    return Ok();
  }

  void Disconnect() {
    sd_bus_flush_close_unref(bus_);
    bus_ = nullptr;
    removed_jobs_.clear();
  }

  static int OnJobRemoved(sd_bus_message* message, void* self, sd_bus_error*) {
    uint32_t id = 0;
    const char* job = nullptr;
    const char* unit = nullptr;
    const char* result = nullptr;
    if (sd_bus_message_read(message, "uoss", &id, &job, &unit, &result) < 0) return 0;
    auto& jobs = static_cast<Bus*>(self)->removed_jobs_;
    // Bounded: jobs of other clients are seen too and nobody waits for them.
    if (jobs.size() > 1024) jobs.clear();
    jobs[job] = result;
    return 0;
  }

  std::mutex mutex_;
  sd_bus* bus_ = nullptr;
  std::map<std::string, std::string> removed_jobs_;
};

int AppendProperty(sd_bus_message* message, const Property& property) {
  int r = sd_bus_message_open_container(message, 'r', "sv");
  if (r >= 0) r = sd_bus_message_append(message, "s", property.name.c_str());
  if (r < 0) return r;
  if (const bool* flag = std::get_if<bool>(&property.value)) {
    r = sd_bus_message_append(message, "v", "b", static_cast<int>(*flag));
  } else if (const uint64_t* number = std::get_if<uint64_t>(&property.value)) {
    r = sd_bus_message_append(message, "v", "t", *number);
  } else if (const std::string* text = std::get_if<std::string>(&property.value)) {
    r = sd_bus_message_append(message, "v", "s", text->c_str());
  } else if (const auto* pids = std::get_if<std::vector<uint32_t>>(&property.value)) {
    r = sd_bus_message_open_container(message, 'v', "au");
    if (r >= 0)
      r = sd_bus_message_append_array(message, 'u', pids->data(), pids->size() * sizeof(uint32_t));
    if (r >= 0) r = sd_bus_message_close_container(message);
  } else if (const auto* bytes = std::get_if<std::vector<uint8_t>>(&property.value)) {
    r = sd_bus_message_open_container(message, 'v', "ay");
    if (r >= 0) r = sd_bus_message_append_array(message, 'y', bytes->data(), bytes->size());
    if (r >= 0) r = sd_bus_message_close_container(message);
  }
  if (r < 0) return r;
  return sd_bus_message_close_container(message);
}

int AppendProperties(sd_bus_message* message, const std::vector<Property>& properties) {
  int r = sd_bus_message_open_container(message, 'a', "(sv)");
  for (const auto& property : properties) {
    if (r >= 0) r = AppendProperty(message, property);
  }
  if (r >= 0) r = sd_bus_message_close_container(message);
  return r;
}

// Sends `message`, reads the job path it answers with and waits for that job.
Result<void> CallAndWait(Bus& bus, sd_bus* connection, sd_bus_message* message,
                         const std::string& what, const std::string& unit,
                         std::chrono::seconds timeout) {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call(connection, message, kCallTimeoutUsec, &error, &reply);
  if (r < 0) {
    Error failed = BusError(r, error, what);
    sd_bus_error_free(&error);
    return failed;
  }
  const char* job = nullptr;
  r = sd_bus_message_read(reply, "o", &job);
  std::string job_path = r >= 0 && job != nullptr ? job : "";
  sd_bus_message_unref(reply);
  if (job_path.empty()) return Internal(what + ": systemd answered without a job");
  return bus.WaitForJob(connection, job_path, unit, timeout);
}

}  // namespace

bool Booted() {
  return PathExists("/run/systemd/system");
}

Result<void> StartTransientUnit(const std::string& name, const std::vector<Property>& properties,
                                std::chrono::seconds timeout) {
  Bus& bus = Bus::Get();
  std::string what = "start systemd unit " + name;
  return bus.With([&](sd_bus* connection) -> Result<void> {
    sd_bus_message* message = nullptr;
    int r = sd_bus_message_new_method_call(connection, &message, kService, kPath, kManager,
                                           "StartTransientUnit");
    if (r >= 0) r = sd_bus_message_append(message, "ss", name.c_str(), "fail");
    if (r >= 0) r = AppendProperties(message, properties);
    if (r >= 0) r = sd_bus_message_append(message, "a(sa(sv))", 0);
    if (r < 0) {
      sd_bus_message_unref(message);
      return Error::FromErrno(-r, what + ": build the D-Bus message");
    }
    auto done = CallAndWait(bus, connection, message, what, name, timeout);
    sd_bus_message_unref(message);
    return done;
  });
}

Result<void> StopUnit(const std::string& name, std::chrono::seconds timeout) {
  Bus& bus = Bus::Get();
  std::string what = "stop systemd unit " + name;
  return bus.With([&](sd_bus* connection) -> Result<void> {
    sd_bus_message* message = nullptr;
    int r =
        sd_bus_message_new_method_call(connection, &message, kService, kPath, kManager, "StopUnit");
    if (r >= 0) r = sd_bus_message_append(message, "ss", name.c_str(), "replace");
    if (r < 0) {
      sd_bus_message_unref(message);
      return Error::FromErrno(-r, what + ": build the D-Bus message");
    }
    auto done = CallAndWait(bus, connection, message, what, name, timeout);
    sd_bus_message_unref(message);
    if (!done && done.error().code() == ErrorCode::kNotFound) return Ok();
    return done;
  });
}

Result<void> SetUnitProperties(const std::string& name, const std::vector<Property>& properties) {
  if (properties.empty()) return Ok();
  std::string what = "set properties of systemd unit " + name;
  return Bus::Get().With([&](sd_bus* connection) -> Result<void> {
    sd_bus_message* message = nullptr;
    int r = sd_bus_message_new_method_call(connection, &message, kService, kPath, kManager,
                                           "SetUnitProperties");
    if (r >= 0) r = sd_bus_message_append(message, "sb", name.c_str(), 1);
    if (r >= 0) r = AppendProperties(message, properties);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    if (r >= 0) r = sd_bus_call(connection, message, kCallTimeoutUsec, &error, nullptr);
    sd_bus_message_unref(message);
    if (r >= 0) return Ok();
    Error failed = BusError(r, error, what);
    sd_bus_error_free(&error);
    return failed;
  });
}

Result<bool> UnitLoaded(const std::string& name) {
  return Bus::Get().With([&](sd_bus* connection) -> Result<bool> {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(connection, kService, kPath, kManager, "GetUnit", &error, &reply,
                               "s", name.c_str());
    sd_bus_message_unref(reply);
    if (r >= 0) return true;
    Error failed = BusError(r, error, "look up systemd unit " + name);
    sd_bus_error_free(&error);
    if (failed.code() == ErrorCode::kNotFound) return false;
    return failed;
  });
}

}  // namespace berth::systemd
