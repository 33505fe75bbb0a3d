// TempDir: the one temporary directory type of every test, unit and integration alike. Made with
// mkdtemp under $TMPDIR (else /tmp) as mr-test-XXXXXX, so tests running side by side never share
// one; removed with everything in it when the TempDir goes, also when the test failed (set
// MR_KEEP_TEST_DIRS=1 to keep them for a look at the logs).
// Not thread-safe; one owner.
#pragma once

#include <string>

namespace mr {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace mr
