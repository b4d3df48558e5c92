// What the fuzz targets share: a check that stops the run with a message, as a crash libFuzzer
// records (the input is saved and the run fails).
#pragma once

#include <cstdio>
#include <cstdlib>

#define BERTH_FUZZ_CHECK(condition, message)                                                \
  do {                                                                                      \
    if (!(condition)) {                                                                     \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, __LINE__, #condition, \
                   message);                                                                \
      std::abort();                                                                         \
    }                                                                                       \
  } while (false)
