// The image's /etc/passwd and /etc/group, parsed as untrusted text: any bytes, any line length,
// records with too few fields skipped. Ids are kept as written and only checked when a record is
// used, so that a hostile record nobody asks for changes nothing, while a used one whose id is
// not a Linux id (0..4294967294) is an error instead of a truncated number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::pod {

struct PasswdEntry {
  std::string name;
  std::string uid;  // as written
  std::string gid;
};

struct GroupEntry {
  std::string name;
  std::string gid;  // as written
  std::vector<std::string> members;
};

class UserDatabase {
 public:
  UserDatabase(std::string_view passwd_text, std::string_view group_text);

  // The entry named `name` (nullptr: none). Its ids are checked by Uid / Gid below.
  const PasswdEntry* UserByName(std::string_view name) const;
  // The first entry whose uid is `uid` (entries with an invalid uid never match).
  const PasswdEntry* UserById(uint32_t uid) const;
  // A group by number (any valid id, known or not) or by name (InvalidArgument when unknown).
  Result<uint32_t> GroupId(std::string_view group) const;
  // The gids of the groups that list `username` as a member, in file order.
  Result<std::vector<uint32_t>> MembershipsOf(std::string_view username) const;

  // The entry's ids as numbers, InvalidArgument when the file's text is not a Linux id.
  static Result<uint32_t> Uid(const PasswdEntry& entry);
  static Result<uint32_t> Gid(const PasswdEntry& entry);

  size_t user_count() const { return users_.size(); }
  size_t group_count() const { return groups_.size(); }

 private:
  std::vector<PasswdEntry> users_;
  std::vector<GroupEntry> groups_;
};

// "1234" -> 1234; an id out of 0..4294967294 (or not a number) is InvalidArgument naming `what`.
Result<uint32_t> ParseIdOrError(std::string_view text, std::string_view what);

}  // namespace berth::pod
