#include "worker/task_wire.h"

#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <string>

#include "common/record.h"

namespace mr {
namespace {

Status WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::FromErrno(errno, "task process pipe");
    p += w;
    n -= static_cast<size_t>(w);
  }
  return Status::OK();
}

// Reads exactly n bytes; *got says how many arrived before the end of the stream.
Status ReadAll(int fd, char* p, size_t n, size_t* got) {
  *got = 0;
  while (*got < n) {
    ssize_t r = ::read(fd, p + *got, n - *got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::FromErrno(errno, "task process pipe");
    if (r == 0) return Status::Unavailable("the task process pipe closed inside a message");
    *got += static_cast<size_t>(r);
  }
  return Status::OK();
}

}  // namespace

Status WriteTaskMessage(int fd, const google::protobuf::MessageLite& message) {
  std::string frame;
  PutFixed32BE(&frame, static_cast<uint32_t>(message.ByteSizeLong()));
  if (!message.AppendToString(&frame)) return Status::Internal("cannot serialize a task process message");
  return WriteAll(fd, frame.data(), frame.size());
}

Status ReadTaskMessage(int fd, google::protobuf::MessageLite* message) {
  char header[4];
  size_t got = 0;
  Status s = ReadAll(fd, header, 4, &got);
  if (!s.ok()) return got == 0 && s.code() == Status::Code::kUnavailable ? Status::NotFound("end of stream") : s;
  uint32_t size = GetFixed32BE(header);
  if (size > kMaxTaskMessageBytes) return Status::Protocol(fmt::format("a task process message of {} bytes", size));
  std::string body(size, '\0');
  MR_RETURN_IF_ERROR(ReadAll(fd, body.data(), size, &got));
  if (!message->ParseFromString(body)) return Status::Protocol("an unreadable task process message");
  return Status::OK();
}

}  // namespace mr
