#include "common/address.h"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>

#include "common/units.h"

namespace mr {
namespace {

std::string_view Unbracket(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  host = Unbracket(host);
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return false;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) return addr.to_v6().to_v4().is_loopback();
  return addr.is_loopback();
}

bool IsWildcardHost(std::string_view host) {
  host = Unbracket(host);
  if (host.empty()) return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && addr.is_unspecified();
}

Status CheckBindAllowed(const std::string& host, bool loopback_only, const std::string& what) {
  if (!loopback_only || IsLoopbackHost(host)) return Status::OK();
  return Status::InvalidArgument(fmt::format(
      "{} {} is not a loopback address, and there is no cluster token: without one, mr serves only "
      "this machine's user who started it. Give every process the same token (--token-file FILE, mode "
      "600, or MR_TOKEN), or listen on 127.0.0.1",
      what, host));
}

Status CheckAdvertisedAddress(const std::string& address, const std::string& peer_host, const std::string& what,
                              const std::string& fix) {
  auto hp = ParseHostPort(address);
  if (!hp.ok()) return Status::InvalidArgument(fmt::format("{} {:?} is not HOST:PORT", what, address));
  if (IsWildcardHost(hp->host)) {
    return Status::InvalidArgument(fmt::format(
        "{} {} is a wildcard address, which other hosts cannot connect to: {}", what, address, fix));
  }
  if (IsLoopbackHost(hp->host) && !IsLoopbackHost(peer_host)) {
    return Status::InvalidArgument(fmt::format(
        "{} {} is a loopback address, but the peer connects from {}: other hosts cannot reach it; {}", what,
        address, peer_host, fix));
  }
  return Status::OK();
}

std::string DisplayHost(const std::string& bound_host) {
  if (!IsWildcardHost(bound_host)) return bound_host;
  std::string_view h = Unbracket(bound_host);
  return h.find(':') != std::string_view::npos ? "::1" : "127.0.0.1";
}

}  // namespace mr
