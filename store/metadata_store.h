// The metadata store: one SQLite database (WAL) under --root that keeps images, sandboxes and
// containers. The schema is versioned (PRAGMA user_version) and migrated forward on open; every
// change runs in one transaction, so a crash leaves either the old state or the new one.
//
// Objects are kept as (kind, id) -> data rows: each owner (image/, pod/) stores its own
// serialized record and indexes what it needs through later migrations.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth {

struct StoredObject {
  std::string kind;
  std::string id;
  std::string data;
};

// Operations inside one transaction; only valid within MetadataStore::Update's callback.
class StoreTransaction {
 public:
  Result<void> Put(const std::string& kind, const std::string& id, const std::string& data);
  // Deleting an absent object is not an error (callers are idempotent).
  Result<void> Delete(const std::string& kind, const std::string& id);
  Result<std::optional<std::string>> Get(const std::string& kind, const std::string& id);

 private:
  friend class MetadataStore;
  explicit StoreTransaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

class MetadataStore {
 public:
  // The schema version this build writes; Open migrates older databases up to it and refuses
  // newer ones (a downgrade would misread them).
  static int LatestSchemaVersion();

  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& path);
  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  Result<int> SchemaVersion();

  // Runs `change` in one IMMEDIATE transaction: committed when it returns ok, rolled back when it
  // returns an error (which is passed on).
  Result<void> Update(const std::function<Result<void>(StoreTransaction&)>& change);

  Result<std::optional<std::string>> Get(const std::string& kind, const std::string& id);
  Result<std::vector<StoredObject>> List(const std::string& kind);

 private:
  explicit MetadataStore(sqlite3* db) : db_(db) {}
  Result<void> Migrate();

  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace berth
