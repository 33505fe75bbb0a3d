#include "common/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

namespace mr {
namespace {

// Running out of descriptors, memory, processes or disk is a code, told apart where the errno is known.
TEST(StatusTest, AnErrnoBecomesACode) {
  for (int err : {EMFILE, ENFILE, ENOMEM, EAGAIN, ENOBUFS, ENOSPC, EDQUOT, EFBIG}) {
    Status s = Status::FromErrno(err, "cannot open /d/x");
    EXPECT_EQ(s.code(), Status::Code::kResourceExhausted) << err;
    EXPECT_EQ(s.message(), std::string("cannot open /d/x: ") + std::strerror(err));
  }
  EXPECT_EQ(Status::FromErrno(ENOENT, "cannot open /in/a.txt").code(), Status::Code::kIoError);
  EXPECT_EQ(Status::FromErrno(ECONNREFUSED, "cannot connect", Status::Code::kUnavailable).code(),
            Status::Code::kUnavailable);
  EXPECT_EQ(Status::FromErrno(EMFILE, "cannot connect", Status::Code::kUnavailable).code(),
            Status::Code::kResourceExhausted);
  // std::error_code of the system or generic category carries an errno too.
  EXPECT_EQ(Status::FromErrorCode(std::make_error_code(std::errc::too_many_files_open), "cannot list /d").code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(Status::FromErrorCode(std::error_code(ENOSPC, std::system_category()), "cannot write /d/f").code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(Status::FromErrorCode(std::error_code(EIO, std::system_category()), "cannot write /d/f").code(),
            Status::Code::kIoError);
  // A library that reports a system call's failure as text (RocksDB): the text is read once, here.
  EXPECT_EQ(Status::FromErrorText(std::string("IO error: While appending to file: /d/000009.log: ") +
                                  std::strerror(ENOSPC))
                .code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(Status::FromErrorText("Corruption: bad block").code(), Status::Code::kIoError);
  // WithMessage keeps the code.
  Status wrapped = Status::FromErrno(EMFILE, "x").WithMessage("cannot fetch: x");
  EXPECT_EQ(wrapped.code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(wrapped.message(), "cannot fetch: x");
}

}  // namespace
}  // namespace mr
