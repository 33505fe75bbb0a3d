#include "master/http_server.h"

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <fmt/format.h>
#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>

#include "common/acceptor.h"
#include "common/address.h"
#include "common/credentials.h"
#include "common/log.h"

namespace mr {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

bool IsParseError(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Writes one response; false when the connection must end.
template <class Stream>
asio::awaitable<bool> WriteResponse(Stream& stream, HttpResponse r, bool head, bool keep_alive,
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
  beast::get_lowest_layer(stream).expires_after(timeout);
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

Result<std::shared_ptr<asio::ssl::context>> HttpsContext(const std::string& cert_file, const std::string& key_file) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1) {
    return Status::InvalidArgument(fmt::format("--http-cert {}: not a PEM certificate (chain)", cert_file));
  }
  auto key = ReadSecretFile(key_file, "--http-key");
  if (!key.ok()) return key.status();
  BIO* bio = BIO_new_mem_buf(key->data(), static_cast<int>(key->size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bool ok = pkey != nullptr && SSL_CTX_use_PrivateKey(c, pkey) == 1 && SSL_CTX_check_private_key(c) == 1;
  if (pkey) EVP_PKEY_free(pkey);
  if (!ok) return Status::InvalidArgument(fmt::format("--http-key {} is not the key of --http-cert {}", key_file, cert_file));
  return ctx;
}

HttpServerOptions HttpServerOptions::FromEnv() {
  HttpServerOptions o;
  o.max_connections = ConnectionBudget("MR_MAX_HTTP_CONNECTIONS", o.max_connections);
  o.header_timeout = EnvMillis("MR_HTTP_HEADER_TIMEOUT_MS", o.header_timeout);
  o.idle_timeout = EnvMillis("MR_HTTP_IDLE_TIMEOUT_MS", o.idle_timeout);
  return o;
}

// One open connection. `waiting` while it has no complete request to answer (idle or still
// sending): only such a connection may be closed to make room.
struct HttpServer::Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  bool waiting = true;
  std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  bool listed = false;  // in open_ at pos
  std::list<std::shared_ptr<Connection>>::iterator pos;
};

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
  HttpServer* raw = server.get();  // the loop's on_socket holds `server` while the loop runs
  AcceptOptions budget = BudgetedAccept(
      server->acceptor_, options.max_connections, [raw] { return raw->open_.size(); },
      [raw](std::chrono::milliseconds min_age, bool out_of_fds) {
        return raw->CloseOldestWaiting(min_age, out_of_fds ? "out of file descriptors" : "too many connections");
      },
      kRequestGrace, kFdGrace);
  auto on_socket = [server](tcp::socket s) {
    auto conn = std::make_shared<Connection>(std::move(s));
    server->open_.push_back(conn);
    conn->pos = std::prev(server->open_.end());
    conn->listed = true;
    asio::co_spawn(server->acceptor_.get_executor(), server->Serve(std::move(conn)), asio::detached);
  };
  asio::co_spawn(io, AcceptLoop(server->acceptor_, std::move(on_socket), std::move(budget)), asio::detached);
  return server;
}

void HttpServer::Stop() {
  error_code ec;
  acceptor_.close(ec);
}

bool HttpServer::CloseOldestWaiting(std::chrono::milliseconds min_age, const char* why) {
  auto it = std::find_if(open_.begin(), open_.end(), [](const auto& c) { return c->waiting; });
  if (it == open_.end() || std::chrono::steady_clock::now() - (*it)->since < min_age) return false;
  std::shared_ptr<Connection> c = *it;
  open_.erase(it);
  c->listed = false;
  error_code ec;
  auto ep = c->stream.socket().remote_endpoint(ec);
  // Logged sparingly: a flood would otherwise flood the log too.
  if (evicted_++ % 100 == 0) {
    spdlog::warn("http: {} connections open; closing the oldest one waiting for a request ({}): {} ({} so far)",
                 open_.size() + 1, ec ? "?" : fmt::format("{}:{}", ep.address().to_string(), ep.port()), why,
                 evicted_);
  }
  c->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  c->stream.close();
  return true;
}

HttpResponse HttpServer::Dispatch(const HttpRequest& req) {
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = JsonError(405, "method " + req.method + " not allowed: this server is read-only");
    r.headers["Allow"] = "GET, HEAD";
    return r;
  }
  if (req.path.empty() || req.path[0] != '/') return JsonError(400, "bad request target");
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
asio::awaitable<void> HttpServer::Serve(std::shared_ptr<Connection> c) {
  auto self = shared_from_this();
  error_code ec;
  std::string peer;
  {
    auto ep = c->stream.socket().remote_endpoint(ec);
    peer = ec ? "?" : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }
  if (!options_.tls) {
    co_await ServeRequests(c, c->stream, peer);
  } else {
    beast::ssl_stream<beast::tcp_stream&> tls(c->stream, *options_.tls);
    c->stream.expires_after(options_.header_timeout);
    co_await tls.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) spdlog::debug("http: {}: TLS handshake failed: {}", peer, ec.message());
    else co_await ServeRequests(c, tls, peer);
  }
  c->waiting = false;
  c->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  c->stream.close();
  if (c->listed) {
    open_.erase(c->pos);
    c->listed = false;
  }
}

template <class Stream>
asio::awaitable<void> HttpServer::ServeRequests(std::shared_ptr<Connection> c, Stream& stream, const std::string& peer) {
  error_code ec;
  auto& lowest = beast::get_lowest_layer(stream);
  const size_t buffer_limit = options_.max_header_bytes + options_.max_body_bytes + 1024;
  beast::flat_buffer buffer(buffer_limit);  // the most it may grow to
  std::optional<HttpResponse> bad_request;  // answered once the connection is to be closed

  for (bool first = true;; first = false) {
    c->waiting = true;
    c->since = std::chrono::steady_clock::now();
    if (!first && buffer.size() == 0) {
      // Kept alive: the next request may take idle_timeout to start.
      lowest.expires_after(options_.idle_timeout);
      size_t n = co_await stream.async_read_some(buffer.prepare(std::min<size_t>(1024, buffer_limit)),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      if (ec) break;
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser.body_limit(options_.max_body_bytes);
    lowest.expires_after(options_.header_timeout);
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      unsigned status = 0;
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) status = 431;
      else if (ec == http::error::body_limit) status = 413;
      else if (IsParseError(ec)) status = 400;
      if (status != 0) {
        spdlog::warn("http: bad request from {}: {}; closing the connection", peer, ec.message());
        bad_request = JsonError(status, "bad request: " + ec.message());
      } else if (ec == beast::error::timeout) {
        spdlog::debug("http: {}: no complete request within {} ms; closing", peer, options_.header_timeout.count());
      } else if (ec != http::error::end_of_stream) {
        spdlog::debug("http: {}: {}", peer, ec.message());
      }
      break;
    }
    c->waiting = false;
    http::request<http::string_body>& req = parser.get();
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    r.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
    r.peer = peer;
    r.host = std::string(req[http::field::host]);
    r.authorization = std::string(req[http::field::authorization]);
    HttpResponse res = Dispatch(r);
    spdlog::debug("http: {} {} {} -> {}", peer, r.method, target, res.status);
    bool keep = req.keep_alive() && (res.status < 400 || res.status == 404);
    bool ok = co_await WriteResponse(stream, std::move(res), r.method == "HEAD", keep, req.version(), peer,
                                    options_.write_timeout);
    if (!ok) break;
  }
  c->waiting = false;
  if (bad_request) co_await WriteResponse(stream, std::move(*bad_request), false, false, 11, peer, options_.write_timeout);
}

#pragma GCC diagnostic pop

}  // namespace mr
