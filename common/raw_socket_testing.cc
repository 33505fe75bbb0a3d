#include "common/raw_socket_testing.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>

#include <fstream>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/credentials.h"
#include "common/frame.h"
#include "common/handshake.h"
#include "common/tls.h"

namespace mr {
namespace {

void SetRecvTimeout(int fd, std::chrono::milliseconds timeout) {
  if (fd < 0 || timeout.count() == 0) return;
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

}  // namespace

int RawConnect(uint16_t port, std::chrono::milliseconds recv_timeout) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  SetRecvTimeout(fd, recv_timeout);
  return fd;
}

int RawConnect(const std::string& address, std::chrono::milliseconds recv_timeout) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM, 0);
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  SetRecvTimeout(fd, recv_timeout);
  return fd;
}

bool SendBytes(int fd, std::string_view bytes) {
  for (size_t off = 0; off < bytes.size();) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

void SendAll(int fd, std::string_view bytes) { ASSERT_TRUE(SendBytes(fd, bytes)) << "cannot send " << bytes.size() << " bytes"; }

Result<proto::Envelope> ReadFrame(int fd) {
  std::string buf;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (buf.size() >= kFrameHeaderSize && buf.size() >= kFrameHeaderSize + DecodeFrameLength(buf.data())) {
      return DecodeFrameBody(buf.substr(kFrameHeaderSize, DecodeFrameLength(buf.data())));
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char tmp[4096];
    ssize_t n = ::read(fd, tmp, sizeof(tmp));
    if (n <= 0) return Status::Unavailable("closed");
    buf.append(tmp, n);
  }
  return Status::Unavailable("timeout");
}

bool ClosedByPeer(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (::read(fd, buf, sizeof(buf)) <= 0) return true;
  }
  return false;
}

std::string ReadToEnd(int fd, bool* closed) {
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (closed) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
    out.append(buf, n);
  }
}

RawTls::RawTls(int fd, const std::string& token) : fd_(fd) {
  ::signal(SIGPIPE, SIG_IGN);  // OpenSSL writes with write(2): a closed peer must not kill the test
  int one = 1;                 // small writes in a row (Finished, then a frame) go out at once
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::string text = token;
  if (text.empty()) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      uint16_t port = addr.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                                                : ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
      if (auto local = FindLocalToken(port)) text = TokenText(*local);
    }
  }
  TlsOptions o;
  auto t = Token::Parse(text);
  if (t.ok()) o.token = *t;
  auto tls = TlsContext::Make(std::move(o));
  if (!tls.ok()) {
    error_ = tls.status().message();
    return;
  }
  context_ = *tls;
  SSL* ssl = SSL_new((*tls)->client().native_handle());
  ssl_ = ssl;
  SSL_set_fd(ssl, fd_);
  ERR_clear_error();
  if (SSL_connect(ssl) != 1) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
    error_ = buf;
    return;
  }
  Status st = (*tls)->CheckServer(ssl);
  ok_ = st.ok();
  if (!ok_) error_ = st.message();
}

RawTls::~RawTls() {
  if (ssl_) SSL_free(static_cast<SSL*>(ssl_));
  if (fd_ >= 0) ::close(fd_);
}

bool RawTls::Send(std::string_view bytes) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  if (!ok_) return false;
  for (size_t off = 0; off < bytes.size();) {
    int n = SSL_write(ssl, bytes.data() + off, static_cast<int>(bytes.size() - off));
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

int RawTls::ReadSome(std::string* out, std::chrono::milliseconds timeout) {
  SSL* ssl = static_cast<SSL*>(ssl_);
  if (SSL_pending(ssl) == 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  }
  char buf[16384];
  ERR_clear_error();
  int n = SSL_read(ssl, buf, sizeof(buf));
  if (n > 0) {
    out->append(buf, static_cast<size_t>(n));
    return n;
  }
  int err = SSL_get_error(ssl, n);
  if (err == SSL_ERROR_WANT_READ) return -1;
  if (err == SSL_ERROR_SSL) {
    char reason[256];
    ERR_error_string_n(ERR_peek_error(), reason, sizeof(reason));
    error_ = reason;
  }
  return 0;
}

Result<proto::Envelope> RawTls::ReadFrame() {
  if (!ok_) return Status::Unavailable("closed");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pending_.size() >= kFrameHeaderSize && pending_.size() >= kFrameHeaderSize + DecodeFrameLength(pending_.data())) {
      size_t len = DecodeFrameLength(pending_.data());
      auto msg = DecodeFrameBody(pending_.substr(kFrameHeaderSize, len));
      pending_.erase(0, kFrameHeaderSize + len);
      return msg;
    }
    int n = ReadSome(&pending_, std::chrono::milliseconds(100));
    if (n == 0) return Status::Unavailable("closed");
  }
  return Status::Unavailable("timeout");
}

bool RawTls::ClosedByPeer(std::chrono::milliseconds timeout, std::string* why) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string ignored;
    if (ReadSome(&ignored, std::chrono::milliseconds(50)) == 0) {
      if (why) *why = error_;
      return true;
    }
  }
  return false;
}

std::unique_ptr<RawTls> RawHandshake(int fd, proto::Role role, const std::string& token) {
  auto c = std::make_unique<RawTls>(fd, token);
  EXPECT_TRUE(c->ok()) << c->error();
  if (!c->ok()) return c;
  EXPECT_TRUE(c->Send(EncodeFrame(MakeHello(role))));
  auto reply = c->ReadFrame();
  EXPECT_TRUE(reply.ok()) << reply.status().ToString();
  if (reply.ok()) {
    Status st = CheckHelloReply(*reply);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  return c;
}

uint64_t ResidentBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmRSS:  1234 kB"
  }
  return 0;
}

}  // namespace mr
