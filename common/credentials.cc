#include "common/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

extern char** environ;

namespace mr {
namespace {

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::string TrimRight(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

Result<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Status::InvalidArgument("odd number of hex digits");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("not a hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// A directory made (if missing) with mode 0700 and checked to belong to this user alone.
Status PrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) return Status::IoError(fmt::format("{}: {}", dir, std::strerror(errno)));
  if (!S_ISDIR(st.st_mode)) return Status::IoError(fmt::format("{} is not a directory", dir));
  if (st.st_uid != ::geteuid()) {
    return Status::IoError(fmt::format("{} belongs to another user (uid {}): not a place for this user's tokens", dir,
                                       st.st_uid));
  }
  if (st.st_mode & 077) return Status::IoError(fmt::format("{} is open to other users (mode {:04o})", dir, st.st_mode & 07777));
  return Status::OK();
}

}  // namespace

Result<Token> Token::Parse(std::string_view text) {
  Token t;
  if (text.empty()) return t;
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    t.kind = Kind::kCluster;
    t.secret = std::string(text);
    return t;
  }
  std::string_view name = text.substr(0, colon), secret = text.substr(colon + 1);
  if (!ValidUserName(name)) {
    return Status::InvalidArgument(
        "a user token is NAME:SECRET with a NAME of 1-64 letters, digits, '.', '_' or '-' (and a cluster token has "
        "no colon)");
  }
  if (secret.size() < 16) return Status::InvalidArgument(fmt::format("user token of {}: the secret is too short", name));
  t.kind = Kind::kUser;
  t.user = std::string(name);
  t.secret = std::string(secret);
  return t;
}

std::string PeerCredential::Owner() const {
  switch (kind) {
    case Kind::kUser: return user;
    case Kind::kCluster: return "admin";
    case Kind::kNone: break;
  }
  return "";
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& flag) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ELOOP) return Status::InvalidArgument(fmt::format("{} {}: a symbolic link; give the file itself", flag, path));
    return Status::InvalidArgument(fmt::format("{} {}: {}", flag, path, std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format("{} {}: not a regular file", flag, path));
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format(
        "{} {}: owned by uid {}, not by this user (uid {}); a secret must belong to the user who runs mr", flag, path,
        st.st_uid, ::geteuid()));
  }
  if (st.st_mode & 077) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format(
        "{} {}: readable or writable by others (mode {:04o}); the secret would not be one: chmod 600 {}", flag, path,
        st.st_mode & 07777, path));
  }
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Status::InvalidArgument(fmt::format("{} {}: {}", flag, path, std::strerror(errno)));
    }
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1u << 20)) {
      ::close(fd);
      return Status::InvalidArgument(fmt::format("{} {}: larger than 1 MiB", flag, path));
    }
  }
  ::close(fd);
  text = TrimRight(std::move(text));
  if (text.empty()) return Status::InvalidArgument(fmt::format("{} {}: the file is empty", flag, path));
  return text;
}

Status WriteSecretFile(const std::string& path, const std::string& text, bool exclusive) {
  // Exclusive: created in place (O_EXCL). Otherwise: a temporary file renamed over the old one.
  const std::string target = exclusive ? path : fmt::format("{}.{}.tmp", path, ::getpid());
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_EXCL : O_TRUNC), 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::AlreadyExists(fmt::format("{} already exists", path));
    return Status::IoError(fmt::format("cannot write {}: {}", target, std::strerror(errno)));
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (ok && !exclusive) ok = ::rename(target.c_str(), path.c_str()) == 0;
  if (!ok) {
    int err = errno;
    ::unlink(target.c_str());
    return Status::IoError(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
  return Status::OK();
}

Result<Token> LoadToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* env = std::getenv("MR_TOKEN");
    auto t = Token::Parse(env ? TrimRight(env) : "");
    if (!t.ok()) return Status::InvalidArgument("MR_TOKEN: " + t.status().message());
    return t;
  }
  auto text = ReadSecretFile(token_file, "--token-file");
  if (!text.ok()) return text.status();
  auto t = Token::Parse(*text);
  if (!t.ok()) return Status::InvalidArgument(fmt::format("--token-file {}: {}", token_file, t.status().message()));
  return t;
}

std::string ClusterKey(const std::string& secret) { return HmacSha256(secret, "mr-v2 cluster psk"); }
std::string UserKey(const std::string& user, const std::string& secret) {
  return HmacSha256(secret, "mr-v2 user psk " + user);
}

std::string KeyId(const std::string& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  return HexOf(std::string_view(reinterpret_cast<char*>(digest), 4));
}

std::string ClusterIdentity(const std::string& key) { return "mr2/c/" + KeyId(key); }
std::string UserIdentity(const std::string& user, const std::string& key) {
  return fmt::format("mr2/u/{}/{}", user, KeyId(key));
}

std::string KeyOf(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kCluster: return ClusterKey(t.secret);
    case Token::Kind::kUser: return UserKey(t.user, t.secret);
    case Token::Kind::kNone: break;
  }
  return "";
}

std::string IdentityOf(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kCluster: return ClusterIdentity(KeyOf(t));
    case Token::Kind::kUser: return UserIdentity(t.user, KeyOf(t));
    case Token::Kind::kNone: break;
  }
  return "";
}

std::string UsersFileLine(const Token& t) { return fmt::format("{}\t{}", t.user, HexOf(KeyOf(t))); }

Result<Token> NewToken(const std::string& user) {
  // 32 random bytes as URL-safe base64 without padding: no colon, no whitespace.
  std::string raw = RandomBytes(32);
  std::string b64(64, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  b64.resize(static_cast<size_t>(n));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  if (user.empty()) return Token::Parse(b64);
  return Token::Parse(user + ":" + b64);
}

Result<Token> LoadOrCreateToken(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    std::error_code ec;
    if (std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0700);
    auto t = NewToken("");
    if (!t.ok()) return t.status();
    MR_RETURN_IF_ERROR(WriteSecretFile(path, TokenText(*t) + "\n"));
  }
  auto text = ReadSecretFile(path, "the local token");
  if (!text.ok()) return text.status();
  auto t = Token::Parse(*text);
  if (!t.ok() || t->kind != Token::Kind::kCluster) return Status::InvalidArgument(path + ": not a cluster token");
  t->local = true;
  return t;
}

std::string TokenText(const Token& t) { return t.kind == Token::Kind::kUser ? t.user + ":" + t.secret : t.secret; }

Result<std::shared_ptr<UserDirectory>> UserDirectory::Load(const std::string& path) {
  std::shared_ptr<UserDirectory> d(new UserDirectory(path));
  MR_RETURN_IF_ERROR(d->Reload());
  return d;
}

Result<std::vector<UserDirectory::Entry>> UserDirectory::Parse(const std::string& text, const std::string& path) {
  std::vector<Entry> out;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); n++) {
    line = TrimRight(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::istringstream words(line);
    for (std::string w; words >> w;) fields.push_back(w);
    auto bad = [&](const std::string& why) {
      return Status::InvalidArgument(fmt::format("--users {} line {}: {} (want NAME<TAB>KEY[<TAB>admin], as `mr token new "
                                                 "--user NAME FILE` prints)",
                                                 path, n, why));
    };
    if (fields.size() < 2 || fields.size() > 3) return bad("wrong number of fields");
    if (!ValidUserName(fields[0])) return bad("not a user name");
    if (fields[0] == "admin") return bad("\"admin\" is the name of the cluster token's holders");
    auto key = Unhex(fields[1]);
    if (!key.ok() || key->size() != 32) return bad("the key is not 64 hex digits");
    if (fields.size() == 3 && fields[2] != "admin") return bad("the third field may only be \"admin\"");
    out.push_back({fields[0], *key, fields.size() == 3});
  }
  return out;
}

Status UserDirectory::Reload() {
  auto text = ReadSecretFile(path_, "--users");
  if (!text.ok()) return text.status();
  auto entries = Parse(*text, path_);
  if (!entries.ok()) return entries.status();
  std::lock_guard<std::mutex> l(mu_);
  entries_ = std::move(*entries);
  return Status::OK();
}

std::optional<UserDirectory::Entry> UserDirectory::FindByIdentity(std::string_view identity) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const Entry& e : entries_) {
    if (UserIdentity(e.user, e.key) == identity) return e;
  }
  return std::nullopt;
}

std::optional<UserDirectory::Entry> UserDirectory::FindByToken(const Token& t) const {
  if (t.kind != Token::Kind::kUser) return std::nullopt;
  std::string key = KeyOf(t);
  std::lock_guard<std::mutex> l(mu_);
  for (const Entry& e : entries_) {
    if (e.user == t.user && ConstantTimeEquals(e.key, key)) return e;
  }
  return std::nullopt;
}

size_t UserDirectory::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return entries_.size();
}

PeerCredential CheckBearer(std::string_view bearer, const std::string& cluster_key, const UserDirectory* users) {
  PeerCredential c;
  auto t = Token::Parse(bearer);
  if (!t.ok() || t->empty()) return c;
  if (t->kind == Token::Kind::kCluster) {
    if (!cluster_key.empty() && ConstantTimeEquals(KeyOf(*t), cluster_key)) {
      c.kind = PeerCredential::Kind::kCluster;
      c.admin = true;
    }
    return c;
  }
  if (users == nullptr) return c;
  if (auto e = users->FindByToken(*t)) {
    c.kind = PeerCredential::Kind::kUser;
    c.user = e->user;
    c.admin = e->admin;
  }
  return c;
}

Result<std::string> LocalTokenDir() {
  std::string dir;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const char* home = std::getenv("HOME");
  struct stat st;
  if (runtime && *runtime && ::stat(runtime, &st) == 0 && st.st_uid == ::geteuid()) {
    dir = std::string(runtime) + "/mr";
  } else if (home && *home && ::stat(home, &st) == 0 && st.st_uid == ::geteuid() && ::access(home, W_OK) == 0) {
    dir = std::string(home) + "/.mr/run";
  } else {
    dir = fmt::format("/tmp/mr-{}", ::geteuid());
  }
  MR_RETURN_IF_ERROR(PrivateDir(dir));
  return dir;
}

std::string LocalTokenPath(const std::string& dir, uint16_t port) { return fmt::format("{}/master-{}.token", dir, port); }

Status WriteLocalToken(const std::string& dir, uint16_t port, const Token& t) {
  MR_RETURN_IF_ERROR(PrivateDir(dir));
  return WriteSecretFile(LocalTokenPath(dir, port), TokenText(t) + "\n");
}

std::optional<Token> FindLocalToken(uint16_t port) {
  auto dir = LocalTokenDir();
  if (!dir.ok()) return std::nullopt;
  std::string path = LocalTokenPath(*dir, port);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  auto text = ReadSecretFile(path, "local token");
  if (!text.ok()) return std::nullopt;
  auto t = Token::Parse(*text);
  if (!t.ok() || t->kind != Token::Kind::kCluster) return std::nullopt;
  t->local = true;
  return *t;
}

bool IsSecretVariable(std::string_view name) {
  if (name == "MR_TOKEN" || name == "AWS_SECRET_ACCESS_KEY" || name == "AWS_SESSION_TOKEN") return true;
  if (name.starts_with("MR_") && name.find("TOKEN") != std::string_view::npos) return true;
  return name.find("_SECRET_") != std::string_view::npos;
}

std::vector<std::string> ScrubbedEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (!IsSecretVariable(kv.substr(0, kv.find('=')))) out.emplace_back(kv);
  }
  return out;
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
    std::abort();  // no randomness: no key or secret could be trusted
  }
  return s;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HexOf(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace mr
