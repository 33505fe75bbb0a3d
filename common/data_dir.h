// A process's data directory (DESIGN §5): created if missing, locked (flock on DIR/LOCK) for as long
// as the process holds the DataDir, so a second master or worker on the same directory is refused
// instead of destroying the first one's state; and for workers, a stable identity kept in
// DIR/IDENTITY (an id made once, and an incarnation counted up at every start).
// Thread-safety: not thread-safe; one per process, opened at start.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace mr {

class DataDir {
 public:
  // Creates and locks `path`. Unavailable, naming the holder's pid, when another process holds it.
  static Result<std::unique_ptr<DataDir>> Lock(const std::string& path);
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }

  struct Identity {
    std::string id;            // random, made the first time
    uint64_t incarnation = 0;  // 1 at the first start, then one more at every start
    std::string name;          // the name a master last gave it (RememberName); empty at first
  };
  // Reads DIR/IDENTITY (making it the first time), counts the incarnation up and writes it back
  // (atomically, synced) before returning.
  Result<Identity> NextIncarnation();
  // Records in DIR/IDENTITY the name a master gave this identity (atomically, synced), for the next
  // NextIncarnation to return. A name holding a line break is not recorded.
  Status RememberName(const std::string& name);

 private:
  DataDir(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Write(const Identity& id);
  std::string path_;
  Identity identity_;  // as last read or written
  int fd_ = -1;
};

}  // namespace mr
