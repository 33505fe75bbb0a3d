// The command lines of deploy/: reads a systemd unit's ExecStart and an EnvironmentFile, and expands
// them the way systemd does, so that the multihost tests start the master and the workers with the
// very command lines the units ship (and deploy_check compares those with the Kubernetes manifests).
//
// Expansion (systemd.service(5), "Command lines"): "${NAME}" becomes the variable's value as one
// word (an unset variable is an error here, where systemd would pass an empty word); "$NAME" as a
// word of its own becomes the value split at whitespace (zero or more words); the specifiers "%d"
// (credentials directory), "%S" (state root) and "%%" are replaced from `specifiers`. Quoting is
// not supported: the shipped units do not use it. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace mr::multihost {

using Vars = std::map<std::string, std::string>;

// deploy/ in the source tree.
std::string DeployDir();

// KEY=VALUE lines; blank lines and lines starting with '#' are skipped; one level of surrounding
// single or double quotes is removed.
Result<Vars> ReadEnvironmentFile(const std::string& path);

// The unit's ExecStart= value as written (continuation lines joined).
Result<std::string> ReadExecStart(const std::string& unit_path);

// ExecStart expanded; argv[0] is the unit's binary path.
Result<std::vector<std::string>> ExpandExecStart(const std::string& exec_start, const Vars& env,
                                                 const std::map<char, std::string>& specifiers);

// The flags (words starting with "--") of a command line, in order.
std::vector<std::string> Flags(const std::vector<std::string>& argv);

}  // namespace mr::multihost
