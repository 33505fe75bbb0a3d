// Test helpers (tests only): a throwaway PKI (a CA and certificates it signs, made with OpenSSL in
// memory and written as PEM files), and a TCP relay that sits on the path between two peers,
// records every byte in both directions and can inject bytes of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace mr {

struct TestCert {
  std::string cert;  // PEM file of the certificate (and the chain up to the CA)
  std::string key;   // PEM file of its private key (mode 0600)
};

// A CA under `dir` (ca.pem, ca.key) that signs certificates for `name` (NAME.pem, NAME.key).
class TestPki {
 public:
  TestPki(const std::string& dir, const std::string& ca_name);
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;
  const std::string& ca_file() const { return ca_file_; }
  TestCert Issue(const std::string& name);

 private:
  std::string dir_, ca_file_;
  void* ca_key_ = nullptr;   // EVP_PKEY*
  void* ca_cert_ = nullptr;  // X509*
};

// Listens on 127.0.0.1 (port()) and forwards each accepted connection to 127.0.0.1:target, one
// connection at a time, recording what passes. Inject() writes bytes into the current
// connection's stream towards the target (as if a host on the path added them).
class TcpRelay {
 public:
  explicit TcpRelay(uint16_t target);
  ~TcpRelay();
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;
  uint16_t port() const { return port_; }
  // Everything seen so far from the connecting side, and from the target.
  std::string from_client();
  std::string from_server();
  // Sends bytes to the target on the current connection (false when there is none).
  bool Inject(const std::string& bytes);
  // Whether the current connection's target side has closed.
  bool target_closed() const { return target_closed_; }

 private:
  void Run();
  uint16_t target_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::mutex mu_;
  std::string from_client_, from_server_;  // guarded by mu_
  int to_server_ = -1;                     // guarded by mu_
  std::atomic<bool> target_closed_{false};
  std::thread thread_;
};

}  // namespace mr
