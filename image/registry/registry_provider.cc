#include "image/registry/registry_provider.h"

#include <mutex>

namespace berth::image {
namespace {

// A RegistrySession is one libcurl handle and not thread-safe, while the unpacker downloads
// several layers at once: keep a pool, one session per concurrent download, each reused for
// keep-alive.
class RegistryProvider : public ContentProvider {
 public:
  RegistryProvider(const RegistryClient& client, Reference reference,
                   std::optional<RegistryAuth> auth, CancelToken cancel,
                   std::unique_ptr<RegistrySession> first)
      : client_(client),
        reference_(std::move(reference)),
        auth_(std::move(auth)),
        cancel_(std::move(cancel)),
        description_("registry " + (first->endpoints().empty() ? reference_.domain
                                                               : first->endpoints().front())) {
    idle_.push_back(std::move(first));
  }

  Result<ManifestBytes> FetchManifest(const Descriptor& descriptor) override {
    BERTH_ASSIGN_OR_RETURN(auto session, Acquire());
    auto fetched = session->FetchManifest(descriptor.digest.String(), ManifestMediaTypes());
    Release(std::move(session));
    if (!fetched) return std::move(fetched).error();
    return ManifestBytes{fetched->media_type, std::move(fetched->content), fetched->digest};
  }

  Result<void> FetchBlob(const Descriptor& descriptor, const BlobSink& sink) override {
    BERTH_ASSIGN_OR_RETURN(auto session, Acquire());
    auto fetched = session->FetchBlob(descriptor.digest, descriptor.size, sink);
    Release(std::move(session));
    return fetched;
  }

  std::string Describe() const override { return description_; }

 private:
  Result<std::unique_ptr<RegistrySession>> Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto session = std::move(idle_.back());
        idle_.pop_back();
        return session;
      }
    }
    return client_.OpenSession(reference_, auth_, cancel_);
  }
  void Release(std::unique_ptr<RegistrySession> session) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(session));
  }

  const RegistryClient& client_;
  Reference reference_;
  std::optional<RegistryAuth> auth_;
  CancelToken cancel_;
  std::string description_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<RegistrySession>> idle_;
};

}  // namespace

RegistryOpener MakeRegistryOpener(const RegistryClient& client) {
  return [&client](const Reference& reference, const std::optional<RegistryAuth>& auth,
                   const CancelToken& cancel) -> Result<RegistryOpening> {
    BERTH_ASSIGN_OR_RETURN(auto session, client.OpenSession(reference, auth, cancel));
    std::string object = reference.digest ? reference.digest->String() : reference.tag;
    BERTH_ASSIGN_OR_RETURN(FetchedManifest root,
                           session->FetchManifest(object, ManifestMediaTypes()));
    ManifestBytes bytes{root.media_type, std::move(root.content), root.digest};
    auto provider =
        std::make_unique<RegistryProvider>(client, reference, auth, cancel, std::move(session));
    return RegistryOpening{std::move(provider), std::move(bytes)};
  };
}

}  // namespace berth::image
