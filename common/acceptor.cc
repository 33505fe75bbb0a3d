#include "common/acceptor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

#include "common/fd_limit.h"
#include "common/log.h"

namespace mr {

size_t ConnectionBudget(const char* env, size_t configured) {
  const char* v = std::getenv(env);
  if (v && *v) {
    char* end = nullptr;
    long long n = std::strtoll(v, &end, 10);
    if (end && *end == 0 && n > 0) configured = static_cast<size_t>(n);
  }
  return CapToFdBudget(configured);
}

size_t CapToFdBudget(size_t configured) {
  const uint64_t quarter = std::max<uint64_t>(SoftFdLimit() / 4, 16);
  return static_cast<size_t>(std::min<uint64_t>(quarter, configured));
}

std::chrono::milliseconds EnvMillis(const char* env, std::chrono::milliseconds def) {
  const char* v = std::getenv(env);
  if (!v || !*v) return def;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  return end && *end == 0 && n >= 0 ? std::chrono::milliseconds(n) : def;
}

Result<tcp::acceptor> Listen(asio::io_context& io, const HostPort& addr) {
  error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(addr.host, std::to_string(addr.port), ec);
  if (ec || results.empty()) {
    return Status::InvalidArgument(fmt::format("cannot resolve {}: {}", addr.host, ec.message()));
  }
  tcp::endpoint ep = *results.begin();
  tcp::acceptor acceptor(io);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable(fmt::format("cannot listen on {}: {}", addr.ToString(), ec.message()));
  }
  return acceptor;
}

AcceptOptions BudgetedAccept(tcp::acceptor& acceptor, size_t budget, std::function<size_t()> count,
                             std::function<bool(std::chrono::milliseconds, bool)> close_oldest,
                             std::chrono::milliseconds grace, std::chrono::milliseconds fd_grace) {
  AcceptOptions options;
  options.wait_for_room = [&acceptor, budget, count, close_oldest, grace]() -> asio::awaitable<void> {
    asio::steady_timer pause(acceptor.get_executor());
    while (acceptor.is_open() && count() >= budget && !close_oldest(grace, false)) {
      // Room comes when a connection ends, authenticates, or has waited `grace`.
      pause.expires_after(std::chrono::milliseconds(10));
      error_code ec;
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  };
  options.free_descriptor = [close_oldest, fd_grace] { return close_oldest(fd_grace, true); };
  return options;
}

asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> on_socket,
                                 AcceptOptions options) {
  std::chrono::steady_clock::time_point last_log{};
  uint64_t errors = 0;
  while (acceptor.is_open()) {
    if (options.wait_for_room) co_await options.wait_for_room();
    if (!acceptor.is_open()) co_return;
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      ++errors;
      const bool out_of_fds = ec.value() == EMFILE || ec.value() == ENFILE;
      if (out_of_fds && options.free_descriptor && options.free_descriptor()) continue;
      auto now = std::chrono::steady_clock::now();
      if (now - last_log >= std::chrono::seconds(1)) {
        last_log = now;
        error_code ignored;
        spdlog::warn("accepting on port {}: {}; retrying in {} ms ({} errors so far)",
                     acceptor.local_endpoint(ignored).port(), ec.message(), kAcceptBackoff.count(), errors);
      }
      asio::steady_timer t(acceptor.get_executor(), kAcceptBackoff);
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    on_socket(std::move(socket));
  }
}

}  // namespace mr
