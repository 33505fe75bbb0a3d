#include "common/gzip.h"

#include <fmt/format.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace mr {

bool IsGzipPath(std::string_view path) { return path.ends_with(".gz"); }

Result<std::string> ReadGzipFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return Status::FromErrno(errno, fmt::format("cannot open {}", path));
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return Status::IoError("zlib: cannot initialize");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, inflateEnd);
  std::vector<unsigned char> in(1 << 18);
  std::string out;
  char buf[1 << 16];
  bool member_done = true, any = false;
  for (;;) {
    if (z.avail_in == 0) {
      size_t n = std::fread(in.data(), 1, in.size(), f.get());
      if (n == 0) {
        if (std::ferror(f.get())) return Status::FromErrno(errno, fmt::format("cannot read {}", path));
        break;
      }
      z.next_in = in.data();
      z.avail_in = static_cast<uInt>(n);
    }
    if (member_done) {
      member_done = false;
      any = true;
    }
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc == Z_STREAM_END) {
      member_done = true;
      inflateReset(&z);  // another member may follow
    } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && z.avail_in == 0)) {
      return Status::IoError(fmt::format("{} is not valid gzip data ({})", path, z.msg ? z.msg : "corrupt"));
    }
  }
  if (!member_done) return Status::IoError(fmt::format("{} is truncated (the gzip stream does not end)", path));
  if (!any) return std::string();
  return out;
}

}  // namespace mr
