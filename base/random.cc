#include "base/random.h"

#include <random>

namespace berth {

std::string RandomHex(size_t length) {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(length, '0');
  for (char& c : text) c = kHex[engine() % 16];
  return text;
}

}  // namespace berth
