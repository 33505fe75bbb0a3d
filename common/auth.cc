#include "common/auth.h"

#include <sys/stat.h>

#include <boost/asio/ip/address.hpp>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace mr {

Result<std::string> LoadToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* env = std::getenv("MR_TOKEN");
    return std::string(env ? env : "");
  }
  struct stat st;
  if (::stat(token_file.c_str(), &st) != 0) {
    return Status::InvalidArgument(fmt::format("--token-file {}: {}", token_file, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(fmt::format("--token-file {}: not a regular file", token_file));
  }
  if (st.st_mode & S_IROTH) {
    return Status::InvalidArgument(
        fmt::format("--token-file {}: readable by every user (mode {:04o}); the token would not be a secret: "
                    "chmod 600 {}",
                    token_file, st.st_mode & 07777, token_file));
  }
  std::ifstream f(token_file, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) return Status::InvalidArgument(fmt::format("--token-file {}: cannot read it", token_file));
  std::string token = ss.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) return Status::InvalidArgument(fmt::format("--token-file {}: the file is empty", token_file));
  return token;
}

std::string HmacSha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // An empty key is valid for HMAC; OpenSSL wants a non-null pointer for it.
  static const char kEmpty = 0;
  HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n)) != 1) {
    std::abort();  // no randomness: nothing about the handshake could be trusted
  }
  return s;
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace mr
