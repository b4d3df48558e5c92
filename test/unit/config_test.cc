#include "config/config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace berth {
namespace {

std::string SourceFile(const std::string& relative) {
  std::ifstream file(std::string(BERTH_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(ConfigTest, EmptyFileMeansDefaults) {
  auto config = ParseConfig("", "test.yaml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->root, "/var/lib/berth");
  EXPECT_EQ(config->state, "/run/berth");
  EXPECT_EQ(config->listen, "/run/berth/berth.sock");
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->cgroup_driver, "cgroupfs");
}

TEST(ConfigTest, ReadsKeys) {
  auto config = ParseConfig("root: /srv/berth\nlisten: /tmp/b.sock\nlog_level: debug\n", "t.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->root, "/srv/berth");
  EXPECT_EQ(config->listen, "/tmp/b.sock");
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->state, "/run/berth");
}

TEST(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  auto config = ParseConfig("roots: /srv\n", "/etc/berth/berth.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(config.error().message(), "/etc/berth/berth.yaml: unknown key \"roots\"");
}

TEST(ConfigTest, WrongTypeAndBadYamlAreErrors) {
  auto list = ParseConfig("root: [a, b]\n", "t.yaml");
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message().find("\"root\" must be a string"), std::string::npos);
  auto broken = ParseConfig("root: [unclosed\n", "t.yaml");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message().find("not valid YAML"), std::string::npos);
  EXPECT_FALSE(ParseConfig("- a\n- b\n", "t.yaml").ok());
}

// Numbers are whole decimal integers in int's range (base/parse_number.h).
TEST(ConfigTest, Numbers) {
  EXPECT_EQ(ParseConfig("streaming: {port: 10010}\n", "t.yaml")->streaming.port, 10010);
  EXPECT_EQ(ParseConfig("streaming: {port: \"10010\"}\n", "t.yaml")->streaming.port, 10010);
  EXPECT_EQ(ParseConfig("streaming: {port: -1}\n", "t.yaml")->streaming.port, -1);
  for (const char* bad : {"0x10", "1e3", "+5", "99999999999", "8 apples", "[1]", "''"}) {
    auto config = ParseConfig(std::string("max_concurrent_downloads: ") + bad + "\n", "t.yaml");
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_NE(config.error().message().find("must be a number"), std::string::npos) << bad;
  }
}

TEST(ConfigTest, Validation) {
  Config config;
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.root = "relative/dir";
  auto relative = ValidateConfig(config);
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message().find("root must be an absolute path"), std::string::npos);
  config = Config{};
  config.log_level = "chatty";
  EXPECT_FALSE(ValidateConfig(config).ok());
  config = Config{};
  config.max_concurrent_downloads = 0;
  EXPECT_FALSE(ValidateConfig(config).ok());
  EXPECT_EQ(ParseConfig("max_concurrent_downloads: 5\n", "t")->max_concurrent_downloads, 5);
  EXPECT_FALSE(ParseConfig("max_concurrent_downloads: many\n", "t").ok());
  config = Config{};
  config.cgroup_driver = "systemd";
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.cgroup_driver = "cgroupv2";
  auto unknown = ValidateConfig(config);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("\"cgroupfs\" or \"systemd\""), std::string::npos);
}

TEST(ConfigTest, Registries) {
  auto config = ParseConfig(
      "registries:\n"
      "  mirrors:\n"
      "    docker.io: [\"http://127.0.0.1:5000\", \"https://mirror.example\"]\n"
      "  insecure: [\"127.0.0.1:5000\"]\n"
      "  auths:\n"
      "    registry.example: {username: me, password: secret}\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  const auto& registries = config->registries;
  ASSERT_EQ(registries.mirrors.at("docker.io").size(), 2u);
  EXPECT_EQ(registries.mirrors.at("docker.io")[0], "http://127.0.0.1:5000");
  EXPECT_EQ(registries.insecure, std::vector<std::string>{"127.0.0.1:5000"});
  EXPECT_EQ(registries.auths.at("registry.example").password, "secret");
  // Credentials never reach the printed configuration.
  std::string json = ConfigToJson(*config);
  EXPECT_EQ(json.find("secret"), std::string::npos) << json;
  EXPECT_NE(json.find("registry.example"), std::string::npos);

  auto typo = ParseConfig("registries:\n  mirror: {}\n", "t.yaml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message().find("registries.mirror"), std::string::npos);
  auto bad_auth = ParseConfig("registries:\n  auths:\n    h: {user: x}\n", "t.yaml");
  ASSERT_FALSE(bad_auth.ok());
  EXPECT_NE(bad_auth.error().message().find("registries.auths.h.user"), std::string::npos);
  EXPECT_FALSE(ParseConfig("registries:\n  insecure: h\n", "t.yaml").ok());
}

TEST(ConfigTest, Network) {
  auto config = ParseConfig(
      "network:\n  mode: cni\n  bridge: br9\n  subnet: 10.1.0.0/24\n"
      "  cni_bin_dirs: [/x]\n",
      "t.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->network.mode, "cni");
  EXPECT_EQ(config->network.bridge, "br9");
  EXPECT_EQ(config->network.cni_bin_dirs, std::vector<std::string>{"/x"});
  EXPECT_EQ(config->network.nft_table, "berth");
  EXPECT_TRUE(ValidateConfig(*config).ok());
  EXPECT_FALSE(ParseConfig("network:\n  modes: cni\n", "t").ok());
  config->network.mode = "magic";
  EXPECT_FALSE(ValidateConfig(*config).ok());
  config->network.mode = "builtin";
  config->network.bridge = "a-very-long-bridge-name";
  EXPECT_FALSE(ValidateConfig(*config).ok());
}

TEST(ConfigTest, ImageVolumes) {
  EXPECT_EQ(Config{}.image_volumes, "copy");
  auto config = ParseConfig("image_volumes: mkdir\n", "t.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->image_volumes, "mkdir");
  EXPECT_TRUE(ValidateConfig(*config).ok());
  config->image_volumes = "bind";
  EXPECT_FALSE(ValidateConfig(*config).ok());
}

TEST(ConfigTest, MetricsAddress) {
  EXPECT_TRUE(Config{}.metrics.address.empty());  // off by default
  auto config = ParseConfig("metrics:\n  address: 127.0.0.1:9464\n", "t.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->metrics.address, "127.0.0.1:9464");
  EXPECT_TRUE(ValidateConfig(*config).ok());
  EXPECT_NE(ConfigToJson(*config).find("127.0.0.1:9464"), std::string::npos);
  auto typo = ParseConfig("metrics:\n  adress: x\n", "t.yaml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message().find("metrics.adress"), std::string::npos);
  config->metrics.address = "9464";
  EXPECT_FALSE(ValidateConfig(*config).ok());
}

// Found by fuzz_config: a key that is a sequence or a mapping made as<std::string>() throw out of
// ParseConfig.
TEST(ConfigTest, NonScalarKeysAreErrors) {
  for (const char* text :
       {"? [a, b]\n: c\n", "network:\n  ? {x: 1}\n  : cni\n", "streaming:\n  ? [port]\n  : 1\n",
        "registries:\n  ? [mirrors]\n  : {}\n", "registries:\n  mirrors:\n    ? [h]\n    : [a]\n",
        "registries:\n  auths:\n    h:\n      ? [username]\n      : u\n"}) {
    auto config = ParseConfig(text, "t.yaml");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_NE(config.error().message().find("is not a name"), std::string::npos)
        << config.error().message();
  }
}

// Found by fuzz_config: a value that is not UTF-8 (YAML does not check) made ConfigToJson throw
// (nlohmann::json::dump), from Status verbose.
TEST(ConfigTest, JsonFormOfValuesThatAreNotUtf8) {
  auto config = ParseConfig("root: /var/lib/\xa6x\nnetwork:\n  cni_bin_dirs: [/\xff]\n", "t.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->root, "/var/lib/\xa6x");
  auto json = nlohmann::json::parse(ConfigToJson(*config), nullptr, false);
  ASSERT_FALSE(json.is_discarded());
  EXPECT_EQ(json["root"], "/var/lib/\xef\xbf\xbdx");
}

TEST(ConfigTest, MissingFile) {
  EXPECT_TRUE(LoadConfig("/nonexistent/berth.yaml", /*missing_ok=*/true).ok());
  auto named = LoadConfig("/nonexistent/berth.yaml", /*missing_ok=*/false);
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().code(), ErrorCode::kNotFound);
}

// The shipped example documents every key with its default: it must parse to exactly the
// defaults.
TEST(ConfigTest, ExampleConfigIsTheDefaults) {
  auto example = LoadConfig(std::string(BERTH_SOURCE_DIR) + "/config/berth.example.yaml", false);
  ASSERT_TRUE(example.ok()) << example.error().message();
  EXPECT_EQ(ConfigToJson(*example), ConfigToJson(Config{}));
}

// Every key of the example config appears in the README's configuration reference.
TEST(ConfigTest, ReadmeDocumentsEveryKey) {
  std::string example = SourceFile("config/berth.example.yaml");
  std::string readme = SourceFile("README.md");
  ASSERT_FALSE(readme.empty());
  std::regex key_line("^([a-z_]+):", std::regex::multiline);
  int keys = 0;
  for (std::sregex_iterator it(example.begin(), example.end(), key_line), end; it != end; ++it) {
    std::string key = (*it)[1];
    ++keys;
    EXPECT_NE(readme.find("`" + key + "`"), std::string::npos)
        << "README.md does not document config key " << key;
  }
  EXPECT_EQ(keys, 11);
}

}  // namespace
}  // namespace berth
