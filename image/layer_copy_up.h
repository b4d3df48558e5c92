// Hardlinks whose target lives in a lower layer. Each layer is its own overlayfs upper/lower dir,
// and overlayfs cannot link across layers, so the applier copies such a target up into the layer
// being applied and links to the copy (the link count seen in the container then starts at 2,
// as after an overlayfs copy-up).
//
// Known simplifications: parent directories created in the upper layer for a copy-up are plain
// 0755 directories owned by the applier (not copies of the lower ones' metadata), and symlinks in
// the target's parents are resolved within each layer dir alone, not across the union.
//
// Internal to image/: used by layer_extractor.cc.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace berth::image {

enum class LookupState {
  kFound,    // present in this layer (and not a whiteout)
  kMissing,  // not in this layer: look further down
  kHidden,   // deleted by this layer for the layers below: whiteout, opaque or non-dir ancestor
};

struct LayerLookup {
  LookupState state = LookupState::kMissing;
  UniqueFd parent;  // when found: the directory holding the target
  struct stat st {};
};

// Looks the clean path `target` up in one layer dir, as overlayfs sees that layer alone. Symlinks
// in its parents are resolved inside that layer dir only.
Result<LayerLookup> LookupInLayer(const UniqueFd& layer_root,
                                  const std::vector<std::string>& target,
                                  const std::string& opaque_xattr);

struct CopyUpOptions {
  bool preserve_ownership = false;
  bool create_devices = false;
};

// Copies `found` (a non-directory found by LookupInLayer in a lower layer) to the same path in
// `upper_root`, with its mode, ownership, xattrs and times. Missing parents in the upper layer are
// created as 0755 directories. Returns the upper directory now holding the copy; the bytes of file
// data copied are added to `bytes_written`.
Result<UniqueFd> CopyUp(const UniqueFd& upper_root, const LayerLookup& found,
                        const std::vector<std::string>& target, const CopyUpOptions& options,
                        uint64_t& bytes_written);

}  // namespace berth::image
