#include "cmd/berthctl/image_commands.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cmd/berthctl/output.h"

namespace berthctl {
namespace {

// Pulls can take long: a pull gets at least this deadline, whatever --timeout says.
constexpr int kPullTimeoutSeconds = 600;

// "docker.io/library/busybox:latest" -> {"docker.io/library/busybox", "latest"}.
std::pair<std::string, std::string> SplitTag(const std::string& reference) {
  size_t colon = reference.find_last_of(':');
  if (colon == std::string::npos || reference.find('/', colon) != std::string::npos) {
    return {reference, "<none>"};
  }
  return {reference.substr(0, colon), reference.substr(colon + 1)};
}

std::string ShortId(const std::string& id) {
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 13);
}

int Pull(const GlobalOptions& options, const PullFlags& flags) {
  Client client(options);
  std::string image_ref;
  auto status = PullImage(client, options, flags, nullptr, &image_ref);
  if (!status.ok()) return ReportRpcError("pull " + flags.image, status);
  std::printf("Image is up to date for %s\n", image_ref.c_str());
  return 0;
}

int Images(const GlobalOptions& options, const std::string& filter, bool quiet) {
  Client client(options);
  ::runtime::v1::ListImagesRequest request;
  if (!filter.empty()) request.mutable_filter()->mutable_image()->set_image(filter);
  ::runtime::v1::ListImagesResponse response;
  auto status = client.images().ListImages(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("images", status);
  if (options.output == "json") {
    PrintJson(response);
    return 0;
  }
  if (quiet) {
    for (const auto& image : response.images()) std::printf("%s\n", image.id().c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"IMAGE", "TAG", "IMAGE ID", "SIZE"}};
  for (const auto& image : response.images()) {
    std::string size = HumanSize(image.size(), 3);
    if (image.repo_tags().empty()) {
      std::string name = image.repo_digests().empty()
                             ? "<none>"
                             : image.repo_digests(0).substr(0, image.repo_digests(0).find('@'));
      rows.push_back({name, "<none>", ShortId(image.id()), size});
    }
    for (const auto& tag : image.repo_tags()) {
      auto [name, version] = SplitTag(tag);
      rows.push_back({name, version, ShortId(image.id()), size});
    }
  }
  PrintTable(rows);
  return 0;
}

int RemoveImages(const GlobalOptions& options, const std::vector<std::string>& names) {
  Client client(options);
  int exit_code = 0;
  for (const auto& name : names) {
    // RemoveImage succeeds for an absent image; say so instead of "Deleted".
    ::runtime::v1::ImageStatusRequest status_request;
    status_request.mutable_image()->set_image(name);
    ::runtime::v1::ImageStatusResponse status_response;
    auto status =
        client.images().ImageStatus(client.Context().get(), status_request, &status_response);
    if (!status.ok()) {
      exit_code = ReportRpcError("rmi " + name, status);
      continue;
    }
    if (!status_response.has_image()) {
      std::fprintf(stderr, "berthctl: rmi %s: no such image\n", name.c_str());
      exit_code = 1;
      continue;
    }
    ::runtime::v1::RemoveImageRequest request;
    request.mutable_image()->set_image(status_response.image().id());
    ::runtime::v1::RemoveImageResponse response;
    status = client.images().RemoveImage(client.Context().get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportRpcError("rmi " + name, status);
      continue;
    }
    for (const auto& tag : status_response.image().repo_tags())
      std::printf("Deleted: %s\n", tag.c_str());
    if (status_response.image().repo_tags().empty()) {
      std::printf("Deleted: %s\n", status_response.image().id().c_str());
    }
  }
  return exit_code;
}

int InspectImage(const GlobalOptions& options, const std::string& name) {
  Client client(options);
  ::runtime::v1::ImageStatusRequest request;
  request.mutable_image()->set_image(name);
  request.set_verbose(true);
  ::runtime::v1::ImageStatusResponse response;
  auto status = client.images().ImageStatus(client.Context().get(), request, &response);
  if (!status.ok()) return ReportRpcError("inspecti " + name, status);
  if (!response.has_image()) {
    std::fprintf(stderr, "berthctl: inspecti %s: no such image\n", name.c_str());
    return 1;
  }
  ::runtime::v1::ImageStatusResponse status_only;
  *status_only.mutable_image() = response.image();
  std::string image_json;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(status_only, &image_json, print);
  nlohmann::ordered_json document = {{"status", nlohmann::json::parse(image_json)["image"]}};
  if (auto it = response.info().find("info"); it != response.info().end()) {
    document["info"] = nlohmann::json::parse(it->second, nullptr, false);
  }
  std::printf("%s\n", document.dump(2).c_str());
  return 0;
}

int Import(const GlobalOptions& options, const std::string& path, const std::string& name) {
  Client client(options);
  berth::admin::v1::ImportImageRequest request;
  std::error_code error;
  request.set_path(std::filesystem::absolute(path, error).lexically_normal().string());
  request.set_name(name);
  berth::admin::v1::ImportImageResponse response;
  auto status = client.admin().ImportImage(
      client.Context(std::max(options.timeout_seconds, kPullTimeoutSeconds)).get(), request,
      &response);
  if (!status.ok()) return ReportRpcError("import " + path, status);
  for (const auto& image : response.images()) {
    std::string tags;
    for (const auto& tag : image.repo_tags()) tags += (tags.empty() ? "" : ", ") + tag;
    std::printf("Imported %s%s\n", image.id().c_str(),
                tags.empty() ? "" : (" (" + tags + ")").c_str());
  }
  return 0;
}

}  // namespace

grpc::Status PullImage(Client& client, const GlobalOptions& options, const PullFlags& flags,
                       const ::runtime::v1::PodSandboxConfig* sandbox, std::string* image_ref) {
  ::runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(flags.image);
  if (!flags.creds.empty()) {
    size_t colon = flags.creds.find(':');
    request.mutable_auth()->set_username(flags.creds.substr(0, colon));
    if (colon != std::string::npos)
      request.mutable_auth()->set_password(flags.creds.substr(colon + 1));
  }
  if (!flags.auth.empty()) request.mutable_auth()->set_auth(flags.auth);
  if (sandbox != nullptr) *request.mutable_sandbox_config() = *sandbox;
  ::runtime::v1::PullImageResponse response;
  auto status = client.images().PullImage(
      client.Context(std::max(options.timeout_seconds, kPullTimeoutSeconds)).get(), request,
      &response);
  *image_ref = response.image_ref();
  return status;
}

void AddImageCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto flags = std::make_shared<PullFlags>();
  auto* pull = app.add_subcommand("pull", "pull an image from a registry");
  pull->add_option("image", flags->image, "image reference")->required();
  pull->add_option("--creds", flags->creds, "registry credentials as USERNAME[:PASSWORD]");
  pull->add_option("--auth", flags->auth, "registry credentials as base64(USERNAME:PASSWORD)");
  pull->callback([&options, exit_code, flags] { *exit_code = Pull(options, *flags); });

  auto filter = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  auto* images = app.add_subcommand("images", "list images");
  images->alias("img");
  images->add_option("image", *filter, "only this image (name, digest or ID)");
  images->add_flag("-q,--quiet", *quiet, "only image IDs");
  images->callback(
      [&options, exit_code, filter, quiet] { *exit_code = Images(options, *filter, *quiet); });

  auto names = std::make_shared<std::vector<std::string>>();
  auto* rmi = app.add_subcommand("rmi", "remove images");
  rmi->add_option("image", *names, "image names, digests or IDs")->required();
  rmi->callback([&options, exit_code, names] { *exit_code = RemoveImages(options, *names); });

  auto inspect_name = std::make_shared<std::string>();
  auto* inspecti = app.add_subcommand("inspecti", "show an image's status and config as JSON");
  inspecti->add_option("image", *inspect_name, "image name, digest or ID")->required();
  inspecti->callback(
      [&options, exit_code, inspect_name] { *exit_code = InspectImage(options, *inspect_name); });

  auto import_path = std::make_shared<std::string>();
  auto import_name = std::make_shared<std::string>();
  auto* import = app.add_subcommand(
      "import", "load an OCI layout directory, OCI archive or docker save archive into berthd");
  import->add_option("path", *import_path, "layout directory or archive on this node")->required();
  import->add_option("--name", *import_name, "name for the image (layouts with one image)");
  import->callback([&options, exit_code, import_path, import_name] {
    *exit_code = Import(options, *import_path, *import_name);
});
}  // namespace berthctl

}  // namespace berthctl
