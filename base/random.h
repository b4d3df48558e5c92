// Random names for temp files, snapshot keys and object IDs.
#pragma once

#include <cstddef>
#include <string>

namespace berth {

// `length` lowercase hex characters from a per-thread generator seeded by the OS.
std::string RandomHex(size_t length);

}  // namespace berth
