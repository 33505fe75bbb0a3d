// TLS for every connection (DESIGN §6): TLS 1.3 only, both ends authenticated, in one of two ways.
//
//   pre-shared keys   the default: the key derived from a token (common/credentials.h) is an
//                     external PSK (RFC 8446 §2.2), with an ECDHE exchange on top (psk_dhe_ke), so
//                     sessions have forward secrecy. The PSK identity names the credential:
//                     a server accepts the cluster key, and on the master the users' keys. Nobody
//                     without the key completes a handshake, and the session's keys come from it:
//                     a relay that passes the handshake through can neither read nor inject.
//   certificates      for sites with a PKI (--tls-cert, --tls-key, --tls-ca): the master and the
//                     workers present certificates signed by the CA and verify the peer's. A
//                     certificate proves cluster membership; users still authenticate with their
//                     tokens (PSK), which the master accepts beside its certificate.
//
// A handshake yields a PeerCredential (what the peer proved). A client side also insists that the
// server proved itself: by the PSK it offered, or by a certificate chained to its CA.
//
// Plaintext: with `plaintext` (MR_BENCH_PLAINTEXT=1, a measurement switch, loopback only) no TLS is
// spoken and every peer counts as the cluster. Nothing else ever runs without TLS.
//
// Thread-safety: a TlsContext is immutable after Make, except the users it accepts (thread-safe
// UserDirectory); its asio::ssl::contexts are shared by every connection of the process.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl.hpp>

#include "common/credentials.h"
#include "common/status.h"

namespace mr {

struct TlsOptions {
  Token token;             // what this process presents (client side) and, if a cluster token, accepts
  std::string cert_file;   // PKI: this process's certificate chain (PEM)
  std::string key_file;    // PKI: its private key (PEM; a secret file: mode 0600)
  std::string ca_file;     // PKI: the cluster's CA (PEM)
  std::shared_ptr<UserDirectory> users;  // servers that accept user tokens (the master)
  bool plaintext = false;  // measurement only (see above)
};

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> Make(TlsOptions options);
  // A cluster token of its own, made up now: for a process that no other will talk to (a Master or
  // Worker built in a test without TLS settings).
  static std::shared_ptr<TlsContext> Ephemeral();
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& server() { return *server_; }
  boost::asio::ssl::context& client() { return *client_; }
  bool plaintext() const { return options_.plaintext; }
  const TlsOptions& options() const { return options_; }
  // The key of the cluster token ("" without one), for HTTP bearer checks.
  const std::string& cluster_key() const { return cluster_key_; }
  // True when this process can act as a cluster member (a cluster token, or a certificate).
  bool has_cluster_credential() const;

  // After a server-side handshake: what the client proved.
  PeerCredential ServerSidePeer(SSL* ssl) const;
  // After a client-side handshake: OK when the server proved it holds our key or a certificate
  // signed by our CA; else Aborted with why.
  Status CheckServer(SSL* ssl) const;

  // For the OpenSSL callbacks.
  int FindPsk(SSL* ssl, const unsigned char* identity, size_t identity_len, SSL_SESSION** session) const;
  int UsePsk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** session) const;

 private:
  explicit TlsContext(TlsOptions options);
  Status Init();

  TlsOptions options_;
  std::string cluster_key_, cluster_identity_;  // from a cluster token
  std::string client_key_, client_identity_;    // what a client side presents
  std::unique_ptr<boost::asio::ssl::context> server_, client_;
};

enum class TlsSide { kClient, kServer };

// One connection's TLS state, driven on a non-blocking socket descriptor (which stays its
// owner's): OpenSSL reads and writes the socket itself (with MSG_NOSIGNAL), so records are
// encrypted and decrypted straight between the socket and the caller's buffers, and an idle
// session gives its buffers back (SSL_MODE_RELEASE_BUFFERS: thousands of idle workers cost
// little). Each call does what it can without blocking and says what it waits for.
// Threading: one thread at a time (a Channel's executor); reads and writes may interleave.
class TlsSession {
 public:
  enum class Want { kNothing, kRead, kWrite };
  struct Io {
    size_t bytes = 0;       // read or written (Handshake: 1 when it completed)
    Want want = Want::kNothing;  // nothing done yet: call again when the socket is ready
    bool closed = false;    // the peer closed the connection
    bool tls_error = false; // a TLS failure: a handshake refused, a record that fails its check
    bool not_tls = false;   // the peer answered with something that is not TLS at all
    std::string error;      // why (tls_error, or a socket error)
  };
  TlsSession(TlsContext& context, TlsSide side, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  Io Handshake();
  Io Read(char* data, size_t size);
  Io Write(const char* data, size_t size);
  SSL* ssl() const { return ssl_; }

 private:
  Io Result(int ret);
  SSL* ssl_ = nullptr;
};

}  // namespace mr
