#include "version.h"

#include <cstdio>

int main() {
  std::printf("pgbackup-agent %s\n", pgbackup::kVersion);
  return 0;
}
