/* A stand-in for sysgate_bench in tests: takes the same --benchmark_out=FILE option and
 * writes a minimal results file whose context names the running kernel. Dynamically
 * linked on purpose, so the initramfs has libraries to carry. Built -m32 it is also the
 * stand-in ia32 helper: with SYSGATE_IA32_HELPER set, the 64-bit one runs it (`--probe`)
 * and records its exit status, which proves the 32-bit loader and libc made it into the
 * guest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int RunHelper(const char* helper) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(helper, helper, "--probe", (char*)NULL);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) return sizeof(void*) == 4 ? 0 : 1;
  const char* out = NULL;
  for (int i = 1; i < argc; ++i)
    if (strncmp(argv[i], "--benchmark_out=", 16) == 0) out = argv[i] + 16;
  const char* helper = getenv("SYSGATE_IA32_HELPER");
  int helper_status = helper ? RunHelper(helper) : -2;
  struct utsname u;
  uname(&u);
  printf("fake bench on %s, %d args, ia32 helper status %d\n", u.release, argc - 1,
         helper_status);
  if (!out) return 2;
  FILE* f = fopen(out, "w");
  if (!f) return 3;
  fprintf(f,
          "{\"context\": {\"sysgate_version\": \"0.1.0\", \"host_name\": \"%s\", "
          "\"kernel_release\": \"%s\", \"executable\": \"%s\", "
          "\"test_ia32_helper_status\": \"%d\"},\n \"benchmarks\": [{"
          "\"name\": \"getpid/syscall/manual_time\", \"run_name\": "
          "\"getpid/syscall/manual_time\", \"run_type\": \"iteration\", \"repetitions\": 1,"
          " \"repetition_index\": 0, \"threads\": 1, \"iterations\": 1000, "
          "\"real_time\": %d.5, \"cpu_time\": 100.0, \"time_unit\": \"ns\", "
          "\"label\": \"syscall\"}]}\n",
          u.nodename, u.release, argv[0], helper_status, (int)getpid() + 100);
  return fclose(f) == 0 ? 0 : 4;
}
