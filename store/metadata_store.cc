#include "store/metadata_store.h"

#include "base/process_util.h"

namespace berth {
namespace {

// Each entry moves the schema from version i to i + 1. Append only; never edit a released one.
const char* const kMigrations[] = {
    // 1: generic object table.
    "CREATE TABLE objects ("
    "  kind TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  data BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, id)"
    ") WITHOUT ROWID;",
};

Error SqliteError(sqlite3* db, const std::string& what) {
  return Internal("metadata store: " + what + ": " + sqlite3_errmsg(db));
}

Result<void> Exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Internal("metadata store: " + text + " (in: " + sql.substr(0, 60) + ")");
  }
  return Ok();
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    status_ = sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr);
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Result<void> Prepared() const {
    if (status_ != SQLITE_OK) return SqliteError(db_, "prepare");
    return Ok();
  }
  void Bind(int index, const std::string& text) {
    sqlite3_bind_blob(statement_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  void BindText(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int index, int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(statement_); }
  std::string Column(int index) {
    const void* data = sqlite3_column_blob(statement_, index);
    int size = sqlite3_column_bytes(statement_, index);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
  }
  int64_t ColumnInt(int index) { return sqlite3_column_int64(statement_, index); }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
  int status_;
};

Result<std::optional<std::string>> GetObject(sqlite3* db, const std::string& kind,
                                             const std::string& id) {
  Statement statement(db, "SELECT data FROM objects WHERE kind = ?1 AND id = ?2");
  BERTH_TRY(statement.Prepared());
  statement.BindText(1, kind);
  statement.BindText(2, id);
  int status = statement.Step();
  if (status == SQLITE_DONE) return std::optional<std::string>();
  if (status != SQLITE_ROW) return SqliteError(db, "read " + kind + " " + id);
  return std::optional<std::string>(statement.Column(0));
}

}  // namespace

int MetadataStore::LatestSchemaVersion() {
  return static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
}

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Internal("open metadata store " + path + ": " + message);
  }
  std::unique_ptr<MetadataStore> store(new MetadataStore(db));
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers never block the writer; synchronous=FULL: a committed change survives a crash.
  BERTH_TRY(Exec(db, "PRAGMA journal_mode = WAL"));
  BERTH_TRY(Exec(db, "PRAGMA synchronous = FULL"));
  BERTH_TRY(Exec(db, "PRAGMA foreign_keys = ON"));
  if (auto migrated = store->Migrate(); !migrated) {
    return std::move(migrated).error().Wrap("metadata store " + path);
  }
  return store;
}

MetadataStore::~MetadataStore() { sqlite3_close(db_); }

Result<int> MetadataStore::SchemaVersion() {
  std::lock_guard lock(mutex_);
  Statement statement(db_, "PRAGMA user_version");
  BERTH_TRY(statement.Prepared());
  if (statement.Step() != SQLITE_ROW) return SqliteError(db_, "read schema version");
  return static_cast<int>(statement.ColumnInt(0));
}

Result<void> MetadataStore::Migrate() {
  BERTH_ASSIGN_OR_RETURN(int version, SchemaVersion());
  int latest = LatestSchemaVersion();
  if (version > latest) {
    return FailedPrecondition("schema version " + std::to_string(version) +
                              " is newer than this berthd understands (" + std::to_string(latest) +
                              "); run a newer berthd or move the root away");
  }
  for (int next = version; next < latest; ++next) {
    auto step = Update([&](StoreTransaction&) -> Result<void> {
      BERTH_TRY(Exec(db_, kMigrations[next]));
      return Exec(db_, "PRAGMA user_version = " + std::to_string(next + 1));
    });
    if (!step) return std::move(step).error().Wrap("migrate to version " + std::to_string(next + 1));
  }
  return Ok();
}

Result<void> MetadataStore::Update(const std::function<Result<void>(StoreTransaction&)>& change) {
  std::lock_guard lock(mutex_);
  BERTH_TRY(Exec(db_, "BEGIN IMMEDIATE"));
  StoreTransaction transaction(db_);
  Result<void> result = change(transaction);
  if (!result) {
    (void)Exec(db_, "ROLLBACK");
    return result;
  }
  if (auto committed = Exec(db_, "COMMIT"); !committed) {
    (void)Exec(db_, "ROLLBACK");
    return committed;
  }
  return Ok();
}

Result<std::optional<std::string>> MetadataStore::Get(const std::string& kind,
                                                      const std::string& id) {
  std::lock_guard lock(mutex_);
  return GetObject(db_, kind, id);
}

Result<std::vector<StoredObject>> MetadataStore::List(const std::string& kind) {
  std::lock_guard lock(mutex_);
  Statement statement(db_, "SELECT id, data FROM objects WHERE kind = ?1 ORDER BY id");
  BERTH_TRY(statement.Prepared());
  statement.BindText(1, kind);
  std::vector<StoredObject> objects;
  int status;
  while ((status = statement.Step()) == SQLITE_ROW) {
    objects.push_back({kind, statement.Column(0), statement.Column(1)});
  }
  if (status != SQLITE_DONE) return SqliteError(db_, "list " + kind);
  return objects;
}

Result<void> StoreTransaction::Put(const std::string& kind, const std::string& id,
                                   const std::string& data) {
  Statement statement(db_,
                      "INSERT INTO objects (kind, id, data, updated_at) VALUES (?1, ?2, ?3, ?4) "
                      "ON CONFLICT (kind, id) DO UPDATE SET data = ?3, updated_at = ?4");
  BERTH_TRY(statement.Prepared());
  statement.BindText(1, kind);
  statement.BindText(2, id);
  statement.Bind(3, data);
  statement.Bind(4, NowUnixNanos());
  if (statement.Step() != SQLITE_DONE) return SqliteError(db_, "write " + kind + " " + id);
  return Ok();
}

Result<void> StoreTransaction::Delete(const std::string& kind, const std::string& id) {
  Statement statement(db_, "DELETE FROM objects WHERE kind = ?1 AND id = ?2");
  BERTH_TRY(statement.Prepared());
  statement.BindText(1, kind);
  statement.BindText(2, id);
  if (statement.Step() != SQLITE_DONE) return SqliteError(db_, "delete " + kind + " " + id);
  return Ok();
}

Result<std::optional<std::string>> StoreTransaction::Get(const std::string& kind,
                                                         const std::string& id) {
  return GetObject(db_, kind, id);
}

}  // namespace berth
