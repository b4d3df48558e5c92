#include "pod/passwd.h"

#include "base/parse_number.h"

namespace berth::pod {
namespace {

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Non-empty lines that are not comments, each split at ':' (a trailing ':' is an empty field).
std::vector<std::vector<std::string_view>> Records(std::string_view text) {
  std::vector<std::vector<std::string_view>> records;
  for (std::string_view line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    records.push_back(Split(line, ':'));
  }
  return records;
}

}  // namespace

Result<uint32_t> ParseIdOrError(std::string_view text, std::string_view what) {
  if (auto id = ParseLinuxId(text)) return *id;
  return InvalidArgument(std::string(what) + " \"" + std::string(text) +
                         "\" is not a valid id (0.." + std::to_string(kMaxLinuxId) + ")");
}

UserDatabase::UserDatabase(std::string_view passwd_text, std::string_view group_text) {
  for (const auto& fields : Records(passwd_text)) {
    // name:password:uid:gid[:gecos:home:shell]
    if (fields.size() < 4) continue;
    users_.push_back({std::string(fields[0]), std::string(fields[2]), std::string(fields[3])});
  }
  for (const auto& fields : Records(group_text)) {
    // name:password:gid[:member,member...]
    if (fields.size() < 3) continue;
    GroupEntry entry{std::string(fields[0]), std::string(fields[2]), {}};
    if (fields.size() >= 4 && !fields[3].empty()) {
      for (std::string_view member : Split(fields[3], ',')) entry.members.emplace_back(member);
    }
    groups_.push_back(std::move(entry));
  }
}

const PasswdEntry* UserDatabase::UserByName(std::string_view name) const {
  for (const auto& entry : users_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

const PasswdEntry* UserDatabase::UserById(uint32_t uid) const {
  for (const auto& entry : users_) {
    auto parsed = ParseLinuxId(entry.uid);
    if (parsed && *parsed == uid) return &entry;
  }
  return nullptr;
}

Result<uint32_t> UserDatabase::GroupId(std::string_view group) const {
  if (IsDecimal(group)) return ParseIdOrError(group, "group");
  for (const auto& entry : groups_) {
    if (entry.name == group) {
      return ParseIdOrError(entry.gid,
                            "the image's /etc/group: gid of group \"" + entry.name + "\"");
    }
  }
  return InvalidArgument("group \"" + std::string(group) + "\" is not in the image's /etc/group");
}

Result<std::vector<uint32_t>> UserDatabase::MembershipsOf(std::string_view username) const {
  std::vector<uint32_t> gids;
  for (const auto& entry : groups_) {
    for (const auto& member : entry.members) {
      if (member != username) continue;
      BERTH_ASSIGN_OR_RETURN(
          uint32_t gid,
          ParseIdOrError(entry.gid, "the image's /etc/group: gid of group \"" + entry.name + "\""));
      gids.push_back(gid);
      break;
    }
  }
  return gids;
}

Result<uint32_t> UserDatabase::Uid(const PasswdEntry& entry) {
  return ParseIdOrError(entry.uid, "the image's /etc/passwd: uid of user \"" + entry.name + "\"");
}

Result<uint32_t> UserDatabase::Gid(const PasswdEntry& entry) {
  return ParseIdOrError(entry.gid, "the image's /etc/passwd: gid of user \"" + entry.name + "\"");
}

}  // namespace berth::pod
