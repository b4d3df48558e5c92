// The records of one kind of object (sandboxes, containers): the map by ID, the names that must
// stay unique, one lock per object for the operations on it, and the metadata store behind them.
// Reads never write or publish anything: they copy what the map holds.
//
// Names and kubelet's retries: a create reserves its name first. A create that outlives its
// caller's deadline (kubelet gave up and will retry) is kept for the retry, as CRI-O does: the
// retry gets the object the first call made instead of AlreadyExists, and a retry that arrives
// while the first call is still working waits for it.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/id_prefix.h"
#include "base/result.h"
#include "store/metadata_store.h"

namespace berth::pod {

// Whether every key=value of `selector` is among `labels` (CRI label selectors).
inline bool MatchesLabels(const std::map<std::string, std::string>& labels,
                          const std::map<std::string, std::string>& selector) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

template <typename Record>
struct RecordCodec {
  std::string kind;  // the metadata store's kind ("sandbox", "container")
  std::string noun;  // how errors name one ("pod sandbox", "container")
  std::function<std::string(const Record&)> to_json;
  std::function<Result<Record>(const std::string&)> from_json;
  std::function<std::string(const Record&)> name_key;  // what must be unique
};

// What a create that found its name taken should do.
struct NameClaim {
  enum class Kind { kReserved, kRetryOf, kTaken } kind = Kind::kReserved;
  std::string id;  // kRetryOf: the object made for the earlier call; kTaken: the holder
};

template <typename Record>
class RecordRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  // How long an object made for a caller that gave up waits for its retry.
  static constexpr std::chrono::minutes kKeepForRetry{10};

  RecordRegistry(MetadataStore& store, RecordCodec<Record> codec)
      : store_(store), codec_(std::move(codec)) {}

  Result<size_t> Load() {
    BERTH_ASSIGN_OR_RETURN(auto objects, store_.List(codec_.kind));
    std::lock_guard lock(mutex_);
    for (const auto& object : objects) {
      auto record = codec_.from_json(object.data);
      if (!record) return std::move(record).error().Wrap(codec_.noun + " " + object.id);
      names_[codec_.name_key(*record)] = {record->id, NameState::kMade};
      records_[record->id] = std::move(*record);
    }
    return records_.size();
  }

  // Reserves `key` for `id` (kReserved). Otherwise: the object of an earlier call whose caller
  // gave up (kRetryOf; when that call is still working, this waits for it until `deadline`), or
  // the holder (kTaken).
  NameClaim Claim(const std::string& key, const std::string& id, Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    // Capped: waits until a far-off time point overflow inside some standard libraries.
    deadline = std::min(deadline, Clock::now() + std::chrono::hours(24));
    name_changed_.wait_until(lock, deadline, [&] {
      auto it = names_.find(key);
      return it == names_.end() || it->second.state != NameState::kMaking;
    });
    auto it = names_.find(key);
    if (it == names_.end()) {
      names_[key] = {id, NameState::kMaking};
      return {NameClaim::Kind::kReserved, id};
    }
    Name& name = it->second;
    if (name.state == NameState::kKeptForRetry) {
      name.state = NameState::kMade;
      return {NameClaim::Kind::kRetryOf, name.id};
    }
    return {NameClaim::Kind::kTaken, name.id};
  }
  // The create of a claimed name finished: `kept` when its caller is gone, so that the retry
  // gets the object (see Claim); a create that failed frees the name.
  void Finish(const std::string& key, bool made, bool kept) {
    {
      std::lock_guard lock(mutex_);
      auto it = names_.find(key);
      if (it == names_.end()) return;
      if (!made) {
        names_.erase(it);
      } else {
        it->second.state = kept ? NameState::kKeptForRetry : NameState::kMade;
        it->second.kept_at = Clock::now();
      }
      ExpireKeptLocked();
    }
    name_changed_.notify_all();
  }

  Result<std::string> Resolve(const std::string& id) const {
    std::lock_guard lock(mutex_);
    return ResolveIdPrefix(records_, id, codec_.noun);
  }
  // The record by full ID or unique prefix.
  Result<Record> Get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    BERTH_ASSIGN_OR_RETURN(std::string full, ResolveIdPrefix(records_, id, codec_.noun));
    return records_.at(full);
  }
  std::optional<Record> Find(const std::string& full_id) const {
    std::lock_guard lock(mutex_);
    auto it = records_.find(full_id);
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }
  // The records `match` accepts, oldest first.
  std::vector<Record> Select(const std::function<bool(const Record&)>& match) const {
    std::vector<Record> result;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [id, record] : records_) {
        if (match(record)) result.push_back(record);
      }
    }
    std::sort(result.begin(), result.end(), [](const Record& a, const Record& b) {
      return a.created_at_nanos < b.created_at_nanos;
    });
    return result;
  }
  bool Any(const std::function<bool(const Record&)>& match) const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, record] : records_) {
      if (match(record)) return true;
    }
    return false;
  }

  // Writes the record to the store, then to the map.
  Result<void> Put(const Record& record) {
    BERTH_TRY(store_.Update([&](StoreTransaction& transaction) {
      return transaction.Put(codec_.kind, record.id, codec_.to_json(record));
    }));
    std::lock_guard lock(mutex_);
    records_[record.id] = record;
    return Ok();
  }
  // Applies `change` to the current record (it may have changed since it was read) and stores the
  // result; NotFound when it is gone. Returns the record as stored.
  Result<Record> Modify(const std::string& full_id,
                        const std::function<Result<void>(Record&)>& change) {
    std::lock_guard lock(modify_mutex_);  // one read-modify-write at a time
    auto current = Find(full_id);
    if (!current) return NotFound(codec_.noun + " " + full_id + " not found");
    BERTH_TRY(change(*current));
    BERTH_TRY(Put(*current));
    return *current;
  }
  // Deletes the record from the store and forgets it (its name, its lock).
  Result<void> Erase(const Record& record) {
    BERTH_TRY(store_.Update(
        [&](StoreTransaction& transaction) { return transaction.Delete(codec_.kind, record.id); }));
    {
      std::lock_guard lock(mutex_);
      auto name = names_.find(codec_.name_key(record));
      if (name != names_.end() && name->second.id == record.id) names_.erase(name);
      records_.erase(record.id);
      locks_.erase(record.id);
    }
    name_changed_.notify_all();
    return Ok();
  }

  // The lock that orders the operations (start, stop, remove...) on one object.
  std::shared_ptr<std::mutex> LockFor(const std::string& full_id) {
    std::lock_guard lock(mutex_);
    auto& entry = locks_[full_id];
    if (!entry) entry = std::make_shared<std::mutex>();
    return entry;
  }

  // Resolves `id`, takes the object's lock and runs `action` with it held (the lock is passed
  // on, so that a wait inside can release it). NotFound when there is no such object.
  Result<void> WithLocked(
      const std::string& id,
      const std::function<Result<void>(const std::string&, std::unique_lock<std::mutex>&)>&
          action) {
    BERTH_ASSIGN_OR_RETURN(std::string full, Resolve(id));
    auto object_lock = LockFor(full);
    std::unique_lock guard(*object_lock);
    if (!Find(full)) return NotFound(codec_.noun + " " + id + " not found");
    return action(full, guard);
  }

  const std::string& noun() const { return codec_.noun; }

 private:
  enum class NameState { kMaking, kMade, kKeptForRetry };
  struct Name {
    std::string id;
    NameState state = NameState::kMade;
    Clock::time_point kept_at{};
  };

  // A kept object nobody came back for stays (kubelet lists and removes what it does not know);
  // only the promise to hand it to a retry ends.
  void ExpireKeptLocked() {
    auto now = Clock::now();
    for (auto& [key, name] : names_) {
      if (name.state == NameState::kKeptForRetry && now - name.kept_at > kKeepForRetry) {
        name.state = NameState::kMade;
      }
    }
  }

  MetadataStore& store_;
  RecordCodec<Record> codec_;
  mutable std::mutex mutex_;  // guards the maps; never held across a store write or a wait
  std::mutex modify_mutex_;
  std::condition_variable name_changed_;
  std::map<std::string, Record> records_;
  std::map<std::string, Name> names_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
};

}  // namespace berth::pod
