// RaiseFdLimit in a child process (the test's own limit stays as it was): the soft limit goes up
// to the hard one and the start-up line says from where.
#include "common/fd_limit.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace mr {
namespace {

TEST(FdLimitTest, SoftLimitIsRaisedToTheHardLimit) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit rl{64, 128};
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) ::_exit(10);
    FdLimit got = RaiseFdLimit();
    if (got.before != 64 || got.soft != 128 || got.hard != 128) ::_exit(11);
    if (SoftFdLimit() != 128) ::_exit(12);
    if (FdLimitText() != "open files: limit 128 (raised from 64; hard limit 128)") ::_exit(13);
    FdLimit again = RaiseFdLimit();  // already at the hard limit: nothing to do
    if (again.before != 128 || again.soft != 128) ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's check " << WEXITSTATUS(status) << " failed";
}

}  // namespace
}  // namespace mr
