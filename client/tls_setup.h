// The TLS settings of an mr process (common/tls.h), made where the command line is read: the
// token files, the certificates, and the one switch from the environment, MR_BENCH_PLAINTEXT=1,
// which turns TLS off to measure what it costs (loopback only; every process of the cluster must
// have it).
#pragma once

#include <memory>
#include <string>

#include "common/credentials.h"
#include "common/status.h"
#include "common/tls.h"
#include "common/units.h"

namespace mr {

struct TlsFileOptions {
  std::string cert, key, ca;  // --tls-cert, --tls-key, --tls-ca ("" none)
};

Result<std::shared_ptr<TlsContext>> MakeTls(Token token, const TlsFileOptions& files = {},
                                            std::shared_ptr<UserDirectory> users = nullptr);

// A client's credential: its token (`token_file`, else $MR_TOKEN), or for a master on a loopback
// address, the local token that master left for this user (none: the master will refuse).
// *token_flag: " --token-file FILE" when one was given, for the commands the client prints.
Result<std::shared_ptr<TlsContext>> ClientTls(const std::string& token_file, const HostPort& master,
                                              std::string* token_flag);

}  // namespace mr
