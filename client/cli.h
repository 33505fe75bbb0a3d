// The `mr` command line (DESIGN §2): one table of commands (client/cli.cc), each adding its flags to
// a CLI11 subcommand and returning the action run when it is chosen — the master, the worker, or a
// client command. Options may come before the command (`mr --master H:P jobs`); an unknown command
// or flag is answered with the closest known one. Returns the process exit code (client/commands.h).
#pragma once

namespace mr {

int RunCli(int argc, char** argv);

}  // namespace mr
