// The `mr` command line (DESIGN §2): parses flags with CLI11 and dispatches to the master, the
// worker, or a client command. Returns the process exit code (client/commands.h).
#pragma once

namespace mr {

int RunCli(int argc, char** argv);

}  // namespace mr
