// mr_test_relay: a host on the path, for the multihost security test. It accepts TCP connections on
// --listen, connects each to --target and forwards both ways, appending every byte it carries to
// --record. Into the first --inject connections that live long enough, 200 ms after the target
// first answered (the connection is established and authenticated by then), it writes the bytes of
// --payload into the stream towards the side that connected, as an attacker on the path would; it
// says so on stdout. Runs until killed. Test tool only.
//   mr_test_relay --listen HOST:PORT --target HOST:PORT --record FILE [--inject N --payload FILE]
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

struct Options {
  std::string listen, target, record, payload;
  int inject = 0;
};

std::mutex g_mu;
std::atomic<int> g_connections{0};
std::atomic<int> g_injections{0};

bool Split(const std::string& address, std::string* host, std::string* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  return true;
}

int Connect(const std::string& address) {
  std::string host, port;
  if (!Split(address, &host, &port)) return -1;
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

int Listen(const std::string& address) {
  std::string host, port;
  if (!Split(address, &host, &port)) return -1;
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

void Record(const Options& o, const char* data, size_t n) {
  std::lock_guard<std::mutex> l(g_mu);
  std::ofstream(o.record, std::ios::app | std::ios::binary).write(data, static_cast<std::streamsize>(n));
}

void Relay(const Options& o, const std::string& payload, int client, int index) {
  int server = Connect(o.target);
  if (server < 0) {
    ::close(client);
    return;
  }
  using Clock = std::chrono::steady_clock;
  Clock::time_point answered{};
  bool injected = false, decided = false;
  while (true) {
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(p, 2, 50) < 0) break;
    if (!decided && answered != Clock::time_point{} && Clock::now() - answered >= std::chrono::milliseconds(200)) {
      decided = true;
      injected = g_injections++ < o.inject;
      if (injected) {
        ::send(client, payload.data(), payload.size(), MSG_NOSIGNAL);
        std::printf("injected %zu bytes into connection %d\n", payload.size(), index);
        std::fflush(stdout);
      }
    }
    bool open = true;
    for (int i = 0; i < 2 && open; i++) {
      if (!p[i].revents) continue;
      char buf[65536];
      ssize_t n = ::recv(p[i].fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        open = false;
        if (injected) {
          std::printf("connection %d closed by the %s after the injection\n", index, i == 0 ? "client" : "target");
          std::fflush(stdout);
        }
        break;
      }
      Record(o, buf, static_cast<size_t>(n));
      if (i == 1 && answered == Clock::time_point{}) answered = Clock::now();
      ::send(i == 0 ? server : client, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    }
    if (!open) break;
  }
  ::close(client);
  ::close(server);
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--listen") o.listen = v;
    else if (a == "--target") o.target = v;
    else if (a == "--record") o.record = v;
    else if (a == "--payload") o.payload = v;
    else if (a == "--inject") o.inject = std::stoi(v);
  }
  std::string payload;
  if (!o.payload.empty()) {
    std::ifstream in(o.payload, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    payload = ss.str();
  }
  int fd = Listen(o.listen);
  if (fd < 0 || o.target.empty() || o.record.empty()) {
    std::fprintf(stderr, "usage: mr_test_relay --listen HOST:PORT --target HOST:PORT --record FILE "
                         "[--inject N --payload FILE]\n");
    return 2;
  }
  std::printf("relaying %s -> %s\n", o.listen.c_str(), o.target.c_str());
  std::fflush(stdout);
  while (true) {
    int client = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int index = g_connections++;
    std::thread([o, payload, client, index] { Relay(o, payload, client, index); }).detach();
  }
}
