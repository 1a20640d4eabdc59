/* A stand-in for sysgate_bench in tests: takes the same --benchmark_out=FILE option and
 * writes a minimal results file whose context names the running kernel. Dynamically
 * linked on purpose, so the initramfs has libraries to carry. */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* out = NULL;
  for (int i = 1; i < argc; ++i)
    if (strncmp(argv[i], "--benchmark_out=", 16) == 0) out = argv[i] + 16;
  struct utsname u;
  uname(&u);
  printf("fake bench on %s, %d args\n", u.release, argc - 1);
  if (!out) return 2;
  FILE* f = fopen(out, "w");
  if (!f) return 3;
  fprintf(f,
          "{\"context\": {\"sysgate_version\": \"0.1.0\", \"host_name\": \"%s\", "
          "\"kernel_release\": \"%s\", \"executable\": \"%s\"},\n \"benchmarks\": [{"
          "\"name\": \"getpid/syscall/manual_time\", \"run_name\": "
          "\"getpid/syscall/manual_time\", \"run_type\": \"iteration\", \"repetitions\": 1,"
          " \"repetition_index\": 0, \"threads\": 1, \"iterations\": 1000, "
          "\"real_time\": %d.5, \"cpu_time\": 100.0, \"time_unit\": \"ns\", "
          "\"label\": \"syscall\"}]}\n",
          u.nodename, u.release, argv[0], (int)getpid() + 100);
  return fclose(f) == 0 ? 0 : 4;
}
