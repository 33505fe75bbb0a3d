#include "common/raw_socket_testing.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>

#include <fstream>

#include "common/frame.h"
#include "common/handshake.h"

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

void RawHandshake(int fd, proto::Role role, const std::string& token) {
  ClientHandshake hs(token, role);
  SendAll(fd, EncodeFrame(hs.Hello()));
  auto challenge = ReadFrame(fd);
  ASSERT_TRUE(challenge.ok()) << challenge.status().ToString();
  auto response = hs.OnChallenge(*challenge);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  SendAll(fd, EncodeFrame(*response));
  auto reply = ReadFrame(fd);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_TRUE(hs.OnReply(*reply).ok());
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
