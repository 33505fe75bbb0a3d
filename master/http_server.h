// HttpServer: a small read-only HTTP/1.1 server (Boost.Beast) for the master's dashboard, JSON API
// and metrics (DESIGN §7). Serves GET and HEAD (any other method: 405); everything else is up to
// the handler, which maps a request to a response.
//
// Robustness: request headers are limited to max_header_bytes (431), bodies to max_body_bytes
// (413), an unparsable request gets 400; each of these closes that connection only. A request
// (line, headers and body) must arrive within header_timeout of its first byte (of the connection,
// for the first request); a kept-alive connection that sends nothing for idle_timeout, or one too
// slow reading a response for write_timeout, is closed. Connection slots are budgeted as the RPC
// listener's are (common/acceptor.h): at most max_connections open at once; at the budget,
// accepting pauses until a connection ends or the oldest one still waiting for a request has
// waited kRequestGrace, which is then closed; out of descriptors, the oldest waiting one is closed
// after kFdGrace. A flood of silent or half-sent requests thus cannot lock out real requests, nor
// use up the descriptors the RPC port needs. With options.tls it speaks HTTPS (the TLS handshake
// within header_timeout). Who may see what (the Host header, a bearer token) is the handler's
// business: the request carries both.
//
// Threading: runs on the io_context's thread; the handler is called there (so it may read state
// owned by that thread, like the master's Scheduler). Ownership: shared; connections keep the
// server alive until they end.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>

#include "common/asio.h"

#include <boost/asio/ssl/context.hpp>
#include "common/status.h"
#include "common/units.h"

namespace mr {

struct HttpRequest {
  std::string method;  // GET or HEAD
  std::string path;    // without the query
  std::string query;   // after '?', undecoded
  std::string peer;
  std::string host;           // the Host header ("" when absent)
  std::string authorization;  // the Authorization header ("" when absent)
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
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds write_timeout{30000};
  // HTTPS with this context (a server certificate and key); nullptr: plain HTTP.
  std::shared_ptr<boost::asio::ssl::context> tls;

  // The defaults, with max_connections from $MR_MAX_HTTP_CONNECTIONS (256) and at most a quarter of
  // the open-files limit (ConnectionBudget), header_timeout from $MR_HTTP_HEADER_TIMEOUT_MS and
  // idle_timeout from $MR_HTTP_IDLE_TIMEOUT_MS. Read by the command line (client/cli.cc) only: the
  // server itself takes what it is given.
  static HttpServerOptions FromEnv();
};

class HttpServer : public std::enable_shared_from_this<HttpServer> {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds (port 0 picks a free port) and starts accepting.
  static Result<std::shared_ptr<HttpServer>> Start(asio::io_context& io, const HostPort& addr, Handler handler,
                                                   HttpServerOptions options = {});
  HostPort address() const { return {host_, port_}; }
  bool loopback() const { return loopback_; }
  bool https() const { return options_.tls != nullptr; }
  void Stop();
  size_t connections() const { return open_.size(); }
  const HttpServerOptions& options() const { return options_; }

  static constexpr std::chrono::milliseconds kRequestGrace{1000};
  static constexpr std::chrono::milliseconds kFdGrace{100};

 private:
  struct Connection;
  HttpServer(tcp::acceptor acceptor, Handler handler, HttpServerOptions options);
  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn);
  template <class Stream>
  asio::awaitable<void> ServeRequests(std::shared_ptr<Connection> conn, Stream& stream, const std::string& peer);
  HttpResponse Dispatch(const HttpRequest& request);
  // Closes the oldest connection waiting for a request if it has waited at least min_age.
  bool CloseOldestWaiting(std::chrono::milliseconds min_age, const char* why);

  tcp::acceptor acceptor_;
  Handler handler_;
  HttpServerOptions options_;
  std::string host_;
  uint16_t port_ = 0;
  bool loopback_ = true;
  std::list<std::shared_ptr<Connection>> open_;  // accept order
  uint64_t evicted_ = 0;
};

// A JSON error body: {"error": message}.
HttpResponse JsonError(unsigned status, const std::string& message);

// An HTTPS server context from a certificate chain and its key (PEM files; the key a secret file,
// mode 0600). TLS 1.2 and 1.3 (what browsers speak).
Result<std::shared_ptr<boost::asio::ssl::context>> HttpsContext(const std::string& cert_file,
                                                                const std::string& key_file);

}  // namespace mr
