#include "common/job_files.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

#include "common/units.h"

namespace mr {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  hex.reserve(2 * sizeof(digest));
  for (unsigned char c : digest) hex += fmt::format("{:02x}", c);
  return hex;
}

Status CheckJobFileName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255 ||
      name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not a file name a task's working directory can hold", std::string(name.substr(0, 80))));
  }
  return Status::OK();
}

Result<proto::JobFile> ReadJobFile(const std::string& spec) {
  std::string path = spec, name;
  if (size_t hash = spec.rfind('#'); hash != std::string::npos) {
    path = spec.substr(0, hash);
    name = spec.substr(hash + 1);
  } else {
    name = std::filesystem::path(spec).filename().string();
  }
  if (Status s = CheckJobFileName(name); !s.ok()) return s.WithMessage(fmt::format("--files {}: {}", spec, s.message()));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::InvalidArgument(fmt::format("--files {}: {}", path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(fmt::format("--files {}: not a regular file", path));
  if (static_cast<uint64_t>(st.st_size) > kMaxJobFilesBytes) {
    return Status::InvalidArgument(fmt::format("--files {}: {} is more than the {} a job may ship", path,
                                               FormatBytes(static_cast<uint64_t>(st.st_size)), FormatBytes(kMaxJobFilesBytes)));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in && !in.eof()) return Status::IoError(fmt::format("--files {}: cannot read it", path));
  proto::JobFile f;
  f.set_name(name);
  f.set_content(bytes.str());
  f.set_size(f.content().size());
  f.set_sha256(Sha256Hex(f.content()));
  f.set_executable((st.st_mode & S_IXUSR) != 0);
  return f;
}

Status CheckFilesRoom(uint64_t kept, const proto::JobSpec& spec, uint64_t limit) {
  uint64_t bytes = 0;
  for (const proto::JobFile& f : spec.files()) bytes += f.size();
  for (const proto::JobSpec& step : spec.then()) {
    for (const proto::JobFile& f : step.files()) bytes += f.size();
  }
  if (bytes == 0 || kept + bytes <= limit) return Status::OK();
  return Status::ResourceExhausted(fmt::format(
      "the master keeps {} of files shipped with jobs that may still run, and {} more would pass its {}: "
      "submit again when some of those jobs have ended", FormatBytes(kept), FormatBytes(bytes), FormatBytes(limit)));
}

Status CheckJobFiles(const google::protobuf::RepeatedPtrField<proto::JobFile>& files, bool have_bytes) {
  if (files.size() > kMaxJobFiles) {
    return Status::InvalidArgument(fmt::format("{} files shipped with a job: at most {}", files.size(), kMaxJobFiles));
  }
  std::set<std::string> names;
  uint64_t total = 0;
  for (const proto::JobFile& f : files) {
    MR_RETURN_IF_ERROR(CheckJobFileName(f.name()));
    if (!names.insert(f.name()).second) {
      return Status::InvalidArgument(fmt::format("two files shipped with the job are named {}", f.name()));
    }
    total += f.size();
    if (total > kMaxJobFilesBytes) {
      return Status::InvalidArgument(fmt::format("the files shipped with the job are more than the {} a job may ship",
                                                 FormatBytes(kMaxJobFilesBytes)));
    }
    if (f.sha256().size() != 64 || f.sha256().find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::InvalidArgument(fmt::format("file {}: its digest is not a SHA-256", f.name()));
    }
    if (have_bytes && (f.content().size() != f.size() || Sha256Hex(f.content()) != f.sha256())) {
      return Status::InvalidArgument(fmt::format("file {}: its bytes do not match its size and digest", f.name()));
    }
  }
  return Status::OK();
}

}  // namespace mr
