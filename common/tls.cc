#include "common/tls.h"

#include <fmt/format.h>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mr {
namespace ssl = boost::asio::ssl;
namespace {

// Only the SHA-256 suites: a pre-shared key is bound to its hash, and ours is SHA-256.
constexpr const char* kCipherSuites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
constexpr unsigned char kAes128GcmSha256[] = {0x13, 0x01};
// The session id context of every context and PSK session (OpenSSL compares the two).
constexpr unsigned char kSessionContext[] = {'m', 'r'};

int ContextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void FreePeer(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) { delete static_cast<PeerCredential*>(ptr); }

int PeerIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, FreePeer);
  return index;
}

const TlsContext* ContextOf(SSL* ssl) {
  return static_cast<const TlsContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ContextIndex()));
}

void SetPeer(SSL* ssl, PeerCredential c) {
  delete static_cast<PeerCredential*>(SSL_get_ex_data(ssl, PeerIndex()));
  SSL_set_ex_data(ssl, PeerIndex(), new PeerCredential(std::move(c)));
}

SSL_SESSION* PskSession(SSL* ssl, const std::string& key) {
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kAes128GcmSha256);
  if (cipher == nullptr) return nullptr;
  SSL_SESSION* s = SSL_SESSION_new();
  if (s == nullptr) return nullptr;
  if (!SSL_SESSION_set1_master_key(s, reinterpret_cast<const unsigned char*>(key.data()), key.size()) ||
      !SSL_SESSION_set_cipher(s, cipher) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) ||
      !SSL_SESSION_set1_id_context(s, kSessionContext, sizeof(kSessionContext))) {
    SSL_SESSION_free(s);
    return nullptr;
  }
  return s;
}

int FindPskCallback(SSL* ssl, const unsigned char* identity, size_t len, SSL_SESSION** session) {
  *session = nullptr;
  const TlsContext* c = ContextOf(ssl);
  return c ? c->FindPsk(ssl, identity, len, session) : 0;
}

int UsePskCallback(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen, SSL_SESSION** session) {
  *session = nullptr;
  const TlsContext* c = ContextOf(ssl);
  return c ? c->UsePsk(ssl, md, id, idlen, session) : 0;
}

std::string OpenSslErrors() {
  std::string out;
  for (unsigned long e; (e = ERR_get_error()) != 0;) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// Settings both sides share: TLS 1.3 only, our suites, no tickets or session cache (a session
// is one connection; every connection proves its credential afresh).
Status Common(ssl::context& ctx, const TlsContext* owner) {
  SSL_CTX* c = ctx.native_handle();
  if (!SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) || !SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) ||
      !SSL_CTX_set_ciphersuites(c, kCipherSuites)) {
    return Status::Internal("TLS setup: " + OpenSslErrors());
  }
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  SSL_CTX_set_ex_data(c, ContextIndex(), const_cast<TlsContext*>(owner));
  // OpenSSL counts a PSK handshake as a resumption, which with peer verification on wants a
  // session id context.
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof(kSessionContext));
  return Status::OK();
}

Status LoadPki(ssl::context& ctx, const TlsOptions& o, bool server) {
  SSL_CTX* c = ctx.native_handle();
  if (SSL_CTX_use_certificate_chain_file(c, o.cert_file.c_str()) != 1) {
    return Status::InvalidArgument(fmt::format("--tls-cert {}: {}", o.cert_file, OpenSslErrors()));
  }
  auto key = ReadSecretFile(o.key_file, "--tls-key");
  if (!key.ok()) return key.status();
  BIO* bio = BIO_new_mem_buf(key->data(), static_cast<int>(key->size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr || SSL_CTX_use_PrivateKey(c, pkey) != 1) {
    if (pkey) EVP_PKEY_free(pkey);
    return Status::InvalidArgument(fmt::format("--tls-key {}: {}", o.key_file, OpenSslErrors()));
  }
  EVP_PKEY_free(pkey);
  if (SSL_CTX_check_private_key(c) != 1) {
    return Status::InvalidArgument(fmt::format("--tls-key {} does not match --tls-cert {}", o.key_file, o.cert_file));
  }
  if (SSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr) != 1) {
    return Status::InvalidArgument(fmt::format("--tls-ca {}: {}", o.ca_file, OpenSslErrors()));
  }
  // Servers ask for a certificate (a PSK handshake asks for none), clients check the server's.
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), nullptr);
  return Status::OK();
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::Make(TlsOptions options) {
  std::shared_ptr<TlsContext> t(new TlsContext(std::move(options)));
  MR_RETURN_IF_ERROR(t->Init());
  return t;
}

std::shared_ptr<TlsContext> TlsContext::Ephemeral() {
  TlsOptions o;
  o.token = *NewToken("");
  return *Make(std::move(o));  // a context of a cluster token alone cannot fail
}

TlsContext::TlsContext(TlsOptions options) : options_(std::move(options)) {}
TlsContext::~TlsContext() = default;

bool TlsContext::has_cluster_credential() const {
  return options_.plaintext || !cluster_key_.empty() || !options_.cert_file.empty();
}

Status TlsContext::Init() {
  const bool pki = !options_.cert_file.empty() || !options_.key_file.empty() || !options_.ca_file.empty();
  if (pki && (options_.cert_file.empty() || options_.key_file.empty() || options_.ca_file.empty())) {
    return Status::InvalidArgument("--tls-cert, --tls-key and --tls-ca go together: give all three");
  }
  if (options_.token.kind == Token::Kind::kCluster) {
    cluster_key_ = ClusterKey(options_.token.secret);
    cluster_identity_ = ClusterIdentity(cluster_key_);
  }
  if (!options_.token.empty()) {
    client_key_ = KeyOf(options_.token);
    client_identity_ = IdentityOf(options_.token);
  }
  server_ = std::make_unique<ssl::context>(ssl::context::tls_server);
  client_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  MR_RETURN_IF_ERROR(Common(*server_, this));
  MR_RETURN_IF_ERROR(Common(*client_, this));
  SSL_CTX_set_psk_find_session_callback(server_->native_handle(), FindPskCallback);
  if (!client_key_.empty()) SSL_CTX_set_psk_use_session_callback(client_->native_handle(), UsePskCallback);
  if (pki) {
    MR_RETURN_IF_ERROR(LoadPki(*server_, options_, true));
    MR_RETURN_IF_ERROR(LoadPki(*client_, options_, false));
  } else {
    // Without a CA a certificate proves nothing: CheckServer refuses a server that did not use
    // our key.
    SSL_CTX_set_verify(client_->native_handle(), SSL_VERIFY_NONE, nullptr);
  }
  return Status::OK();
}

int TlsContext::FindPsk(SSL* ssl, const unsigned char* identity, size_t len, SSL_SESSION** session) const {
  std::string_view id(reinterpret_cast<const char*>(identity), len);
  PeerCredential peer;
  std::string key;
  if (!cluster_identity_.empty() && id == cluster_identity_) {
    key = cluster_key_;
    peer.kind = PeerCredential::Kind::kCluster;
    peer.admin = true;
  } else if (options_.users && id.starts_with("mr2/u/")) {
    if (auto e = options_.users->FindByIdentity(id)) {
      key = e->key;
      peer.kind = PeerCredential::Kind::kUser;
      peer.user = e->user;
      peer.admin = e->admin;
    }
  }
  if (key.empty()) return 1;  // no such key here: the handshake goes on without one, and fails
  *session = PskSession(ssl, key);
  if (*session == nullptr) return 0;
  SetPeer(ssl, std::move(peer));
  return 1;
}

int TlsContext::UsePsk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* idlen,
                       SSL_SESSION** session) const {
  if (md != nullptr && md != EVP_sha256()) return 1;  // a suite we did not offer: no PSK
  *session = PskSession(ssl, client_key_);
  if (*session == nullptr) return 0;
  *id = reinterpret_cast<const unsigned char*>(client_identity_.data());
  *idlen = client_identity_.size();
  return 1;
}

PeerCredential TlsContext::ServerSidePeer(SSL* ssl) const {
  if (options_.plaintext || ssl == nullptr) {
    PeerCredential c;
    if (options_.plaintext) {
      c.kind = PeerCredential::Kind::kCluster;
      c.admin = true;
    }
    return c;
  }
  if (SSL_session_reused(ssl)) {
    if (auto* c = static_cast<PeerCredential*>(SSL_get_ex_data(ssl, PeerIndex()))) return *c;
    return {};
  }
  PeerCredential c;
  if (SSL_get0_peer_certificate(ssl) != nullptr && SSL_get_verify_result(ssl) == X509_V_OK &&
      !options_.ca_file.empty()) {
    c.kind = PeerCredential::Kind::kCluster;
    c.admin = true;
  }
  return c;
}

Status TlsContext::CheckServer(SSL* ssl) const {
  if (options_.plaintext) return Status::OK();
  if (ssl != nullptr && SSL_session_reused(ssl)) return Status::OK();  // it used our key
  if (ssl != nullptr && !options_.ca_file.empty() && SSL_get0_peer_certificate(ssl) != nullptr &&
      SSL_get_verify_result(ssl) == X509_V_OK) {
    return Status::OK();
  }
  return Status::Aborted("the server did not prove it holds our token or a certificate of our CA");
}

namespace {

// A socket BIO of our own: send() with MSG_NOSIGNAL (a peer that closed must not raise SIGPIPE in
// the process), recv(), and the retry flags OpenSSL needs on a non-blocking descriptor.
int SocketWrite(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))), data, static_cast<size_t>(len),
                     MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int SocketRead(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b))), data, static_cast<size_t>(len), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

long SocketCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int SocketCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "mr socket");
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

}  // namespace

TlsSession::TlsSession(TlsContext& context, TlsSide side, int fd) {
  ssl_ = SSL_new((side == TlsSide::kServer ? context.server() : context.client()).native_handle());
  BIO* bio = BIO_new(SocketMethod());
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  if (side == TlsSide::kServer) SSL_set_accept_state(ssl_);
  else SSL_set_connect_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Io TlsSession::Result(int ret) {
  Io io;
  if (ret > 0) {
    io.bytes = static_cast<size_t>(ret);
    return io;
  }
  const int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      io.want = Want::kRead;
      break;
    case SSL_ERROR_WANT_WRITE:
      io.want = Want::kWrite;
      break;
    case SSL_ERROR_ZERO_RETURN:
      io.closed = true;
      break;
    case SSL_ERROR_SYSCALL:
      // errno 0: the peer closed without a close_notify (every mr peer just closes).
      if (errno == 0 || errno == ECONNRESET || errno == EPIPE) io.closed = true;
      io.error = errno == 0 ? "peer closed the connection" : std::strerror(errno);
      break;
    default: {
      io.tls_error = true;
      char buf[256];
      unsigned long e = ERR_peek_last_error();
      if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        const char* reason = ERR_reason_error_string(e);
        io.error = reason ? reason : buf;
        io.not_tls = ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER || ERR_GET_REASON(e) == SSL_R_PACKET_LENGTH_TOO_LONG;
      } else {
        io.error = "TLS failure";
      }
    }
  }
  ERR_clear_error();
  return io;
}

TlsSession::Io TlsSession::Handshake() {
  ERR_clear_error();
  errno = 0;
  return Result(SSL_do_handshake(ssl_));
}

TlsSession::Io TlsSession::Read(char* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  return Result(SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, INT32_MAX))));
}

TlsSession::Io TlsSession::Write(const char* data, size_t size) {
  ERR_clear_error();
  errno = 0;
  return Result(SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, INT32_MAX))));
}

}  // namespace mr
