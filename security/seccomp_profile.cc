#include "security/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <climits>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "base/file_util.h"
#include "base/parse_number.h"

namespace berth::security {
namespace {

using json = nlohmann::json;

constexpr std::array<std::pair<SeccompAction, std::string_view>, 9> kActions = {{
    {SeccompAction::kKill, "SCMP_ACT_KILL"},
    {SeccompAction::kKillThread, "SCMP_ACT_KILL_THREAD"},
    {SeccompAction::kKillProcess, "SCMP_ACT_KILL_PROCESS"},
    {SeccompAction::kTrap, "SCMP_ACT_TRAP"},
    {SeccompAction::kErrno, "SCMP_ACT_ERRNO"},
    {SeccompAction::kTrace, "SCMP_ACT_TRACE"},
    {SeccompAction::kAllow, "SCMP_ACT_ALLOW"},
    {SeccompAction::kLog, "SCMP_ACT_LOG"},
    {SeccompAction::kNotify, "SCMP_ACT_NOTIFY"},
}};

constexpr std::array<std::pair<SeccompOperator, std::string_view>, 7> kOperators = {{
    {SeccompOperator::kNotEqual, "SCMP_CMP_NE"},
    {SeccompOperator::kLessThan, "SCMP_CMP_LT"},
    {SeccompOperator::kLessEqual, "SCMP_CMP_LE"},
    {SeccompOperator::kEqual, "SCMP_CMP_EQ"},
    {SeccompOperator::kGreaterEqual, "SCMP_CMP_GE"},
    {SeccompOperator::kGreaterThan, "SCMP_CMP_GT"},
    {SeccompOperator::kMaskedEqual, "SCMP_CMP_MASKED_EQ"},
}};

constexpr std::array<std::string_view, 19> kArchitectures = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

constexpr std::array<std::string_view, 4> kFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

// Go's GOARCH spelling (which Docker profiles use in includes/excludes "arches") to libseccomp's.
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kNativeArches = {{
    {"386", "SCMP_ARCH_X86"},
    {"amd64", "SCMP_ARCH_X86_64"},
    {"arm", "SCMP_ARCH_ARM"},
    {"arm64", "SCMP_ARCH_AARCH64"},
    {"mips64", "SCMP_ARCH_MIPS64"},
    {"mips64n32", "SCMP_ARCH_MIPS64N32"},
    {"mipsel64", "SCMP_ARCH_MIPSEL64"},
    {"mipsel64n32", "SCMP_ARCH_MIPSEL64N32"},
    {"ppc64", "SCMP_ARCH_PPC64"},
    {"ppc64le", "SCMP_ARCH_PPC64LE"},
    {"riscv64", "SCMP_ARCH_RISCV64"},
    {"s390", "SCMP_ARCH_S390"},
    {"s390x", "SCMP_ARCH_S390X"},
}};

constexpr uint64_t kMaxErrno = 0xffff;  // the data field of SCMP_ACT_ERRNO / SCMP_ACT_TRACE

enum class Form { kOci, kDocker };

Error Invalid(const std::string& path, std::string_view why) {
  return InvalidArgument("seccomp profile: " + path + ": " + std::string(why));
}

std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}
std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Result<void> CheckKeys(const json& object, const std::string& path,
                       std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return Invalid(Join(path, key), "unknown field");
  }
  return Ok();
}

Result<std::string> GetString(const json& value, const std::string& path) {
  if (!value.is_string()) return Invalid(path, "must be a string");
  return value.get<std::string>();
}

Result<uint64_t> GetUnsigned(const json& value, const std::string& path, uint64_t max) {
  uint64_t number = 0;
  if (value.is_number_unsigned()) {
    number = value.get<uint64_t>();
  } else if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    number = static_cast<uint64_t>(value.get<int64_t>());
  } else {
    return Invalid(path, "must be a non-negative integer");
  }
  if (number > max) return Invalid(path, "must be at most " + std::to_string(max));
  return number;
}

// A list of strings; JSON null counts as empty (Go writes nil slices as null).
Result<std::vector<std::string>> GetStringList(const json& value, const std::string& path) {
  std::vector<std::string> out;
  if (value.is_null()) return out;
  if (!value.is_array()) return Invalid(path, "must be a list of strings");
  for (size_t i = 0; i < value.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN(std::string item, GetString(value[i], Index(path, i)));
    out.push_back(std::move(item));
  }
  return out;
}

Result<SeccompAction> GetAction(const json& value, const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string name, GetString(value, path));
  auto action = ParseSeccompAction(name);
  if (!action.ok()) return Invalid(path, "unknown action \"" + name + "\"");
  return *action;
}

bool TakesErrno(SeccompAction action) {
  return action == SeccompAction::kErrno || action == SeccompAction::kTrace;
}

Result<std::vector<std::string>> GetArchitectures(const json& value, const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(auto arches, GetStringList(value, path));
  for (size_t i = 0; i < arches.size(); ++i)
    if (!IsKnownSeccompArchitecture(arches[i]))
      return Invalid(Index(path, i), "unknown architecture \"" + arches[i] + "\"");
  return arches;
}

Result<SeccompArg> ParseArg(const json& value, const std::string& path) {
  if (!value.is_object()) return Invalid(path, "must be an object");
  BERTH_TRY(CheckKeys(value, path, {"index", "value", "valueTwo", "op"}));
  SeccompArg arg;
  if (!value.contains("index")) return Invalid(Join(path, "index"), "missing");
  BERTH_ASSIGN_OR_RETURN(uint64_t index, GetUnsigned(value["index"], Join(path, "index"), 5));
  arg.index = static_cast<uint32_t>(index);
  if (value.contains("value")) {
    BERTH_ASSIGN_OR_RETURN(arg.value, GetUnsigned(value["value"], Join(path, "value"), UINT64_MAX));
  }
  if (value.contains("valueTwo")) {
    BERTH_ASSIGN_OR_RETURN(arg.value_two,
                           GetUnsigned(value["valueTwo"], Join(path, "valueTwo"), UINT64_MAX));
  }
  if (!value.contains("op")) return Invalid(Join(path, "op"), "missing");
  BERTH_ASSIGN_OR_RETURN(std::string op_name, GetString(value["op"], Join(path, "op")));
  auto op = ParseSeccompOperator(op_name);
  if (!op.ok()) return Invalid(Join(path, "op"), "unknown operator \"" + op_name + "\"");
  arg.op = *op;
  return arg;
}

// Docker's includes/excludes filter of one syscall entry.
struct Filter {
  std::vector<std::string> arches;
  std::vector<std::string> caps;
  std::optional<std::pair<int, int>> min_kernel;
};

// "MAJOR.MINOR", both decimal (sscanf's %d, used before, skipped spaces and signs and overflowed
// into undefined behaviour).
std::optional<std::pair<int, int>> KernelMajorMinor(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto major = ParseUint64(text.substr(0, dot), INT_MAX);
  auto minor = ParseUint64(text.substr(dot + 1), INT_MAX);
  if (!major || !minor) return std::nullopt;
  return std::make_pair(static_cast<int>(*major), static_cast<int>(*minor));
}

Result<std::pair<int, int>> ParseKernelVersion(const std::string& text, const std::string& path) {
  auto version = KernelMajorMinor(text);
  if (!version) return Invalid(path, "kernel version \"" + text + "\" is not MAJOR.MINOR");
  return *version;
}

Result<Filter> ParseFilter(const json& value, const std::string& path) {
  Filter filter;
  if (value.is_null()) return filter;
  if (!value.is_object()) return Invalid(path, "must be an object");
  BERTH_TRY(CheckKeys(value, path, {"arches", "caps", "minKernel"}));
  if (value.contains("arches")) {
    BERTH_ASSIGN_OR_RETURN(filter.arches, GetStringList(value["arches"], Join(path, "arches")));
  }
  if (value.contains("caps")) {
    BERTH_ASSIGN_OR_RETURN(filter.caps, GetStringList(value["caps"], Join(path, "caps")));
  }
  if (value.contains("minKernel") && !value["minKernel"].is_null()) {
    std::string field = Join(path, "minKernel");
    BERTH_ASSIGN_OR_RETURN(std::string text, GetString(value["minKernel"], field));
    if (!text.empty()) {
      BERTH_ASSIGN_OR_RETURN(filter.min_kernel, ParseKernelVersion(text, field));
    }
  }
  return filter;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool KernelAtLeast(const SeccompResolveContext& context, std::pair<int, int> version) {
  return std::make_pair(context.kernel_major, context.kernel_minor) >= version;
}

// moby's rules: an entry applies when every `includes` condition holds and no `excludes` one does.
bool FilterApplies(const Filter& includes, const Filter& excludes,
                   const SeccompResolveContext& context) {
  if (Contains(excludes.arches, context.native_arch)) return false;
  for (const auto& cap : excludes.caps)
    if (Contains(context.granted_capabilities, cap)) return false;
  if (excludes.min_kernel && KernelAtLeast(context, *excludes.min_kernel)) return false;
  if (!includes.arches.empty() && !Contains(includes.arches, context.native_arch)) return false;
  for (const auto& cap : includes.caps)
    if (!Contains(context.granted_capabilities, cap)) return false;
  if (includes.min_kernel && !KernelAtLeast(context, *includes.min_kernel)) return false;
  return true;
}

// One syscalls[] entry; nullopt when a Docker filter leaves it out for this container.
Result<std::optional<SeccompSyscall>> ParseSyscall(const json& value, const std::string& path,
                                                   Form form,
                                                   const SeccompResolveContext* context) {
  if (!value.is_object()) return Invalid(path, "must be an object");
  if (form == Form::kOci) {
    BERTH_TRY(CheckKeys(value, path, {"names", "action", "errnoRet", "args"}));
  } else {
    BERTH_TRY(CheckKeys(
        value, path,
        {"names", "name", "action", "errnoRet", "args", "comment", "includes", "excludes"}));
  }
  SeccompSyscall call;
  if (value.contains("names")) {
    BERTH_ASSIGN_OR_RETURN(call.names, GetStringList(value["names"], Join(path, "names")));
  }
  if (value.contains("name") && !value["name"].is_null()) {
    if (!call.names.empty()) return Invalid(path, "has both \"name\" and \"names\"");
    BERTH_ASSIGN_OR_RETURN(std::string name, GetString(value["name"], Join(path, "name")));
    call.names.push_back(std::move(name));
  }
  if (call.names.empty()) return Invalid(Join(path, "names"), "must name at least one syscall");
  for (size_t i = 0; i < call.names.size(); ++i)
    if (call.names[i].empty()) return Invalid(Index(Join(path, "names"), i), "empty name");
  if (!value.contains("action")) return Invalid(Join(path, "action"), "missing");
  BERTH_ASSIGN_OR_RETURN(call.action, GetAction(value["action"], Join(path, "action")));
  if (value.contains("errnoRet") && !value["errnoRet"].is_null()) {
    std::string field = Join(path, "errnoRet");
    if (!TakesErrno(call.action))
      return Invalid(field, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take a return value");
    BERTH_ASSIGN_OR_RETURN(uint64_t errno_ret, GetUnsigned(value["errnoRet"], field, kMaxErrno));
    call.errno_ret = static_cast<uint32_t>(errno_ret);
  }
  if (value.contains("args") && !value["args"].is_null()) {
    const json& args = value["args"];
    std::string field = Join(path, "args");
    if (!args.is_array()) return Invalid(field, "must be a list");
    for (size_t i = 0; i < args.size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(SeccompArg arg, ParseArg(args[i], Index(field, i)));
      call.args.push_back(arg);
    }
  }
  if (form == Form::kDocker) {
    BERTH_ASSIGN_OR_RETURN(Filter includes,
                           ParseFilter(value.value("includes", json()), Join(path, "includes")));
    BERTH_ASSIGN_OR_RETURN(Filter excludes,
                           ParseFilter(value.value("excludes", json()), Join(path, "excludes")));
    if (!FilterApplies(includes, excludes, *context)) return std::optional<SeccompSyscall>();
  }
  return std::optional<SeccompSyscall>(std::move(call));
}

Result<std::vector<std::string>> ResolveArchMap(const json& value, const std::string& path,
                                                const SeccompResolveContext& context) {
  std::vector<std::string> out;
  if (value.is_null()) return out;
  if (!value.is_array()) return Invalid(path, "must be a list");
  std::string_view native = SeccompArchOfNative(context.native_arch);
  for (size_t i = 0; i < value.size(); ++i) {
    std::string entry_path = Index(path, i);
    const json& entry = value[i];
    if (!entry.is_object()) return Invalid(entry_path, "must be an object");
    BERTH_TRY(CheckKeys(entry, entry_path, {"architecture", "subArchitectures"}));
    if (!entry.contains("architecture"))
      return Invalid(Join(entry_path, "architecture"), "missing");
    std::string arch_path = Join(entry_path, "architecture");
    BERTH_ASSIGN_OR_RETURN(std::string arch, GetString(entry["architecture"], arch_path));
    if (!IsKnownSeccompArchitecture(arch))
      return Invalid(arch_path, "unknown architecture \"" + arch + "\"");
    BERTH_ASSIGN_OR_RETURN(auto sub, GetArchitectures(entry.value("subArchitectures", json()),
                                                      Join(entry_path, "subArchitectures")));
    if (arch != native) continue;
    out.push_back(arch);
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

Result<SeccompProfile> ParseProfile(const json& value, Form form,
                                    const SeccompResolveContext* context) {
  if (!value.is_object()) return Invalid("(top)", "must be a JSON object");
  if (form == Form::kOci) {
    BERTH_TRY(CheckKeys(value, "",
                        {"defaultAction", "defaultErrnoRet", "architectures", "flags",
                         "listenerPath", "listenerMetadata", "syscalls"}));
  } else {
    BERTH_TRY(CheckKeys(value, "",
                        {"defaultAction", "defaultErrnoRet", "architectures", "archMap", "flags",
                         "listenerPath", "listenerMetadata", "syscalls"}));
  }
  SeccompProfile profile;
  if (!value.contains("defaultAction")) return Invalid("defaultAction", "missing");
  BERTH_ASSIGN_OR_RETURN(profile.default_action,
                         GetAction(value["defaultAction"], "defaultAction"));
  if (value.contains("defaultErrnoRet") && !value["defaultErrnoRet"].is_null()) {
    if (!TakesErrno(profile.default_action))
      return Invalid("defaultErrnoRet",
                     "only a default action of SCMP_ACT_ERRNO or SCMP_ACT_TRACE takes one");
    BERTH_ASSIGN_OR_RETURN(uint64_t errno_ret,
                           GetUnsigned(value["defaultErrnoRet"], "defaultErrnoRet", kMaxErrno));
    profile.default_errno_ret = static_cast<uint32_t>(errno_ret);
  }
  if (value.contains("architectures")) {
    BERTH_ASSIGN_OR_RETURN(profile.architectures,
                           GetArchitectures(value["architectures"], "architectures"));
  }
  if (form == Form::kDocker && value.contains("archMap") && !value["archMap"].is_null()) {
    if (!profile.architectures.empty())
      return Invalid("archMap", "\"architectures\" and \"archMap\" are both given");
    BERTH_ASSIGN_OR_RETURN(profile.architectures,
                           ResolveArchMap(value["archMap"], "archMap", *context));
  }
  if (value.contains("flags")) {
    BERTH_ASSIGN_OR_RETURN(profile.flags, GetStringList(value["flags"], "flags"));
    for (size_t i = 0; i < profile.flags.size(); ++i)
      if (!IsKnownSeccompFlag(profile.flags[i]))
        return Invalid(Index("flags", i),
                       "unknown or unsupported flag \"" + profile.flags[i] + "\"");
  }
  if (value.contains("listenerPath") && !value["listenerPath"].is_null()) {
    BERTH_ASSIGN_OR_RETURN(std::string listener, GetString(value["listenerPath"], "listenerPath"));
    if (!listener.empty())
      return Invalid("listenerPath", "seccomp notify listeners are not supported by berth");
  }
  if (value.contains("listenerMetadata") && !value["listenerMetadata"].is_null()) {
    BERTH_TRY(GetString(value["listenerMetadata"], "listenerMetadata"));
  }
  if (value.contains("syscalls") && !value["syscalls"].is_null()) {
    const json& calls = value["syscalls"];
    if (!calls.is_array()) return Invalid("syscalls", "must be a list");
    for (size_t i = 0; i < calls.size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(auto call,
                             ParseSyscall(calls[i], Index("syscalls", i), form, context));
      if (call) profile.syscalls.push_back(std::move(*call));
    }
  }
  return profile;
}

Result<json> ParseJsonText(std::string_view text) {
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return InvalidArgument("seccomp profile: not valid JSON");
  return value;
}

Result<void> RefuseNotify(const SeccompProfile& profile) {
  if (profile.default_action == SeccompAction::kNotify)
    return Invalid("defaultAction", "SCMP_ACT_NOTIFY needs a seccomp agent, which berth has not");
  for (size_t i = 0; i < profile.syscalls.size(); ++i)
    if (profile.syscalls[i].action == SeccompAction::kNotify)
      return Invalid(Index("syscalls", i) + ".action",
                     "SCMP_ACT_NOTIFY needs a seccomp agent, which berth has not");
  return Ok();
}

std::string_view NativeArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "";
#endif
}

}  // namespace

std::string_view SeccompActionName(SeccompAction action) {
  for (const auto& [value, name] : kActions)
    if (value == action) return name;
  return "";
}

Result<SeccompAction> ParseSeccompAction(std::string_view name) {
  for (const auto& [value, known] : kActions)
    if (known == name) return value;
  return InvalidArgument("unknown seccomp action \"" + std::string(name) + "\"");
}

std::string_view SeccompOperatorName(SeccompOperator op) {
  for (const auto& [value, name] : kOperators)
    if (value == op) return name;
  return "";
}

Result<SeccompOperator> ParseSeccompOperator(std::string_view name) {
  for (const auto& [value, known] : kOperators)
    if (known == name) return value;
  return InvalidArgument("unknown seccomp operator \"" + std::string(name) + "\"");
}

bool IsKnownSeccompArchitecture(std::string_view name) {
  return std::find(kArchitectures.begin(), kArchitectures.end(), name) != kArchitectures.end();
}

bool IsKnownSeccompFlag(std::string_view name) {
  return std::find(kFlags.begin(), kFlags.end(), name) != kFlags.end();
}

std::string_view SeccompArchOfNative(std::string_view native_arch) {
  for (const auto& [go, scmp] : kNativeArches)
    if (go == native_arch) return scmp;
  return "";
}

Result<SeccompProfile> ParseOciSeccomp(const json& value) {
  return ParseProfile(value, Form::kOci, nullptr);
}

Result<SeccompProfile> ParseOciSeccompJson(std::string_view text) {
  BERTH_ASSIGN_OR_RETURN(json value, ParseJsonText(text));
  return ParseOciSeccomp(value);
}

json SeccompProfileToJson(const SeccompProfile& profile) {
  json out = json::object();
  out["defaultAction"] = SeccompActionName(profile.default_action);
  if (profile.default_errno_ret) out["defaultErrnoRet"] = *profile.default_errno_ret;
  if (!profile.architectures.empty()) out["architectures"] = profile.architectures;
  if (!profile.flags.empty()) out["flags"] = profile.flags;
  json calls = json::array();
  for (const auto& call : profile.syscalls) {
    json entry = {{"names", call.names}, {"action", SeccompActionName(call.action)}};
    if (call.errno_ret) entry["errnoRet"] = *call.errno_ret;
    if (!call.args.empty()) {
      json args = json::array();
      for (const auto& arg : call.args) {
        json a = {{"index", arg.index}, {"value", arg.value}, {"op", SeccompOperatorName(arg.op)}};
        if (arg.value_two != 0) a["valueTwo"] = arg.value_two;
        args.push_back(std::move(a));
      }
      entry["args"] = std::move(args);
    }
    calls.push_back(std::move(entry));
  }
  out["syscalls"] = std::move(calls);
  return out;
}

std::string SerializeSeccompProfile(const SeccompProfile& profile) {
  return SeccompProfileToJson(profile).dump(2) + "\n";
}

SeccompResolveContext HostSeccompContext(std::vector<std::string> granted_capabilities) {
  SeccompResolveContext context;
  context.granted_capabilities = std::move(granted_capabilities);
  context.native_arch = std::string(NativeArch());
  struct utsname name {};
  if (uname(&name) != 0) return context;
  // "6.1.0-18-amd64": the first two numbers.
  std::string_view release(name.release);
  size_t second_dot = release.find('.', release.find('.') + 1);
  size_t end = std::min(second_dot, release.find_first_not_of("0123456789."));
  if (auto version = KernelMajorMinor(release.substr(0, end))) {
    std::tie(context.kernel_major, context.kernel_minor) = *version;
  }
  return context;
}

Result<SeccompProfile> ParseLocalhostSeccompJson(std::string_view text,
                                                 const SeccompResolveContext& context) {
  BERTH_ASSIGN_OR_RETURN(json value, ParseJsonText(text));
  BERTH_ASSIGN_OR_RETURN(SeccompProfile profile, ParseProfile(value, Form::kDocker, &context));
  BERTH_TRY(RefuseNotify(profile));
  return profile;
}

Result<SeccompProfile> LoadLocalhostSeccompProfile(const std::string& path,
                                                   const SeccompResolveContext& context) {
  if (path.empty() || path[0] != '/')
    return InvalidArgument("seccomp profile path \"" + path + "\" is not absolute");
  auto text = ReadFile(path, 4 << 20);
  if (!text.ok()) return std::move(text).error().Wrap("read seccomp profile " + path);
  auto profile = ParseLocalhostSeccompJson(*text, context);
  if (!profile.ok()) return std::move(profile).error().Wrap(path);
  return profile;
}

}  // namespace berth::security
