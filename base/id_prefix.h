// Object IDs as crictl and kubelet give them: the full ID or any unique prefix of it.
#pragma once

#include <string>

#include "base/result.h"

namespace berth {

// The full key of `objects` (a map keyed by ID) that `id` names. `what` ("container", "pod
// sandbox") words the errors: empty and ambiguous are InvalidArgument, no match is NotFound.
template <typename Map>
Result<std::string> ResolveIdPrefix(const Map& objects, const std::string& id,
                                    const std::string& what) {
  if (id.empty()) return InvalidArgument(what + " id is empty");
  if (objects.count(id)) return id;
  std::string match;
  for (auto it = objects.lower_bound(id); it != objects.end() && it->first.rfind(id, 0) == 0;
       ++it) {
    if (!match.empty()) return InvalidArgument(what + " id prefix " + id + " is ambiguous");
    match = it->first;
  }
  if (match.empty()) return NotFound(what + " " + id + " not found");
  return match;
}

}  // namespace berth
