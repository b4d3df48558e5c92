// Fuzz target: an image's /etc/passwd and /etc/group (pod/passwd.h), the files that decide which
// uid a container runs as. The input is both files, split at its first NUL byte (no NUL: passwd
// only). Whatever they hold, lookups must not throw, and an id they yield must be a Linux id that
// finds its own entry again: a hostile record may fail a create, never become another user.
#include <cstdint>
#include <string>
#include <string_view>

#include "base/parse_number.h"
#include "pod/passwd.h"
#include "test/fuzz/fuzz_check.h"

namespace {

// The first field of each line: the names a create might ask for.
template <typename Visit>
void ForEachName(std::string_view text, Visit visit) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    visit(line.substr(0, line.find(':')));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\0');
  std::string_view passwd = input.substr(0, split);
  std::string_view group =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
  berth::pod::UserDatabase users(passwd, group);

  ForEachName(passwd, [&](std::string_view name) {
    const berth::pod::PasswdEntry* entry = users.UserByName(name);
    if (entry == nullptr) return;
    BERTH_FUZZ_CHECK(entry->name == name, "UserByName found another name");
    auto uid = berth::pod::UserDatabase::Uid(*entry);
    if (uid.ok()) {
      BERTH_FUZZ_CHECK(*uid <= berth::kMaxLinuxId, "a uid outside the Linux range");
      const berth::pod::PasswdEntry* by_id = users.UserById(*uid);
      BERTH_FUZZ_CHECK(by_id != nullptr, "a valid uid does not find its entry");
      auto again = berth::pod::UserDatabase::Uid(*by_id);
      BERTH_FUZZ_CHECK(again.ok() && *again == *uid, "UserById found another uid");
    }
    auto gid = berth::pod::UserDatabase::Gid(*entry);
    if (gid.ok()) BERTH_FUZZ_CHECK(*gid <= berth::kMaxLinuxId, "a gid outside the Linux range");
    auto groups = users.MembershipsOf(name);
    if (groups.ok()) {
      for (uint32_t member_of : *groups)
        BERTH_FUZZ_CHECK(member_of <= berth::kMaxLinuxId, "a group outside the range");
    }
  });
  ForEachName(group, [&](std::string_view name) {
    auto gid = users.GroupId(name);
    if (gid.ok())
      BERTH_FUZZ_CHECK(*gid <= berth::kMaxLinuxId, "a group id outside the Linux range");
  });
  return 0;
}
