#include "image/image_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "image/reference.h"

namespace berth::image {
namespace {

constexpr char kKind[] = "image";

std::string DigestText(const Digest& digest) {
  return digest.empty() ? "" : digest.String();
}

Result<Digest> OptionalDigest(const nlohmann::json& json, const char* key) {
  std::string text = json.value(key, "");
  if (text.empty()) return Digest();
  return Digest::Parse(text);
}

bool IsHex(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return std::isxdigit(c) && !std::isupper(c); });
}

template <typename T>
void RemoveValue(std::vector<T>& values, const T& value) {
  values.erase(std::remove(values.begin(), values.end(), value), values.end());
}

}  // namespace

std::string ImageRecordToJson(const ImageRecord& record) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : record.layers) {
    layers.push_back({{"blob", layer.blob.String()},
                      {"size", layer.size},
                      {"media_type", layer.media_type},
                      {"diff_id", layer.diff_id.String()},
                      {"chain_id", layer.chain_id.String()}});
  }
  nlohmann::json json = {
      {"id", record.id},
      {"repo_tags", record.repo_tags},
      {"repo_digests", record.repo_digests},
      {"manifest_digest", DigestText(record.manifest_digest)},
      {"index_digest", DigestText(record.index_digest)},
      {"config_digest", DigestText(record.config_digest)},
      {"layers", layers},
      {"size", record.size},
      {"uid", record.uid ? nlohmann::json(*record.uid) : nlohmann::json()},
      {"username", record.username},
      {"pinned", record.pinned},
      {"created_at_nanos", record.created_at_nanos},
  };
  return json.dump();
}

Result<ImageRecord> ImageRecordFromJson(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return Internal("corrupt image record");
  try {
    ImageRecord record;
    record.id = json.at("id").get<std::string>();
    record.repo_tags = json.value("repo_tags", std::vector<std::string>{});
    record.repo_digests = json.value("repo_digests", std::vector<std::string>{});
    BERTH_ASSIGN_OR_RETURN(record.manifest_digest, OptionalDigest(json, "manifest_digest"));
    BERTH_ASSIGN_OR_RETURN(record.index_digest, OptionalDigest(json, "index_digest"));
    BERTH_ASSIGN_OR_RETURN(record.config_digest, OptionalDigest(json, "config_digest"));
    for (const auto& item : json.value("layers", nlohmann::json::array())) {
      LayerRecord layer;
      BERTH_ASSIGN_OR_RETURN(layer.blob, Digest::Parse(item.at("blob").get<std::string>()));
      layer.size = item.value("size", int64_t{0});
      layer.media_type = item.value("media_type", "");
      BERTH_ASSIGN_OR_RETURN(layer.diff_id, Digest::Parse(item.at("diff_id").get<std::string>()));
      BERTH_ASSIGN_OR_RETURN(layer.chain_id, Digest::Parse(item.at("chain_id").get<std::string>()));
      record.layers.push_back(std::move(layer));
    }
    record.size = json.value("size", int64_t{0});
    if (json.contains("uid") && json["uid"].is_number_integer())
      record.uid = json["uid"].get<int64_t>();
    record.username = json.value("username", "");
    record.pinned = json.value("pinned", false);
    record.created_at_nanos = json.value("created_at_nanos", int64_t{0});
    return record;
  } catch (const nlohmann::json::exception& e) {
    return Internal(std::string("corrupt image record: ") + e.what());
  }
}

Result<void> ImageStore::Load() {
  BERTH_ASSIGN_OR_RETURN(auto objects, metadata_.List(kKind));
  std::lock_guard lock(mutex_);
  images_.clear();
  for (const auto& object : objects) {
    auto record = ImageRecordFromJson(object.data);
    if (!record) return std::move(record).error().Wrap("image " + object.id);
    images_[record->id] = std::move(*record);
  }
  return Ok();
}

Result<void> ImageStore::Put(const ImageRecord& record) {
  std::lock_guard lock(mutex_);
  // Tags move: collect the other images that lose one, and write all changes in one transaction.
  std::map<std::string, ImageRecord> changed;
  for (const auto& [id, other] : images_) {
    if (id == record.id) continue;
    ImageRecord updated = other;
    for (const auto& tag : record.repo_tags) RemoveValue(updated.repo_tags, tag);
    if (updated.repo_tags != other.repo_tags) changed[id] = std::move(updated);
  }
  changed[record.id] = record;
  BERTH_TRY(metadata_.Update([&](StoreTransaction& transaction) -> Result<void> {
    for (const auto& [id, updated] : changed) {
      BERTH_TRY(transaction.Put(kKind, id, ImageRecordToJson(updated)));
    }
    return Ok();
  }));
  for (auto& [id, updated] : changed) images_[id] = std::move(updated);
  return Ok();
}

Result<void> ImageStore::Delete(const std::string& id) {
  std::lock_guard lock(mutex_);
  BERTH_TRY(metadata_.Update(
      [&](StoreTransaction& transaction) { return transaction.Delete(kKind, id); }));
  images_.erase(id);
  return Ok();
}

Result<ImageRecord> ImageStore::Resolve(const std::string& name) const {
  if (name.empty()) return InvalidArgument("image name is empty");
  std::lock_guard lock(mutex_);
  if (auto it = images_.find(name); it != images_.end()) return it->second;
  // A bare ID or a unique prefix of one (as crictl accepts).
  std::string hex = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  if (IsHex(hex) && hex.size() >= 3) {
    const ImageRecord* match = nullptr;
    for (const auto& [id, record] : images_) {
      if (id.compare(7, hex.size(), hex) != 0) continue;
      if (match != nullptr) return InvalidArgument("image ID prefix " + name + " is ambiguous");
      match = &record;
    }
    if (match != nullptr) return *match;
  }
  auto reference = ParseReference(name);
  if (reference) {
    std::string normalized = reference->String();
    for (const auto& [id, record] : images_) {
      const auto& refs = reference->digest ? record.repo_digests : record.repo_tags;
      if (std::find(refs.begin(), refs.end(), normalized) != refs.end()) return record;
      if (reference->digest && !reference->tag.empty()) {
        // "name:tag@digest" names its digest.
        std::string by_digest = reference->FullName() + "@" + reference->digest->String();
        if (std::find(refs.begin(), refs.end(), by_digest) != refs.end()) return record;
      }
    }
  }
  return NotFound("image \"" + name + "\" not found");
}

std::optional<ImageRecord> ImageStore::Get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = images_.find(id);
  if (it == images_.end()) return std::nullopt;
  return it->second;
}

std::vector<ImageRecord> ImageStore::List() const {
  std::lock_guard lock(mutex_);
  std::vector<ImageRecord> records;
  for (const auto& [id, record] : images_) records.push_back(record);
  return records;
}

}  // namespace berth::image
