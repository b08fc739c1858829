#include "cli/cli.hpp"

int main(int argc, char** argv)
{
  return billing::run_cli(argc, argv);
}
