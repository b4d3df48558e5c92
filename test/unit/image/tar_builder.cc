#include "test/unit/image/tar_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <stdexcept>

namespace berth::image::testing {
namespace {

la_ssize_t AppendToString(archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

void Check(int rc, archive* writer, const char* what) {
  if (rc < ARCHIVE_WARN) {
    throw std::runtime_error(std::string(what) + ": " + archive_error_string(writer));
  }
}

void WriteEntry(archive* writer, const TarEntry& spec) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                 archive_entry_free);
  archive_entry* e = entry.get();
  archive_entry_copy_pathname(e, spec.path.c_str());
  archive_entry_set_filetype(e, spec.type);
  archive_entry_set_perm(e, spec.mode);
  archive_entry_set_uid(e, spec.uid);
  archive_entry_set_gid(e, spec.gid);
  archive_entry_set_mtime(e, spec.mtime, spec.mtime_nsec);
  if (!spec.hardlink.empty()) archive_entry_copy_hardlink(e, spec.hardlink.c_str());
  if (spec.type == AE_IFLNK) archive_entry_copy_symlink(e, spec.link.c_str());
  if (spec.type == AE_IFCHR || spec.type == AE_IFBLK) {
    archive_entry_set_rdevmajor(e, spec.dev_major);
    archive_entry_set_rdevminor(e, spec.dev_minor);
  }
  for (const auto& [name, value] : spec.xattrs) {
    archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
  }
  const bool has_data = spec.type == AE_IFREG && spec.hardlink.empty();
  archive_entry_set_size(e, has_data ? static_cast<la_int64_t>(spec.content.size()) : 0);
  for (const auto& [offset, length] : spec.sparse)
    archive_entry_sparse_add_entry(e, offset, length);
  Check(archive_write_header(writer, e), writer, "write header");
  if (has_data && !spec.content.empty()) {
    if (archive_write_data(writer, spec.content.data(), spec.content.size()) < 0) {
      throw std::runtime_error("write data");
    }
  }
}

}  // namespace

TarBuilder& TarBuilder::Add(TarEntry entry) {
  entries_.push_back(std::move(entry));
  return *this;
}

TarBuilder& TarBuilder::File(const std::string& path, const std::string& content, mode_t mode) {
  return Add({.path = path, .mode = mode, .content = content});
}

TarBuilder& TarBuilder::Dir(const std::string& path, mode_t mode) {
  return Add({.path = path, .type = AE_IFDIR, .mode = mode});
}

TarBuilder& TarBuilder::Symlink(const std::string& path, const std::string& target) {
  return Add({.path = path, .type = AE_IFLNK, .mode = 0777, .link = target});
}

TarBuilder& TarBuilder::Hardlink(const std::string& path, const std::string& target) {
  return Add({.path = path, .hardlink = target});
}

TarBuilder& TarBuilder::Fifo(const std::string& path) {
  return Add({.path = path, .type = AE_IFIFO, .mode = 0600});
}

TarBuilder& TarBuilder::Device(const std::string& path, mode_t type, unsigned major,
                               unsigned minor) {
  return Add({.path = path, .type = type, .mode = 0666, .dev_major = major, .dev_minor = minor});
}

TarBuilder& TarBuilder::Marker(const std::string& path) {
  return File(path, "", 0600);
}

std::string TarBuilder::Build() const {
  std::string output;
  std::unique_ptr<archive, int (*)(archive*)> writer(archive_write_new(), archive_write_free);
  Check(archive_write_set_format_pax(writer.get()), writer.get(), "set format");
  Check(archive_write_add_filter_none(writer.get()), writer.get(), "set filter");
  Check(archive_write_open(writer.get(), &output, nullptr, AppendToString, nullptr), writer.get(),
        "open");
  for (const TarEntry& entry : entries_) WriteEntry(writer.get(), entry);
  Check(archive_write_close(writer.get()), writer.get(), "close");
  return output;
}

std::string Gzip(const std::string& data) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string output(deflateBound(&stream, data.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(output.data());
  stream.avail_out = static_cast<uInt>(output.size());
  const int rc = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  output.resize(stream.total_out);
  return output;
}

std::string Zstd(const std::string& data) {
  std::string output(ZSTD_compressBound(data.size()), '\0');
  const size_t size = ZSTD_compress(output.data(), output.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(size)) throw std::runtime_error("ZSTD_compress");
  output.resize(size);
  return output;
}

std::vector<std::string> ListNames(const std::string& tar) {
  std::unique_ptr<archive, int (*)(archive*)> reader(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(reader.get());
  std::vector<std::string> names;
  if (archive_read_open_memory(reader.get(), tar.data(), tar.size()) != ARCHIVE_OK) return names;
  archive_entry* entry = nullptr;
  while (true) {
    const int rc = archive_read_next_header(reader.get(), &entry);
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) break;
    names.emplace_back(archive_entry_pathname(entry));
  }
  return names;
}

}  // namespace berth::image::testing
