#include "common/status.h"

#include <cerrno>
#include <cstring>

namespace mr {

Status Status::FromErrno(int err, std::string_view what, Code otherwise) {
  bool exhausted = false;
  for (int e : kExhaustionErrnos) exhausted = exhausted || e == err;
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return Status(exhausted ? Code::kResourceExhausted : otherwise, std::move(m));
}

Status Status::FromErrorCode(const std::error_code& ec, std::string_view what, Code otherwise) {
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    return FromErrno(ec.value(), what, otherwise);
  }
  return Status(otherwise, std::string(what) + ": " + ec.message());
}

Status Status::FromErrorText(std::string message, Code otherwise) {
  for (int err : kExhaustionErrnos) {
    if (message.find(std::strerror(err)) != std::string::npos) return ResourceExhausted(std::move(message));
  }
  return Status(otherwise, std::move(message));
}

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidArgument: name = "invalid argument"; break;
    case Code::kNotFound: name = "not found"; break;
    case Code::kAlreadyExists: name = "already exists"; break;
    case Code::kIoError: name = "I/O error"; break;
    case Code::kUnavailable: name = "unavailable"; break;
    case Code::kProtocol: name = "protocol error"; break;
    case Code::kCorruption: name = "corruption"; break;
    case Code::kAborted: name = "aborted"; break;
    case Code::kInternal: name = "internal error"; break;
    case Code::kPermissionDenied: name = "permission denied"; break;
    case Code::kResourceExhausted: name = "resource exhausted"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace mr
