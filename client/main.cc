#include "client/cli.h"
#include "common/fd_limit.h"
#include "worker/task_process.h"

#include <cstring>

int main(int argc, char** argv) {
  // A worker's task process (worker/task_process.h): not a command for users, and no flags.
  if (argc >= 2 && std::strcmp(argv[1], "task-process") == 0) return mr::RunTaskProcessMain();
  mr::RaiseFdLimit();  // before anything opens a descriptor; master and worker log it
  return mr::RunCli(argc, argv);
}
