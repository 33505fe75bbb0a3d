// HttpServer: a small read-only HTTP/1.1 server (Boost.Beast) for the master's dashboard, JSON API
// and metrics (DESIGN §7). Serves GET and HEAD (any other method: 405); everything else is up to
// the handler, which maps a request to a response.
//
// Robustness: request headers are limited to max_header_bytes (431), bodies to max_body_bytes
// (413), an unparsable request gets 400; each of these closes that connection only. A connection
// idle (or too slow sending a request) for idle_timeout, or too slow reading a response for
// write_timeout, is closed. At most max_connections are served at once; further ones are closed
// at once. When bound to a loopback address, requests whose Host header names anything but a
// loopback address are refused (403), so a web page cannot read the API through DNS rebinding.
//
// Threading: runs on the io_context's thread; the handler is called there (so it may read state
// owned by that thread, like the master's Scheduler). Ownership: shared; connections keep the
// server alive until they end.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/asio.h"
#include "common/status.h"
#include "common/units.h"

namespace mr {

struct HttpRequest {
  std::string method;  // GET or HEAD
  std::string path;    // without the query
  std::string query;   // after '?', undecoded
  std::string peer;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::map<std::string, std::string> headers;  // extra headers
};

struct HttpServerOptions {
  size_t max_header_bytes = 8192;
  size_t max_body_bytes = 4096;
  size_t max_connections = 256;
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds write_timeout{30000};
};

class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds (port 0 picks a free port) and starts accepting.
  static Result<std::shared_ptr<HttpServer>> Start(asio::io_context& io, const HostPort& addr, Handler handler,
                                                   HttpServerOptions options = {});
  HostPort address() const { return {host_, port_}; }
  void Stop();
  size_t connections() const { return connections_; }

 private:
  HttpServer(tcp::acceptor acceptor, Handler handler, HttpServerOptions options);
  // Serves a new connection, or closes it at once when max_connections are open.
  void Accept(tcp::socket socket);
  asio::awaitable<void> Serve(tcp::socket socket);
  HttpResponse Dispatch(const HttpRequest& request, const std::string& host_header);

  tcp::acceptor acceptor_;
  Handler handler_;
  HttpServerOptions options_;
  std::string host_;
  uint16_t port_ = 0;
  bool loopback_ = true;
  size_t connections_ = 0;
};

// A JSON error body: {"error": message}.
HttpResponse JsonError(unsigned status, const std::string& message);

}  // namespace mr
