// Applies an OCI image layer (a tar stream, possibly gzip- or zstd-compressed) to a fresh
// overlayfs snapshot directory, the way containerd's overlay snapshotter applies a layer to an
// upper dir, and computes the layer's diff_id on the way.
//
// Threat model: the layer is hostile. Nothing is ever created, changed or removed outside
// `layer_dir`, whatever the entry names, symlinks planted by earlier entries or hardlink targets:
// parent paths are resolved by the kernel inside the layer dir (openat2 RESOLVE_IN_ROOT, as a
// chroot would), final components are handled with *at() calls that never follow a symlink, and
// every size and count is bounded (ApplyLimits).
//
// Semantics (as containerd / Docker):
// - Entry names are cleaned lexically: "." and empty parts dropped, ".." stops at the root
//   ("../../etc/x" is "etc/x"), a leading "/" means the layer root. Entries naming the root are
//   ignored.
// - Missing parents are created as 0755 directories owned by the applier.
// - A later entry replaces an existing path (a directory over a directory merges and only takes
//   the new metadata); a directory being replaced is removed with its content.
// - Regular files (sparse maps kept), directories, symlinks (kept as symlinks, target verbatim),
//   hardlinks, FIFOs, and character/block devices. Sockets and unknown types are skipped.
// - Metadata: ownership (numeric uid/gid, only when preserving ownership), mode with
//   setuid/setgid/sticky, xattrs, atime/mtime (nanoseconds; symlinks too). Directory times are set
//   after the whole layer is applied, since creating their content changes them.
// - Whiteouts become overlayfs whiteouts: ".wh.NAME" -> a 0/0 character device NAME owned like the
//   entry; ".wh..wh..opq" in D -> xattr `opaque_xattr`="y" on D (D created when missing); other
//   ".wh..wh." names (AUFS metadata such as .wh..wh.plnk) are ignored.
// - Hardlink targets are resolved inside the layer like any path. A target that is not in this
//   layer but in a lower one (ApplyOptions::lower_dirs) is copied up into this layer first, then
//   linked (overlayfs cannot link across layers). A target found nowhere, a directory target, or a
//   target hidden by a whiteout/opaque dir in a lower layer is InvalidArgument naming the entry.
// - Xattrs: user.*, trusted.* and security.* are applied; overlayfs' own (trusted.overlay.*,
//   user.overlay.*) and system.* ones from the tar are skipped, so a layer cannot forge overlay
//   metadata (opaque, redirect, metacopy). As Docker does, setting one that fails with EPERM or
//   ENOTSUP (unprivileged, filesystem without support, LSM refusal) is skipped and counted, not
//   fatal.
// - Unprivileged (euid != 0, the defaults of preserve_ownership / create_devices follow it):
//   ownership is not changed and device nodes are skipped, as rootless containerd does. A device
//   node refused with EPERM (root in a user namespace) is skipped too.
//
// Needs /proc mounted: xattrs are set through /proc/self/fd/<parent>/<name> (lsetxattr has no *at
// form) and glibc's fchmodat(AT_SYMLINK_NOFOLLOW) goes through an O_PATH descriptor there.
//
// On any error the layer dir is left half-applied: the caller must remove it (and must not
// commit the snapshot). The uncompressed stream is read to its end even after the tar's
// end-of-archive marker, so the diff_id covers every byte and the whole blob was consumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/byte_source.h"
#include "image/decompress.h"
#include "image/digest.h"

namespace berth::image {

struct ApplyLimits {
  uint64_t max_entries = 1'000'000;
  size_t max_path_length = 4096;                 // entry names and link targets, in bytes
  uint64_t max_tar_bytes = uint64_t{256} << 30;  // uncompressed stream size (decompression bombs)
  size_t max_xattrs_per_entry = 128;
  size_t max_xattr_value_size = 64 * 1024;  // the kernel's XATTR_SIZE_MAX
};

struct ApplyOptions {
  // Directories of the layers below this one, nearest first: where hardlink targets missing from
  // this layer are looked up (and copied up from).
  std::vector<std::string> lower_dirs;
  // Where an opaque directory is marked: "trusted.overlay.opaque" for a root overlay mount,
  // "user.overlay.opaque" for an overlay mounted with -o userxattr (rootless).
  std::string opaque_xattr = "trusted.overlay.opaque";
  // Unset: only when running as root (euid 0).
  std::optional<bool> preserve_ownership;
  std::optional<bool> create_devices;
  ApplyLimits limits;
};

struct ExtractStats {
  uint64_t entries = 0;          // tar entries read, whatever became of them
  uint64_t bytes_written = 0;    // file data written, copy-ups included
  uint64_t tar_bytes = 0;        // size of the uncompressed tar stream
  uint64_t whiteouts = 0;        // ".wh.NAME" entries turned into whiteout devices
  uint64_t opaque_dirs = 0;      // ".wh..wh..opq" entries
  uint64_t copied_up = 0;        // hardlink targets copied up from lower layers
  uint64_t skipped_entries = 0;  // root entries, AUFS metadata, sockets, unprivileged devices
  uint64_t skipped_xattrs = 0;   // filtered or refused xattrs
  Compression compression = Compression::kNone;
  Digest diff_id;  // sha256 of the uncompressed tar: the layer's diff_id
};

// Applies the layer read from `layer` to `layer_dir` (created when missing; normally empty).
Result<ExtractStats> ApplyLayer(ByteSource& layer, const std::string& layer_dir,
                                const ApplyOptions& options = {});

// Convenience: applies the layer blob stored in the file `blob_path`.
Result<ExtractStats> ApplyLayerFile(const std::string& blob_path, const std::string& layer_dir,
                                    const ApplyOptions& options = {});

}  // namespace berth::image
