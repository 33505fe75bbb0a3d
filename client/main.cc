#include "client/cli.h"

int main(int argc, char** argv) { return mr::RunCli(argc, argv); }
