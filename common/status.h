// Status and Result<T>: errors as values across module boundaries (LevelDB style).
// OK costs nothing; an error carries a code and a one-line message meant for a user.
// Thread-safety: values; copy freely.
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>

namespace mr {

// The errnos of a process or machine out of something another worker may have: descriptors,
// memory, processes, buffers, disk space, quota, file size. A task failing with one is retried on
// another worker first (DESIGN §5).
inline constexpr int kExhaustionErrnos[] = {EMFILE, ENFILE, ENOMEM, EAGAIN, ENOBUFS, ENOSPC, EDQUOT, EFBIG};

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kAlreadyExists, kIoError, kUnavailable,
                    kProtocol, kCorruption, kAborted, kInternal, kPermissionDenied, kResourceExhausted };

  Status() = default;
  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return Status(Code::kInvalidArgument, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
  static Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
  static Status IoError(std::string m) { return Status(Code::kIoError, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
  static Status Protocol(std::string m) { return Status(Code::kProtocol, std::move(m)); }
  static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
  static Status Aborted(std::string m) { return Status(Code::kAborted, std::move(m)); }
  static Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
  // The credential does not allow it (another user's job, a role a user token cannot take).
  static Status PermissionDenied(std::string m) { return Status(Code::kPermissionDenied, std::move(m)); }
  // Out of descriptors, memory, processes or disk space: worth retrying elsewhere or later.
  static Status ResourceExhausted(std::string m) { return Status(Code::kResourceExhausted, std::move(m)); }

  // A failed system call: "what: strerror(err)". An errno of kExhaustionErrnos is
  // kResourceExhausted, anything else `otherwise`: the one place where an errno becomes a code, so
  // no caller matches message text.
  static Status FromErrno(int err, std::string_view what, Code otherwise = Code::kIoError);
  static Status FromErrorCode(const std::error_code& ec, std::string_view what, Code otherwise = Code::kIoError);
  // For a library that reports a failed system call as text only (RocksDB puts strerror's words
  // in its message): kResourceExhausted when `message` holds the strerror of a kExhaustionErrnos,
  // else `otherwise`. Only at such a library's boundary.
  static Status FromErrorText(std::string message, Code otherwise = Code::kIoError);
  // The same code with another message (context added to an error passed on).
  Status WithMessage(std::string m) const { return Status(code_, std::move(m)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T>: a T or an error Status. REQUIRES: value() only when ok().
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace mr

#define MR_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::mr::Status _st = (expr);          \
    if (!_st.ok()) return _st;          \
  } while (0)
