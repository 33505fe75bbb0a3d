#include "common/tls_testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace mr {
namespace {

EVP_PKEY* NewKey() { return EVP_EC_gen("P-256"); }

X509* NewCert(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca) {
  static long serial = 1;
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 30);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : x, x, nullptr, nullptr, 0);
  X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  X509_add_ext(x, bc, -1);
  X509_EXTENSION_free(bc);
  if (!ca) {  // usable as a server on this machine: 127.0.0.1, ::1, localhost and its own name
    std::string san = "IP:127.0.0.1,IP:::1,DNS:localhost,DNS:" + cn;
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (ca) {
    X509_EXTENSION* ku = X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    X509_add_ext(x, ku, -1);
    X509_EXTENSION_free(ku);
  }
  X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
  return x;
}

void WritePem(const std::string& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  PEM_write_X509(f, cert);
  std::fclose(f);
}

void WriteKey(const std::string& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + path);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  ::chmod(path.c_str(), 0600);
}

}  // namespace

TestPki::TestPki(const std::string& dir, const std::string& ca_name) : dir_(dir) {
  EVP_PKEY* key = NewKey();
  X509* cert = NewCert(ca_name, key, nullptr, nullptr, true);
  ca_key_ = key;
  ca_cert_ = cert;
  ca_file_ = dir + "/" + ca_name + ".pem";
  WritePem(ca_file_, cert);
}

TestPki::~TestPki() {
  EVP_PKEY_free(static_cast<EVP_PKEY*>(ca_key_));
  X509_free(static_cast<X509*>(ca_cert_));
}

TestCert TestPki::Issue(const std::string& name) {
  EVP_PKEY* key = NewKey();
  X509* cert = NewCert(name, key, static_cast<X509*>(ca_cert_), static_cast<EVP_PKEY*>(ca_key_), false);
  TestCert out{dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key"};
  WritePem(out.cert, cert);
  WriteKey(out.key, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

TcpRelay::TcpRelay(uint16_t target) : target_(target) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("relay: cannot listen");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("relay: pipe");
  thread_ = std::thread([this] { Run(); });
}

TcpRelay::~TcpRelay() {
  char c = 'x';
  (void)!::write(wake_[1], &c, 1);
  thread_.join();
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) ::close(fd);
}

std::string TcpRelay::from_client() {
  std::lock_guard<std::mutex> l(mu_);
  return from_client_;
}

std::string TcpRelay::from_server() {
  std::lock_guard<std::mutex> l(mu_);
  return from_server_;
}

bool TcpRelay::Inject(const std::string& bytes) {
  std::lock_guard<std::mutex> l(mu_);
  if (to_server_ < 0) return false;
  return ::send(to_server_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

void TcpRelay::Run() {
  while (true) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(target_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(client);
      ::close(server);
      continue;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      to_server_ = server;
    }
    target_closed_ = false;
    bool open = true;
    while (open) {
      pollfd q[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (::poll(q, 3, -1) < 0) continue;
      if (q[2].revents) {
        open = false;
        break;
      }
      for (int i = 0; i < 2 && open; i++) {
        if (!q[i].revents) continue;
        char buf[65536];
        ssize_t n = ::recv(q[i].fd, buf, sizeof(buf), 0);
        if (n <= 0) {
          if (i == 1) target_closed_ = true;
          open = false;
          break;
        }
        std::lock_guard<std::mutex> l(mu_);
        (i == 0 ? from_client_ : from_server_).append(buf, static_cast<size_t>(n));
        ::send(i == 0 ? server : client, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      }
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      to_server_ = -1;
    }
    ::close(client);
    ::close(server);
    char drain;
    pollfd w{wake_[0], POLLIN, 0};
    if (::poll(&w, 1, 0) > 0 && ::read(wake_[0], &drain, 1) >= 0) return;
  }
}

}  // namespace mr
