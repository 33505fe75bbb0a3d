#include "client/cli.h"
#include "common/fd_limit.h"

int main(int argc, char** argv) {
  mr::RaiseFdLimit();  // before anything opens a descriptor; master and worker log it
  return mr::RunCli(argc, argv);
}
