/*
 * The probe: a static program run inside containers by the tests. It reports what the
 * process sees, one "section: value" line each, in a stable order, so that the same bundle
 * run under runc and under tsrun can be compared line by line.
 *
 *   probe [report]     everything below
 *   probe sleep N      sleep N seconds (a container that stays up)
 *   probe exit N       exit with status N
 *   probe sched        scheduler policy, nice, I/O priority, CPU affinity, personality,
 *                      oom_score_adj
 *   probe syscall CALL [-- CALL ...]
 *                      make raw system calls and print "syscall NAME = RET" or
 *                      "syscall NAME = -1 ERRNO" for each. CALL is a name (or number)
 *                      and its arguments: integers, s:TEXT (a pointer to TEXT) or
 *                      b:N (a pointer to N zeroed bytes)
 *   probe seccomp-filter PID
 *                      on the host, as root: the seccomp filter of PID, one
 *                      "insn CODE JT JF K" line (hex) per instruction (ptrace)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int cmp_str(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static void status_lines(void) {
  static const char* keys[] = {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
                               "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:", NULL};
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) {
    printf("status: error %s\n", strerror(errno));
    return;
  }
  char line[1024];
  while (fgets(line, sizeof(line), f)) {
    for (int i = 0; keys[i]; i++) {
      if (strncmp(line, keys[i], strlen(keys[i])) == 0) {
        char* v = line + strlen(keys[i]);
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        /* Groups ends with a space on some kernels */
        size_t n = strlen(v);
        while (n && v[n - 1] == ' ') v[--n] = 0;
        printf("status %.*s %s\n", (int)strlen(keys[i]) - 1, keys[i], v);
      }
    }
  }
  fclose(f);
}

static void env_lines(void) {
  int n = 0;
  while (environ[n]) n++;
  char** sorted = calloc((size_t)n + 1, sizeof(char*));
  memcpy(sorted, environ, (size_t)n * sizeof(char*));
  qsort(sorted, (size_t)n, sizeof(char*), cmp_str);
  for (int i = 0; i < n; i++) printf("env %s\n", sorted[i]);
  free(sorted);
}

static void rlimit_lines(void) {
  static const struct { int res; const char* name; } r[] = {
      {RLIMIT_AS, "AS"}, {RLIMIT_CORE, "CORE"}, {RLIMIT_CPU, "CPU"}, {RLIMIT_DATA, "DATA"},
      {RLIMIT_FSIZE, "FSIZE"}, {RLIMIT_LOCKS, "LOCKS"}, {RLIMIT_MEMLOCK, "MEMLOCK"},
      {RLIMIT_MSGQUEUE, "MSGQUEUE"}, {RLIMIT_NICE, "NICE"}, {RLIMIT_NOFILE, "NOFILE"},
      {RLIMIT_NPROC, "NPROC"}, {RLIMIT_RSS, "RSS"}, {RLIMIT_RTPRIO, "RTPRIO"},
      {RLIMIT_RTTIME, "RTTIME"}, {RLIMIT_SIGPENDING, "SIGPENDING"}, {RLIMIT_STACK, "STACK"}};
  for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
    struct rlimit l;
    getrlimit(r[i].res, &l);
    printf("rlimit %s %lld %lld\n", r[i].name,
           l.rlim_cur == RLIM_INFINITY ? -1LL : (long long)l.rlim_cur,
           l.rlim_max == RLIM_INFINITY ? -1LL : (long long)l.rlim_max);
  }
}

static void fd_lines(void) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) {
    printf("fd error %s\n", strerror(errno));
    return;
  }
  int self = dirfd(d);
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == self) continue;
    char path[300], target[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n < 0 ? 0 : n] = 0;
    /* pipe:[1234] and socket:[..] numbers differ between runs */
    char* bracket = strchr(target, '[');
    if (bracket) *bracket = 0;
    printf("fd %s %s\n", e->d_name, target);
  }
  closedir(d);
}

/* mountinfo: mount point, fstype, per-mount options, and the source and superblock
 * options where they say something about the container (not ids or host device names). */
static void mount_lines(void) {
  FILE* f = fopen("/proc/self/mountinfo", "r");
  if (!f) {
    printf("mount error %s\n", strerror(errno));
    return;
  }
  char line[4096];
  while (fgets(line, sizeof(line), f)) {
    char* fields[32];
    int n = 0;
    for (char* tok = strtok(line, " \n"); tok && n < 32; tok = strtok(NULL, " \n")) fields[n++] = tok;
    int dash = -1;
    for (int i = 6; i < n; i++) {
      if (strcmp(fields[i], "-") == 0) {
        dash = i;
        break;
      }
    }
    if (dash < 0 || dash + 3 > n) continue;
    printf("mount %s %s %s root=%s\n", fields[4], fields[dash + 1], fields[5], fields[3]);
  }
  fclose(f);
}

static void dev_lines(const char* dir) {
  DIR* d = opendir(dir);
  if (!d) {
    printf("dev %s error %s\n", dir, strerror(errno));
    return;
  }
  char* names[512];
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) && n < 512) {
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof(char*), cmp_str);
  for (int i = 0; i < n; i++) {
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
    struct stat st;
    if (lstat(path, &st) < 0) {
      printf("dev %s error %s\n", path, strerror(errno));
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t len = readlink(path, target, sizeof(target) - 1);
      target[len < 0 ? 0 : len] = 0;
      printf("dev %s link %s\n", path, target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      printf("dev %s %s %o %u:%u uid=%u gid=%u\n", path, S_ISCHR(st.st_mode) ? "char" : "block",
             st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev), st.st_uid, st.st_gid);
    } else {
      printf("dev %s %s %o\n", path, S_ISDIR(st.st_mode) ? "dir" : "file", st.st_mode & 07777);
    }
    free(names[i]);
  }
}

/* What a masked or read-only path looks like from inside: readable? writable? */
static void path_lines(void) {
  static const char* paths[] = {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                "/proc/sysrq-trigger", NULL};
  for (int i = 0; paths[i]; i++) {
    struct stat st;
    if (stat(paths[i], &st) < 0) {
      printf("path %s missing\n", paths[i]);
      continue;
    }
    const char* kind = S_ISDIR(st.st_mode) ? "dir" : S_ISCHR(st.st_mode) ? "char" : "file";
    int entries = -1;
    if (S_ISDIR(st.st_mode)) {
      DIR* d = opendir(paths[i]);
      entries = 0;
      if (d) {
        while (readdir(d)) entries++;
        closedir(d);
      }
    }
    printf("path %s %s entries=%d writable=%s\n", paths[i], kind, entries,
           access(paths[i], W_OK) == 0 ? "yes" : "no");
  }
}

/* The session keyring: runc (and tsrun) give each container "_ses.<id>" unless told not to. */
static void keyring_line(void) {
  char desc[256];
  long n = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, -3 /* KEY_SPEC_SESSION_KEYRING */, desc, sizeof(desc) - 1, 0);
  if (n < 0) {
    printf("keyring error %s\n", strerror(errno));
    return;
  }
  desc[n < (long)sizeof(desc) ? n : (long)sizeof(desc) - 1] = 0;
  /* type;uid;gid;perm;description */
  char* name = strrchr(desc, ';');
  char* perm = desc;
  for (int i = 0; i < 3 && perm; i++) perm = strchr(perm + 1, ';');
  printf("keyring %s perm %.8s\n", name ? name + 1 : desc, perm ? perm + 1 : "?");
}

static void sched_report(void) {
  printf("policy %d\n", sched_getscheduler(0));
  errno = 0;
  printf("nice %d\n", getpriority(PRIO_PROCESS, 0));
  printf("ioprio 0x%lx\n", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  printf("cpus");
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (CPU_ISSET(c, &set)) printf(" %d", c);
  }
  printf("\npersonality 0x%x\n", personality(0xffffffff));
  char buf[32] = {0};
  FILE* f = fopen("/proc/self/oom_score_adj", "r");
  if (f && fgets(buf, sizeof(buf), f)) printf("oom_score_adj %s", buf);
  if (f) fclose(f);
}

static void report(void) {
  char buf[PATH_MAX];
  printf("args ok\n");
  printf("pid %d\n", (int)getpid());
  status_lines();
  mode_t m = umask(0);
  umask(m);
  printf("umask %04o\n", m);
  printf("cwd %s\n", getcwd(buf, sizeof(buf)) ? buf : strerror(errno));
  printf("hostname %s\n", gethostname(buf, sizeof(buf)) == 0 ? buf : strerror(errno));
  printf("sid %d pgid %d\n", (int)getsid(0), (int)getpgid(0));
  keyring_line();
  env_lines();
  rlimit_lines();
  fd_lines();
  mount_lines();
  dev_lines("/dev");
  path_lines();
}

/* The syscalls tests name; any other is given by number. */
static const struct { const char* name; long nr; } syscall_names[] = {
    {"getpid", SYS_getpid},       {"getppid", SYS_getppid},       {"getcwd", SYS_getcwd},
    {"mkdir", SYS_mkdir},         {"mkdirat", SYS_mkdirat},       {"rmdir", SYS_rmdir},
    {"chmod", SYS_chmod},         {"fchmodat", SYS_fchmodat},     {"unshare", SYS_unshare},
    {"setns", SYS_setns},         {"mount", SYS_mount},           {"umount2", SYS_umount2},
    {"keyctl", SYS_keyctl},       {"add_key", SYS_add_key},       {"personality", SYS_personality},
    {"clone", SYS_clone},         {"clone3", SYS_clone3},         {"socket", SYS_socket},
    {"ptrace", SYS_ptrace},       {"bpf", SYS_bpf},               {"chroot", SYS_chroot},
    {"sethostname", SYS_sethostname}, {"uname", SYS_uname},       {"syslog", SYS_syslog},
    {"acct", SYS_acct},           {"reboot", SYS_reboot},         {"userfaultfd", SYS_userfaultfd},
    {"io_uring_setup", SYS_io_uring_setup}, {"perf_event_open", SYS_perf_event_open},
    {"kill", SYS_kill},           {"getuid", SYS_getuid},         {"setuid", SYS_setuid},
    {"umask", SYS_umask},         {"dup", SYS_dup},               {"close", SYS_close},
};

static int syscall_call(int argc, char** argv) {
  pid_t self = getpid();
  const char* name = argv[0];
  long nr = -1;
  for (size_t i = 0; i < sizeof(syscall_names) / sizeof(syscall_names[0]); i++) {
    if (strcmp(syscall_names[i].name, name) == 0) nr = syscall_names[i].nr;
  }
  if (nr < 0) {
    char* end;
    nr = strtol(name, &end, 0);
    if (*end || nr < 0) {
      fprintf(stderr, "probe: unknown syscall %s\n", name);
      return 2;
    }
  }
  long args[6] = {0};
  for (int i = 1; i < argc && i <= 6; i++) {
    if (strncmp(argv[i], "s:", 2) == 0) {
      args[i - 1] = (long)(argv[i] + 2);
    } else if (strncmp(argv[i], "b:", 2) == 0) {
      args[i - 1] = (long)calloc(1, (size_t)strtoul(argv[i] + 2, NULL, 0) + 1);
    } else {
      args[i - 1] = (long)strtoull(argv[i], NULL, 0);
    }
  }
  errno = 0;
  long ret = syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
  int err = errno;
  /* a successful clone or fork: the child has nothing to report */
  if (getpid() != self) _exit(0);
  if (ret == -1 && err) printf("syscall %s = -1 %s\n", name, strerrorname_np(err));
  else printf("syscall %s = %ld\n", name, ret);
  fflush(stdout);
  return 0;
}

static int syscalls(int argc, char** argv) {
  int start = 0;
  for (int i = 0; i <= argc; i++) {
    if (i == argc || strcmp(argv[i], "--") == 0) {
      if (i > start && syscall_call(i - start, argv + start) != 0) return 2;
      start = i + 1;
    }
  }
  return 0;
}

/* The filter loaded in another process, read through ptrace as a debugger would. */
static int seccomp_filter(pid_t pid) {
  if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) {
    fprintf(stderr, "probe: ptrace %d: %s\n", (int)pid, strerror(errno));
    return 1;
  }
  int status;
  if (waitpid(pid, &status, __WALL) < 0) {
    fprintf(stderr, "probe: waitpid %d: %s\n", (int)pid, strerror(errno));
    return 1;
  }
  int rc = 0;
  long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
  if (n < 0) {
    fprintf(stderr, "probe: PTRACE_SECCOMP_GET_FILTER: %s\n", strerror(errno));
    rc = 1;
  } else {
    struct { unsigned short code; unsigned char jt, jf; unsigned int k; } *insns = calloc((size_t)n, 8);
    if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, insns) != n) {
      fprintf(stderr, "probe: PTRACE_SECCOMP_GET_FILTER: %s\n", strerror(errno));
      rc = 1;
    }
    for (long i = 0; rc == 0 && i < n; i++) {
      printf("insn %x %x %x %x\n", insns[i].code, insns[i].jt, insns[i].jf, insns[i].k);
    }
    free(insns);
  }
  ptrace(PTRACE_DETACH, pid, 0, 0);
  return rc;
}

/* Touches N MiB, one page at a time, then sleeps: a memory-limit test's OOM victim. */
static int memhog(long mib) {
  long page = sysconf(_SC_PAGESIZE);
  for (long i = 0; i < mib; i++) {
    char* p = malloc(1 << 20);
    if (!p) {
      fprintf(stderr, "memhog: malloc failed after %ld MiB\n", i);
      return 1;
    }
    for (long off = 0; off < (1 << 20); off += page) p[off] = 1;
  }
  printf("memhog %ld MiB\n", mib);
  fflush(stdout);
  pause();
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "memhog") == 0) return memhog(atol(argv[2]));
  if (argc >= 3 && strcmp(argv[1], "sleep") == 0) {
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "exit") == 0) return atoi(argv[2]);
  if (argc == 2 && strcmp(argv[1], "sched") == 0) {
    sched_report();
    return 0;
  }
  if (argc == 1 || strcmp(argv[1], "report") == 0) {
    report();
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "syscall") == 0) return syscalls(argc - 2, argv + 2);
  if (argc == 3 && strcmp(argv[1], "seccomp-filter") == 0) return seccomp_filter((pid_t)atoi(argv[2]));
  fprintf(stderr, "usage: probe [report] | sleep N | exit N | memhog MIB | sched | syscall CALL [-- CALL...] | seccomp-filter PID\n");
  return 2;
}
