#include "store/metadata_store.h"

#include <algorithm>

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

// How many problems PRAGMA quick_check reports at most, and how many of them the error names.
constexpr int kQuickCheckMaxErrors = 20;
constexpr size_t kReportedProblems = 4;
constexpr size_t kMaxProblemLength = 200;

bool IsDamage(int status) {
  int primary = status & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

std::string FileOf(sqlite3* db) {
  const char* name = sqlite3_db_filename(db, "main");
  return name != nullptr && name[0] != '\0' ? name : "(unnamed database)";
}

// A damaged file must stop whoever reads it: answering "no such object" instead would make
// berthd forget pods whose namespaces, veths and IPs still exist, and hand those IPs out again.
// With an empty store instead, the start-up reconciler (pod/reconciler.h) removes what those
// pods left.
Error Damaged(const std::string& path, const std::string& what) {
  return Error(ErrorCode::kDataLoss,
               "metadata store " + path + " is damaged: " + what +
                   ". berthd does not run on a damaged store: it would lose track of the pods "
                   "recorded in it. Keep a copy of the file; then, with berthd stopped, restore a "
                   "backup of it, or move it aside to start with an empty store (berthd then "
                   "removes the leftovers of the pods it no longer knows)");
}

Error SqliteError(sqlite3* db, int status, const std::string& what) {
  if (IsDamage(status)) return Damaged(FileOf(db), what + ": " + sqlite3_errstr(status));
  return Internal("metadata store: " + what + ": " + sqlite3_errmsg(db));
}

Result<void> Exec(sqlite3* db, const std::string& sql) {
  char* message = nullptr;
  int status = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  if (status != SQLITE_OK) {
    std::string text = message != nullptr ? message : sqlite3_errstr(status);
    sqlite3_free(message);
    std::string what = text + " (in: " + sql.substr(0, 60) + ")";
    if (IsDamage(status)) return Damaged(FileOf(db), what);
    return Internal("metadata store: " + what);
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

  int status() const { return status_; }
  Result<void> Prepared() const {
    if (status_ != SQLITE_OK) return SqliteError(db_, status_, "prepare");
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
  if (status != SQLITE_ROW) return SqliteError(db, status, "read " + kind + " " + id);
  return std::optional<std::string>(statement.Column(0));
}

// PRAGMA quick_check (every page and b-tree structure, not index contents; bounded to
// kQuickCheckMaxErrors problems): SQLite itself notices a damaged page only when a query happens
// to read it, and some damage it never notices: a page whose cell count lost a bit reads as a
// page with fewer rows, without an error.
Result<void> CheckIntegrity(sqlite3* db, const std::string& path) {
  std::string sql = "PRAGMA quick_check(" + std::to_string(kQuickCheckMaxErrors) + ")";
  Statement statement(db, sql.c_str());
  if (IsDamage(statement.status())) return Damaged(path, sqlite3_errstr(statement.status()));
  BERTH_TRY(statement.Prepared());
  std::vector<std::string> problems;
  int status;
  while ((status = statement.Step()) == SQLITE_ROW) {
    // One row per problem, or "ok"; a row may hold several lines, the first naming the database.
    std::string row = statement.Column(0);
    for (size_t start = 0, end; start < row.size(); start = end + 1) {
      end = std::min(row.find('\n', start), row.size());
      std::string line = row.substr(start, std::min(end - start, kMaxProblemLength));
      if (line.empty() || line == "ok" || line.starts_with("*** in database")) continue;
      problems.push_back(line);
    }
  }
  // The check itself may stop at a page it cannot read, after reporting what it found so far.
  if (status != SQLITE_DONE && !IsDamage(status)) return SqliteError(db, status, "check " + path);
  if (status != SQLITE_DONE) problems.push_back(sqlite3_errstr(status));
  if (problems.empty()) return Ok();
  std::string what = "PRAGMA quick_check: ";
  for (size_t i = 0; i < problems.size() && i < kReportedProblems; ++i) {
    what += (i > 0 ? "; " : "") + problems[i];
  }
  if (problems.size() > kReportedProblems) {
    what += "; ... (" + std::to_string(problems.size() - kReportedProblems) + " more)";
  }
  return Damaged(path, what);
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
  // Before anything writes to it: a damaged file is left exactly as it was found.
  BERTH_TRY(CheckIntegrity(db, path));
  // WAL: readers never block the writer; synchronous=FULL: a committed change survives a crash.
  BERTH_TRY(Exec(db, "PRAGMA journal_mode = WAL"));
  BERTH_TRY(Exec(db, "PRAGMA synchronous = FULL"));
  BERTH_TRY(Exec(db, "PRAGMA foreign_keys = ON"));
  if (auto migrated = store->Migrate(); !migrated) {
    return std::move(migrated).error().Wrap("metadata store " + path);
  }
  return store;
}

MetadataStore::~MetadataStore() {
  sqlite3_close(db_);
}

Result<int> MetadataStore::SchemaVersion() {
  std::lock_guard lock(mutex_);
  Statement statement(db_, "PRAGMA user_version");
  BERTH_TRY(statement.Prepared());
  if (int status = statement.Step(); status != SQLITE_ROW) {
    return SqliteError(db_, status, "read schema version");
  }
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
    if (!step)
      return std::move(step).error().Wrap("migrate to version " + std::to_string(next + 1));
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
  if (status != SQLITE_DONE) return SqliteError(db_, status, "list " + kind);
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
  if (int status = statement.Step(); status != SQLITE_DONE) {
    return SqliteError(db_, status, "write " + kind + " " + id);
  }
  return Ok();
}

Result<void> StoreTransaction::Delete(const std::string& kind, const std::string& id) {
  Statement statement(db_, "DELETE FROM objects WHERE kind = ?1 AND id = ?2");
  BERTH_TRY(statement.Prepared());
  statement.BindText(1, kind);
  statement.BindText(2, id);
  if (int status = statement.Step(); status != SQLITE_DONE) {
    return SqliteError(db_, status, "delete " + kind + " " + id);
  }
  return Ok();
}

Result<std::optional<std::string>> StoreTransaction::Get(const std::string& kind,
                                                         const std::string& id) {
  return GetObject(db_, kind, id);
}

}  // namespace berth
