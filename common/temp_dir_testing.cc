#include "common/temp_dir_testing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

namespace mr {

TempDir::TempDir() {
  const char* root = std::getenv("TMPDIR");
  std::string templ = std::string(root && *root ? root : "/tmp") + "/mr-test-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << templ << " failed";
  path_ = templ;
}

TempDir::~TempDir() {
  if (std::getenv("MR_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace mr
