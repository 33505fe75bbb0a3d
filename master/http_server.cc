#include "master/http_server.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>
#include <optional>
#include <nlohmann/json.hpp>

#include "common/acceptor.h"
#include "common/address.h"
#include "common/log.h"

namespace mr {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

// The host part of a Host header value ("127.0.0.1:7071" -> "127.0.0.1", "[::1]:80" -> "[::1]").
std::string_view HostOfHeader(std::string_view v) {
  if (v.starts_with('[')) {
    size_t end = v.find(']');
    return end == std::string_view::npos ? v : v.substr(0, end + 1);
  }
  size_t colon = v.rfind(':');
  if (colon != std::string_view::npos && v.find(':') == colon) return v.substr(0, colon);
  return v;
}

bool IsParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Writes one response; false when the connection must end.
asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, HttpResponse r, bool head, bool keep_alive,
                                    unsigned version, const std::string& peer, std::chrono::milliseconds timeout) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "mr");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  for (auto& [k, v] : r.headers) res.set(k, v);
  res.keep_alive(keep_alive);
  size_t length = r.body.size();
  error_code ec;
  stream.expires_after(timeout);
  if (head) {
    http::response<http::empty_body> h{res.base()};
    h.content_length(length);
    co_await http::async_write(stream, h, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) spdlog::info("http: {}: cannot send the response: {}", peer, ec.message());
  co_return !ec && keep_alive;
}

}  // namespace

HttpResponse JsonError(unsigned status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

HttpServer::HttpServer(tcp::acceptor acceptor, Handler handler, HttpServerOptions options)
    : acceptor_(std::move(acceptor)), handler_(std::move(handler)), options_(options) {
  auto ep = acceptor_.local_endpoint();
  host_ = ep.address().to_string();
  port_ = ep.port();
  loopback_ = ep.address().is_loopback();
}

Result<std::shared_ptr<HttpServer>> HttpServer::Start(asio::io_context& io, const HostPort& addr, Handler handler,
                                                      HttpServerOptions options) {
  auto acceptor = Listen(io, addr);
  if (!acceptor.ok()) return acceptor.status();
  auto server = std::shared_ptr<HttpServer>(new HttpServer(std::move(*acceptor), std::move(handler), options));
  asio::co_spawn(io, AcceptLoop(server->acceptor_, [server](tcp::socket s) { server->Accept(std::move(s)); }),
                 asio::detached);
  return server;
}

void HttpServer::Stop() {
  error_code ec;
  acceptor_.close(ec);
}

void HttpServer::Accept(tcp::socket socket) {
  if (connections_ >= options_.max_connections) {
    spdlog::warn("http: {} connections open; refusing one more", connections_);
    error_code ec;
    socket.close(ec);
    return;
  }
  asio::co_spawn(acceptor_.get_executor(),
                 [self = shared_from_this(), s = std::move(socket)]() mutable { return self->Serve(std::move(s)); },
                 asio::detached);
}

HttpResponse HttpServer::Dispatch(const HttpRequest& req, const std::string& host_header) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = JsonError(405, "method " + req.method + " not allowed: this server is read-only");
    r.headers["Allow"] = "GET, HEAD";
    return r;
  }
  if (req.path.empty() || req.path[0] != '/') return JsonError(400, "bad request target");
  if (loopback_ && !host_header.empty() && !IsLoopbackHost(HostOfHeader(host_header))) {
    return JsonError(403, fmt::format("Host '{}' refused: this server is bound to loopback "
                                      "(bind --http to another address to serve other names)",
                                      host_header));
  }
  try {
    return handler_(req);
  } catch (const std::exception& e) {
    spdlog::error("http: {} {}: {}", req.method, req.path, e.what());
    return JsonError(500, "internal error");
  }
}

// GCC 12 warns, wrongly, that the coroutine frame of Serve (with Beast's async_read) is freed by a
// mismatched operator delete: Asio's awaitable frames pair their own operator new and delete.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
asio::awaitable<void> HttpServer::Serve(tcp::socket socket) {
  auto self = shared_from_this();
  connections_++;

  error_code ec;
  std::string peer;
  {
    auto ep = socket.remote_endpoint(ec);
    peer = ec ? "?" : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(options_.max_header_bytes + options_.max_body_bytes + 1024);
  std::optional<HttpResponse> bad_request;  // answered once the connection is to be closed

  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);
    stream.expires_after(options_.idle_timeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      unsigned status = 0;
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) status = 431;
      else if (ec == http::error::body_limit) status = 413;
      else if (IsParseError(ec)) status = 400;
      if (status != 0) {
        spdlog::warn("http: bad request from {}: {}; closing the connection", peer, ec.message());
        bad_request = JsonError(status, "bad request: " + ec.message());
      } else if (ec != http::error::end_of_stream && ec != beast::error::timeout) {
        spdlog::debug("http: {}: {}", peer, ec.message());
      }
      break;
    }
    http::request<http::string_body>& req = parser.get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    r.peer = peer;
    HttpResponse res = Dispatch(r, std::string(req[http::field::host]));
    spdlog::debug("http: {} {} {} -> {}", peer, r.method, target, res.status);
    bool keep = req.keep_alive() && (res.status < 400 || res.status == 404);
    bool ok = co_await WriteResponse(stream, std::move(res), r.method == "HEAD", keep, req.version(), peer,
                                    options_.write_timeout);
    if (!ok) break;
  }
  if (bad_request) co_await WriteResponse(stream, std::move(*bad_request), false, false, 11, peer, options_.write_timeout);
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  connections_--;
}

#pragma GCC diagnostic pop

}  // namespace mr
