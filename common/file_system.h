// FileSystem: the few filesystem operations the output commit protocol needs, behind an interface
// (LevelDB's Env), so the master's decisions are tested against an in-memory filesystem and real
// runs use the real one. Paths are absolute.
// Thread-safety: Default() is thread-safe; InMemoryFileSystem is not (tests drive it from one
// thread).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mr {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual bool Exists(const std::string& path) = 0;
  // Creates the directory and its missing parents.
  virtual Status CreateDirs(const std::string& path) = 0;
  // Renames a file or directory; the target's directory must exist.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes a file, or a directory with everything in it; a missing path is fine.
  virtual Status RemoveAll(const std::string& path) = 0;
  // Writes a file (replacing it), synced to disk before returning; its directory must exist.
  virtual Status WriteFile(const std::string& path, std::string_view content) = 0;
  // Everything under a directory, at any depth, as paths relative to it; directories end in '/'.
  // Symbolic links are listed, not followed. Sorted.
  virtual Result<std::vector<std::string>> List(const std::string& dir) = 0;

  // The real filesystem (std::filesystem and POSIX); never deleted.
  static FileSystem* Default();
};

// For tests: files and directories in memory, with the same rules as the real one for what the
// commit protocol does (a rename or write needs its directory; a missing source is an error).
class InMemoryFileSystem : public FileSystem {
 public:
  bool Exists(const std::string& path) override;
  Status CreateDirs(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveAll(const std::string& path) override;
  Status WriteFile(const std::string& path, std::string_view content) override;
  Result<std::vector<std::string>> List(const std::string& dir) override;

  const std::map<std::string, std::string>& files() const { return files_; }
  // Paths directly or indirectly under `dir` (files and directories), sorted.
  std::set<std::string> ListUnder(const std::string& dir) const;

 private:
  bool DirExists(const std::string& path) const;
  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_{"/"};
};

}  // namespace mr
