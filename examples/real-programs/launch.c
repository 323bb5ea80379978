/* launch CMD ARGS...: posix_spawn()s CMD, waits, prints its getrusage(RUSAGE_CHILDREN)
 * minor faults and max RSS (kB): the faults from its execve() on, its descendants' included
 * (posix_spawn's CLONE_VFORK child makes almost none before the exec; a fork()ed one would add
 * its own). Compiled by record.mjs. */
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
  pid_t pid;
  int status;
  if (argc < 2 || posix_spawnp(&pid, argv[1], 0, 0, argv + 1, environ) != 0) return 127;
  if (waitpid(pid, &status, 0) < 0) return 127;
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  fprintf(stderr, "launch: minflt %ld majflt %ld maxrss_kb %ld status %d\n", ru.ru_minflt, ru.ru_majflt, ru.ru_maxrss, status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
