#include "common/status.h"

namespace mr {

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
