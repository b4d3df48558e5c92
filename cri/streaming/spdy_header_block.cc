#include "cri/streaming/spdy_header_block.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

namespace berth::streaming::spdy {
namespace {

// The dictionary is the spec's list of common header names and values, each with a 4-byte
// big-endian length in front, followed by a run of common value fragments without lengths.
constexpr std::array<std::string_view, 68> kDictionaryWords = {"options",
                                                               "head",
                                                               "post",
                                                               "put",
                                                               "delete",
                                                               "trace",
                                                               "accept",
                                                               "accept-charset",
                                                               "accept-encoding",
                                                               "accept-language",
                                                               "accept-ranges",
                                                               "age",
                                                               "allow",
                                                               "authorization",
                                                               "cache-control",
                                                               "connection",
                                                               "content-base",
                                                               "content-encoding",
                                                               "content-language",
                                                               "content-length",
                                                               "content-location",
                                                               "content-md5",
                                                               "content-range",
                                                               "content-type",
                                                               "date",
                                                               "etag",
                                                               "expect",
                                                               "expires",
                                                               "from",
                                                               "host",
                                                               "if-match",
                                                               "if-modified-since",
                                                               "if-none-match",
                                                               "if-range",
                                                               "if-unmodified-since",
                                                               "last-modified",
                                                               "location",
                                                               "max-forwards",
                                                               "pragma",
                                                               "proxy-authenticate",
                                                               "proxy-authorization",
                                                               "range",
                                                               "referer",
                                                               "retry-after",
                                                               "server",
                                                               "te",
                                                               "trailer",
                                                               "transfer-encoding",
                                                               "upgrade",
                                                               "user-agent",
                                                               "vary",
                                                               "via",
                                                               "warning",
                                                               "www-authenticate",
                                                               "method",
                                                               "get",
                                                               "status",
                                                               "200 OK",
                                                               "version",
                                                               "HTTP/1.1",
                                                               "url",
                                                               "public",
                                                               "set-cookie",
                                                               "keep-alive",
                                                               "origin"};

constexpr std::string_view kDictionaryTail =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, "
    "Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,"
    "application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,"
    "sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

void AppendU32(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value >> 24));
  out.push_back(static_cast<char>(value >> 16));
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value));
}

std::string BuildDictionary() {
  std::string dict;
  for (std::string_view word : kDictionaryWords) {
    if (word.empty()) continue;  // the array has spare slots
    AppendU32(dict, static_cast<uint32_t>(word.size()));
    dict += word;
  }
  dict += kDictionaryTail;
  return dict;
}

Error Malformed(std::string_view what) {
  return InvalidArgument("malformed SPDY header block: " + std::string(what));
}

const Bytef* DictionaryBytes() {
  return reinterpret_cast<const Bytef*>(HeaderDictionary().data());
}

}  // namespace

std::string_view HeaderDictionary() {
  static const std::string dictionary = BuildDictionary();
  return dictionary;
}

std::string EncodeHeaderBlock(const HeaderList& headers) {
  std::string out;
  AppendU32(out, static_cast<uint32_t>(headers.size()));
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    AppendU32(out, static_cast<uint32_t>(lower.size()));
    out += lower;
    AppendU32(out, static_cast<uint32_t>(value.size()));
    out += value;
  }
  return out;
}

Result<HeaderList> DecodeHeaderBlock(std::string_view raw) {
  if (raw.size() > kMaxHeaderBlockSize) return Malformed("block larger than 64 KiB");
  size_t pos = 0;
  auto read_u32 = [&](uint32_t& value) -> bool {
    if (raw.size() - pos < 4) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(raw[pos + i]);
    pos += 4;
    return true;
  };
  auto read_string = [&](std::string& out) -> bool {
    uint32_t length = 0;
    if (!read_u32(length) || raw.size() - pos < length) return false;
    out.assign(raw.substr(pos, length));
    pos += length;
    return true;
  };
  uint32_t count = 0;
  if (!read_u32(count)) return Malformed("no pair count");
  if (count > kMaxHeaderCount) return Malformed(std::to_string(count) + " pairs");
  HeaderList headers;
  std::set<std::string> seen;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name, value;
    if (!read_string(name) || !read_string(value)) return Malformed("truncated pair");
    if (name.empty()) return Malformed("empty header name");
    for (unsigned char c : name) {
      if (std::isupper(c) || c == 0)
        return Malformed("header name \"" + name + "\" is not lowercase");
    }
    if (!seen.insert(name).second) return Malformed("duplicate header \"" + name + "\"");
    headers.emplace_back(std::move(name), std::move(value));
  }
  if (pos != raw.size()) return Malformed("trailing bytes after the last pair");
  return headers;
}

std::string FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](unsigned char a, unsigned char b) {
          return std::tolower(a) == std::tolower(b);
        })) {
      return value.substr(0, value.find('\0'));
    }
  }
  return {};
}

struct HeaderCompressor::State {
  z_stream zs{};
  bool ok = false;
};

HeaderCompressor::HeaderCompressor() : state_(std::make_unique<State>()) {
  if (deflateInit(&state_->zs, Z_BEST_COMPRESSION) != Z_OK) return;
  std::string_view dict = HeaderDictionary();
  state_->ok =
      deflateSetDictionary(&state_->zs, DictionaryBytes(), static_cast<uInt>(dict.size())) == Z_OK;
}

HeaderCompressor::~HeaderCompressor() {
  deflateEnd(&state_->zs);
}

Result<std::string> HeaderCompressor::Compress(const HeaderList& headers) {
  if (!state_->ok) return Internal("SPDY header compressor failed to initialise");
  std::string raw = EncodeHeaderBlock(headers);
  std::string out;
  z_stream& zs = state_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  std::array<Bytef, 4096> chunk;
  do {
    zs.next_out = chunk.data();
    zs.avail_out = chunk.size();
    int rc = deflate(&zs, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      state_->ok = false;
      return Internal("compress SPDY header block: zlib error " + std::to_string(rc));
    }
    out.append(reinterpret_cast<const char*>(chunk.data()), chunk.size() - zs.avail_out);
  } while (zs.avail_out == 0);
  return out;
}

struct HeaderDecompressor::State {
  z_stream zs{};
  bool ok = false;
};

HeaderDecompressor::HeaderDecompressor() : state_(std::make_unique<State>()) {
  state_->ok = inflateInit(&state_->zs) == Z_OK;
}

HeaderDecompressor::~HeaderDecompressor() {
  inflateEnd(&state_->zs);
}

Result<HeaderList> HeaderDecompressor::Decompress(std::string_view block) {
  if (!state_->ok)
    return FailedPrecondition("SPDY header decompressor is unusable after an earlier error");
  z_stream& zs = state_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  zs.avail_in = static_cast<uInt>(block.size());
  std::string raw;
  std::array<Bytef, 4096> chunk;
  while (true) {
    zs.next_out = chunk.data();
    zs.avail_out = chunk.size();
    int rc = inflate(&zs, Z_SYNC_FLUSH);
    if (rc == Z_NEED_DICT) {
      std::string_view dict = HeaderDictionary();
      if (inflateSetDictionary(&zs, DictionaryBytes(), static_cast<uInt>(dict.size())) != Z_OK) {
        state_->ok = false;
        return Malformed("zlib stream asks for a dictionary other than SPDY/3's");
      }
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      state_->ok = false;
      return Malformed("zlib error " + std::to_string(rc));
    }
    raw.append(reinterpret_cast<const char*>(chunk.data()), chunk.size() - zs.avail_out);
    if (raw.size() > kMaxHeaderBlockSize) {
      state_->ok = false;
      return Malformed("decompressed block larger than 64 KiB");
    }
    if (zs.avail_in == 0 && zs.avail_out != 0) break;
    if (rc == Z_BUF_ERROR) break;  // no progress possible
  }
  if (zs.avail_in != 0) {
    state_->ok = false;
    return Malformed("compressed block not consumed");
  }
  return DecodeHeaderBlock(raw);
}

}  // namespace berth::streaming::spdy
