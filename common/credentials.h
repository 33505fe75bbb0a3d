// Credentials (DESIGN §6, §11): the secrets that authenticate mr's processes and users, and what a
// peer proved it holds.
//
//   the cluster token   shared by the master and the workers (--token-file, $MR_TOKEN). Its holders
//                       may register workers, serve and fetch shuffle data, and act as an admin client.
//   a user token        "NAME:SECRET", one per user (`mr token new --user NAME FILE`). It only ever
//                       authenticates a client (submit, status, kill, ...), as NAME.
//   the users file      the master's list of user tokens it accepts, one line each:
//                       NAME <TAB> KEY [<TAB> admin]   (KEY: the hex of the key derived from the
//                       token, never the token; the same NAME twice = two valid tokens, for rotation)
//   a local token       a tokenless `mr master` makes a random cluster token and leaves it where the
//                       same user's `mr` finds it (LocalTokenPath); other users cannot read it.
//
// The TLS layer (common/tls.h) turns these into pre-shared keys: each credential has a key derived
// from its secret (ClusterKey, UserKey) and an identity naming it (with a short key id, so two
// valid tokens of one user are told apart). Secrets never leave this process: not on the wire, not
// in a log, not in a child's environment (ScrubbedEnvironment).
//
// Thread-safety: pure functions are thread-safe; UserDirectory is thread-safe (Reload may run while
// lookups do).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace mr {

// A token as read from a file or $MR_TOKEN.
struct Token {
  enum class Kind { kNone, kCluster, kUser };
  Kind kind = Kind::kNone;
  std::string user;    // kUser: the name before the colon
  std::string secret;  // the whole cluster token, or a user token's part after the colon
  bool local = false;  // a local token a tokenless master made (its servers stay on loopback)

  bool empty() const { return kind == Kind::kNone; }
  // "NAME:SECRET" (with NAME of 1-64 of [A-Za-z0-9._-]) is a user token; any other non-empty text
  // (a base64 cluster token has no colon) the cluster token; "" none.
  static Result<Token> Parse(std::string_view text);
};

// What the peer of a connection proved it holds.
struct PeerCredential {
  enum class Kind { kNone, kCluster, kUser };
  Kind kind = Kind::kNone;
  std::string user;    // kUser: its name
  bool admin = false;  // kCluster always; kUser when the users file says so
  bool cluster() const { return kind == Kind::kCluster; }
  // Who owns a job submitted with this credential: the user's name, or "admin" for the cluster.
  std::string Owner() const;
  // May this credential act on a job owned by `owner` (kill it, read its logs and output)?
  bool MayActOn(const std::string& owner) const { return admin || (kind == Kind::kUser && user == owner); }
};

// A secret file's text: it must be a regular file owned by this process's user and readable by
// nobody else (mode 0600 or 0400); trailing whitespace is dropped; an empty file is refused.
// `flag` names the file in errors ("--token-file").
Result<std::string> ReadSecretFile(const std::string& path, const std::string& flag);
// Writes `text` to a file only this user can read (mode 0600), synced: atomically replacing what
// was there, or with `exclusive`, only when there is nothing (AlreadyExists otherwise).
Status WriteSecretFile(const std::string& path, const std::string& text, bool exclusive = false);
// The token from `token_file` if given, else $MR_TOKEN, else none.
Result<Token> LoadToken(const std::string& token_file);

// Pre-shared keys (32 bytes) and the identities that name them.
std::string ClusterKey(const std::string& secret);
std::string UserKey(const std::string& user, const std::string& secret);
std::string KeyId(const std::string& key);  // 8 hex digits of the key's SHA-256
std::string ClusterIdentity(const std::string& key);                         // "mr2/c/KEYID"
std::string UserIdentity(const std::string& user, const std::string& key);  // "mr2/u/NAME/KEYID"
// The key a token presents, and its identity.
std::string KeyOf(const Token& t);
std::string IdentityOf(const Token& t);

// The users file's line for a user token: "NAME<TAB>HEXKEY".
std::string UsersFileLine(const Token& user_token);
// A new random token: the cluster's (user "") or a user's ("NAME:SECRET").
Result<Token> NewToken(const std::string& user);
std::string TokenText(const Token& t);
// The cluster token kept in `path` (a secret file), made there first when there is none: a
// tokenless master keeps its token in its data dir, so a restart keeps it and its workers get back
// in. The directory is created (mode 0700) if missing.
Result<Token> LoadOrCreateToken(const std::string& path);

// The users a master accepts (--users FILE). Reloaded on SIGHUP.
class UserDirectory {
 public:
  static Result<std::shared_ptr<UserDirectory>> Load(const std::string& path);
  // Reads the file again; on an error the old entries stay.
  Status Reload();
  struct Entry {
    std::string user;
    std::string key;  // 32 bytes
    bool admin = false;
  };
  // The entry a PSK identity "mr2/u/NAME/KEYID" names.
  std::optional<Entry> FindByIdentity(std::string_view identity) const;
  // The entry a presented user token matches (HTTP bearer tokens).
  std::optional<Entry> FindByToken(const Token& t) const;
  size_t size() const;
  const std::string& path() const { return path_; }

 private:
  explicit UserDirectory(std::string path) : path_(std::move(path)) {}
  static Result<std::vector<Entry>> Parse(const std::string& text, const std::string& path);
  std::string path_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // guarded by mu_
};

// Checks a presented secret (an HTTP bearer token) against the cluster key and the users: what it
// proves, kNone when nothing.
PeerCredential CheckBearer(std::string_view bearer, const std::string& cluster_key, const UserDirectory* users);

// Where a tokenless master on this machine leaves its local token for the same user's `mr`:
// DIR/master-PORT.token, DIR being $XDG_RUNTIME_DIR/mr, else $HOME/.mr/run, else /tmp/mr-UID
// (made 0700 and owned by the user; refused when someone else owns it).
Result<std::string> LocalTokenDir();
std::string LocalTokenPath(const std::string& dir, uint16_t port);
// Writes `t` to DIR/master-PORT.token (0600, atomically).
Status WriteLocalToken(const std::string& dir, uint16_t port, const Token& t);
// The local token of the loopback master on `port`, if this user's directory holds one.
std::optional<Token> FindLocalToken(uint16_t port);

// The environment for a child that runs user code: this process's, without any variable that
// holds a credential (MR_TOKEN and every MR_*TOKEN*, *_SECRET_*, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN). "NAME=VALUE" strings.
std::vector<std::string> ScrubbedEnvironment();
bool IsSecretVariable(std::string_view name);

// HMAC-SHA256(key, data), 32 raw bytes.
std::string HmacSha256(const std::string& key, const std::string& data);
// `n` bytes from the OpenSSL CSPRNG.
std::string RandomBytes(size_t n);
// Constant-time equality (CRYPTO_memcmp); false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
std::string HexOf(std::string_view bytes);

}  // namespace mr
