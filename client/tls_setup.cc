#include "client/tls_setup.h"

#include <cstdlib>

#include "common/address.h"

namespace mr {

Result<std::shared_ptr<TlsContext>> MakeTls(Token token, const TlsFileOptions& files,
                                            std::shared_ptr<UserDirectory> users) {
  TlsOptions o;
  o.token = std::move(token);
  o.cert_file = files.cert;
  o.key_file = files.key;
  o.ca_file = files.ca;
  o.users = std::move(users);
  const char* plain = std::getenv("MR_BENCH_PLAINTEXT");
  o.plaintext = plain && std::string(plain) == "1";
  return TlsContext::Make(std::move(o));
}

Result<std::shared_ptr<TlsContext>> ClientTls(const std::string& token_file, const HostPort& master,
                                              std::string* token_flag) {
  auto token = LoadToken(token_file);
  if (!token.ok()) return token.status();
  if (!token_file.empty()) *token_flag = " --token-file " + token_file;
  if (token->empty() && IsLoopbackHost(master.host)) {
    if (auto local = FindLocalToken(master.port)) *token = *local;
  }
  return MakeTls(std::move(*token));
}

}  // namespace mr
