// Shared fixture of the layer applier tests: a fresh temp parent per test with the layer dir
// inside it, so that anything escaping the layer dir shows up as an extra name in the parent.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "image/byte_source.h"
#include "image/layer_extractor.h"

namespace berth::image::testing {

inline std::set<std::string> ListDir(const std::string& path) {
  std::set<std::string> names;
  if (DIR* dir = ::opendir(path.c_str())) {
    while (const dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.insert(name);
    }
    ::closedir(dir);
  }
  return names;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

inline bool Lstat(const std::string& path, struct stat& st) {
  return ::lstat(path.c_str(), &st) == 0;
}

inline bool Exists(const std::string& path) {
  struct stat st {};
  return Lstat(path, st);
}

inline std::string ReadLink(const std::string& path) {
  char buffer[4096];
  const ssize_t length = ::readlink(path.c_str(), buffer, sizeof(buffer));
  return length < 0 ? std::string() : std::string(buffer, static_cast<size_t>(length));
}

class LayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/berth-layer-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    parent_ = pattern;
    layer_ = parent_ + "/layer";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(parent_, ignored);
  }

  Result<ExtractStats> Apply(const std::string& blob, const ApplyOptions& options = {}) {
    MemoryByteSource source(blob);
    return ApplyLayer(source, layer_, options);
  }

  std::string L(const std::string& relative) const { return layer_ + "/" + relative; }

  // Nothing but the layer dir (and what the test put there itself) is in the parent.
  void ExpectParentHolds(const std::set<std::string>& names) const {
    EXPECT_EQ(ListDir(parent_), names) << "something was created beside the layer dir";
  }

  static bool IsRoot() { return ::geteuid() == 0; }

  std::string parent_;
  std::string layer_;
};

}  // namespace berth::image::testing
