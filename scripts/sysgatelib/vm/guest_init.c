/* PID 1 of a sysgate guest (scripts/sysgate kernels).
 *
 * Built static by the host tool (cc -static) so the initramfs needs no shell. It mounts
 * what the benchmark reads (/proc, /sys, /sys/kernel/tracing for the tracing check, /dev),
 * runs the command line stored in /sysgate/args, ships the kernel's facts (command line,
 * CPU flags, entry-point addresses, config.gz, audit rules) and the results file back to
 * the host on the second serial port (base64 between BEGIN/END lines; the kernel console
 * stays on the first one so its messages never interleave with the data) and powers off.
 *
 * Whatever fails, it powers off: if PID 1 exits the kernel panics, and a panic only ends
 * QEMU because the host boots with panic=-1 and -no-reboot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define ARGS_FILE "/sysgate/args"
#define ENV_FILE "/sysgate/env"
#define HOSTNAME_FILE "/sysgate/hostname"
#define RESULTS_FILE "/results.json"
#define DATA_PORT "/dev/ttyS1"
#define MAX_ARGS 256

static void say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("sysgate-init: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
  va_end(ap);
}

static void power_off(void) {
  sync();
  reboot(RB_POWER_OFF);
  /* Only reached when reboot() failed; a panic (panic=-1) still ends the guest. */
  say("reboot(RB_POWER_OFF) failed: %s", strerror(errno));
  _exit(1);
}

static void mount_one(const char* source, const char* target, const char* type) {
  mkdir(target, 0755);
  if (mount(source, target, type, 0, NULL) != 0 && errno != EBUSY)
    say("mount %s on %s: %s", type, target, strerror(errno));
}

/* Reads a whole file into a NUL-terminated heap buffer; NULL when unreadable. */
static char* slurp(const char* path, size_t* size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 1 << 16, len = 0;
  char* buf = malloc(cap + 1);
  for (;;) {
    if (len == cap) buf = realloc(buf, (cap *= 2) + 1);
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = '\0';
  if (size) *size = len;
  return buf;
}

/* Splits a file of one item per line into a NULL-terminated vector (in place). */
static int split_lines(char* text, char** out, int max) {
  int n = 0;
  for (char* line = strtok(text, "\n"); line && n < max - 1; line = strtok(NULL, "\n"))
    if (*line) out[n++] = line;
  out[n] = NULL;
  return n;
}

static int write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Base64, 76 columns. */
static void base64_lines(int fd, const unsigned char* data, size_t len) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t col = 0;
  char out[80];
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned)data[i] << 16;
    if (i + 1 < len) v |= (unsigned)data[i + 1] << 8;
    if (i + 2 < len) v |= data[i + 2];
    out[col++] = kAlphabet[(v >> 18) & 63];
    out[col++] = kAlphabet[(v >> 12) & 63];
    out[col++] = i + 1 < len ? kAlphabet[(v >> 6) & 63] : '=';
    out[col++] = i + 2 < len ? kAlphabet[v & 63] : '=';
    if (col == 76) {
      out[col++] = '\n';
      write_all(fd, out, col);
      col = 0;
    }
  }
  if (col) {
    out[col++] = '\n';
    write_all(fd, out, col);
  }
}

/* The results file between delimiter lines the host looks for. */
static void ship(int fd, const unsigned char* data, size_t len, int status) {
  char line[128];
  int n = snprintf(line, sizeof line, "\nSYSGATE-RESULTS-BEGIN bytes=%zu\n", len);
  write_all(fd, line, (size_t)n);
  base64_lines(fd, data, len);
  n = snprintf(line, sizeof line, "SYSGATE-RESULTS-END status=%d\n", status);
  write_all(fd, line, (size_t)n);
}

/* One named file of the kernel's facts (results/kernel_facts.py reads them on the host). */
static void ship_file(int fd, const char* name, const char* data, size_t len) {
  char line[160];
  int n = snprintf(line, sizeof line, "\nSYSGATE-FILE-BEGIN name=%s bytes=%zu\n", name, len);
  write_all(fd, line, (size_t)n);
  base64_lines(fd, (const unsigned char*)data, len);
  n = snprintf(line, sizeof line, "SYSGATE-FILE-END name=%s\n", name);
  write_all(fd, line, (size_t)n);
}

/* The lines of /proc/kallsyms that name an entry point (their alignment is a fact). */
static char* entry_symbols(size_t* size) {
  static const char* const kSymbols[] = {
      "entry_SYSCALL_64", "entry_SYSCALL_compat", "entry_SYSENTER_compat",
      "entry_INT80_compat", "asm_int80_emulation", "asm_fred_entrypoint_user", NULL};
  char* all = slurp("/proc/kallsyms", NULL);
  if (!all) return NULL;
  char* out = malloc(4096);
  size_t len = 0;
  for (char* line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
    const char* name = strrchr(line, ' ');
    if (!name) continue;
    for (int i = 0; kSymbols[i]; ++i) {
      size_t n = strlen(line);
      if (strcmp(name + 1, kSymbols[i]) == 0 && len + n + 2 < 4096) {
        memcpy(out + len, line, n);
        len += n;
        out[len++] = '\n';
      }
    }
  }
  free(all);
  out[len] = '\0';
  *size = len;
  return out;
}

/* The number of audit rules (an AUDIT_LIST_RULES dump, what `auditctl -l` asks). */
static void audit_rules(char* out, size_t cap) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) {
    snprintf(out, cap, "unknown: no audit netlink socket (%s)", strerror(errno));
    return;
  }
  struct {
    struct nlmsghdr h;
  } req = {{.nlmsg_len = sizeof(struct nlmsghdr), .nlmsg_type = AUDIT_LIST_RULES,
            .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1}};
  struct timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (send(fd, &req, req.h.nlmsg_len, 0) < 0) {
    snprintf(out, cap, "unknown: audit netlink: %s", strerror(errno));
    close(fd);
    return;
  }
  static char buf[1 << 16];
  int rules = 0;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      snprintf(out, cap, "unknown: audit netlink: %s", n < 0 ? strerror(errno) : "closed");
      break;
    }
    struct nlmsghdr* h = (struct nlmsghdr*)buf;
    for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) goto done;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int error = ((struct nlmsgerr*)NLMSG_DATA(h))->error;
        if (error) {
          snprintf(out, cap, "unknown: audit netlink error %s", strerror(-error));
          close(fd);
          return;
        }
        goto done;
      }
      if (h->nlmsg_type == AUDIT_LIST_RULES) ++rules;
    }
  }
  close(fd);
  return;
done:
  snprintf(out, cap, "%d", rules);
  close(fd);
}

/* The raw sources of the kernel facts: command line, CPU flags, entry points, config. */
static void ship_facts(int fd) {
  size_t size = 0;
  char* text = slurp("/proc/cmdline", &size);
  if (text) ship_file(fd, "cmdline", text, size);
  free(text);
  text = slurp("/proc/cpuinfo", &size);
  if (text) ship_file(fd, "cpuinfo", text, size);
  free(text);
  text = entry_symbols(&size);
  if (text) ship_file(fd, "kallsyms", text, size);
  free(text);
  text = slurp("/proc/config.gz", &size);
  if (text) ship_file(fd, "config.gz", text, size);
  free(text);
  char audit[160];
  audit_rules(audit, sizeof audit);
  ship_file(fd, "audit_rules", audit, strlen(audit));
}

static int open_data_port(void) {
  int fd = open(DATA_PORT, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    say("%s: %s; sending results on the console", DATA_PORT, strerror(errno));
    return dup(STDOUT_FILENO);
  }
  /* Raw: no \n -> \r\n translation, no flow control waiting on a modem line. */
  struct termios tio;
  if (tcgetattr(fd, &tio) == 0) {
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL;
    tcsetattr(fd, TCSANOW, &tio);
  }
  return fd;
}

int main(void) {
  /* The kernel opened /dev/console (from the initramfs) as fds 0-2. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  mount_one("proc", "/proc", "proc");
  mount_one("sysfs", "/sys", "sysfs");
  mount_one("devtmpfs", "/dev", "devtmpfs");
  mount_one("tracefs", "/sys/kernel/tracing", "tracefs");
  mkdir("/tmp", 01777);

  /* The results' host_name: the host's name with "-qemu", not the kernel's "(none)". */
  char* hostname = slurp(HOSTNAME_FILE, NULL);
  if (hostname) {
    hostname[strcspn(hostname, "\n")] = '\0';
    if (sethostname(hostname, strlen(hostname)) != 0)
      say("sethostname: %s", strerror(errno));
  }
  struct utsname uts;
  uname(&uts);
  say("up: kernel %s %s", uts.release, uts.machine);

  char* cmdline = slurp("/proc/cmdline", NULL);
  if (cmdline && strstr(cmdline, "sysgate.probe=1")) {
    say("probe boot: powering off");
    power_off();
  }

  char* argv[MAX_ARGS];
  char* args_text = slurp(ARGS_FILE, NULL);
  if (!args_text || split_lines(args_text, argv, MAX_ARGS) == 0) {
    say("%s is missing or empty", ARGS_FILE);
    int fd = open_data_port();
    ship(fd, (const unsigned char*)"", 0, 127);
    power_off();
  }
  char* envp[MAX_ARGS];
  char* env_text = slurp(ENV_FILE, NULL);
  if (!env_text) env_text = strdup("");
  split_lines(env_text, envp, MAX_ARGS);

  say("running %s", argv[0]);
  int status = -1;
  pid_t pid = fork();
  if (pid == 0) {
    chdir("/tmp");
    execve(argv[0], argv, envp);
    say("exec %s: %s", argv[0], strerror(errno));
    _exit(127);
  }
  if (pid > 0) {
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  } else {
    say("fork: %s", strerror(errno));
  }
  say("benchmark finished with status %d", status);

  size_t size = 0;
  char* results = slurp(RESULTS_FILE, &size);
  if (!results) say("no %s: %s", RESULTS_FILE, strerror(errno));
  int fd = open_data_port();
  ship_facts(fd);
  ship(fd, (const unsigned char*)(results ? results : ""), results ? size : 0, status);
  tcdrain(fd);
  close(fd);
  say("results sent (%zu bytes); powering off", size);
  power_off();
  return 0;
}
