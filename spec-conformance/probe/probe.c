/*
 * oci-probe: the static program the conformance suite runs inside containers. It reports
 * what the process sees, one "key value" line each, so that a check compares facts with
 * config.json without trusting the runtime under test. Commands run in order; "--"
 * separates them:
 *
 *   oci-probe report                       identity, capabilities, limits, namespaces...
 *   oci-probe stat PATH...                 type, mode, device numbers, owner (lstat)
 *   oci-probe read PATH...                 bytes readable from a file, entries of a dir
 *   oci-probe cat PATH...                  the first line of a file
 *   oci-probe open r|w PATH...             whether open(2) for reading or writing succeeds
 *   oci-probe write PATH...                whether a file (or a new file in a dir) is writable
 *   oci-probe mounts                       /proc/self/mountinfo, one line per mount
 *   oci-probe sysctl KEY...                values under /proc/sys
 *   oci-probe call NAME [ARG]              one system call (seccomp checks): getcwd,
 *                                          umask MODE, mkdir PATH, getppid
 *   oci-probe echo TEXT                    print TEXT (marks how far a run got)
 *   oci-probe out PATH                     from here on, append the output to PATH (hooks)
 *   oci-probe touch PATH                   create PATH
 *   oci-probe sleep N | exit N
 *
 * Output goes to stdout, which is the stdout of the runtime's create command.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static const char* errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EBUSY: return "EBUSY";
    case ENXIO: return "ENXIO";
    case EIO: return "EIO";
    case ENODEV: return "ENODEV";
    case ENOSPC: return "ENOSPC";
    case EXDEV: return "EXDEV";
    case ETXTBSY: return "ETXTBSY";
    default: {
      static char buf[32];
      snprintf(buf, sizeof(buf), "E%d", e);
      return buf;
    }
  }
}

/* Values are printed with newlines and backslashes escaped so that one fact is one line. */
static void put_escaped(const char* s) {
  for (; *s; s++) {
    if (*s == '\n') fputs("\\n", stdout);
    else if (*s == '\\') fputs("\\\\", stdout);
    else putchar(*s);
  }
}

static void status_lines(void) {
  static const char* keys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", NULL};
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) {
    printf("status error %s\n", errname(errno));
    return;
  }
  char line[1024];
  while (fgets(line, sizeof(line), f)) {
    for (int i = 0; keys[i]; i++) {
      size_t k = strlen(keys[i]);
      if (strncmp(line, keys[i], k) == 0 && line[k] == ':') {
        char* v = line + k + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        printf("%s %s\n", keys[i], v);
      }
    }
  }
  fclose(f);
}

static void file_lines(const char* key, const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) {
    printf("%s error %s\n", key, errname(errno));
    return;
  }
  char line[1024];
  while (fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = 0;
    /* uid_map pads its columns with spaces: one space between fields */
    char out[1024];
    size_t o = 0;
    int space = 0;
    for (char* p = line; *p && o < sizeof(out) - 1; p++) {
      if (*p == ' ' || *p == '\t') {
        space = o > 0;
        continue;
      }
      if (space) out[o++] = ' ';
      space = 0;
      out[o++] = *p;
    }
    out[o] = 0;
    printf("%s %s\n", key, out);
  }
  fclose(f);
}

static void rlimit_lines(void) {
  static const struct {
    int res;
    const char* name;
  } r[] = {{RLIMIT_AS, "RLIMIT_AS"},         {RLIMIT_CORE, "RLIMIT_CORE"},
           {RLIMIT_CPU, "RLIMIT_CPU"},       {RLIMIT_DATA, "RLIMIT_DATA"},
           {RLIMIT_FSIZE, "RLIMIT_FSIZE"},   {RLIMIT_LOCKS, "RLIMIT_LOCKS"},
           {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"}, {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
           {RLIMIT_NICE, "RLIMIT_NICE"},     {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
           {RLIMIT_NPROC, "RLIMIT_NPROC"},   {RLIMIT_RSS, "RLIMIT_RSS"},
           {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"}, {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
           {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"}, {RLIMIT_STACK, "RLIMIT_STACK"}};
  for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
    struct rlimit l;
    if (getrlimit(r[i].res, &l) < 0) {
      printf("rlimit %s error %s\n", r[i].name, errname(errno));
      continue;
    }
    printf("rlimit %s %llu %llu\n", r[i].name, (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
  }
}

static void fd_lines(void) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) {
    printf("fd error %s\n", errname(errno));
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
    printf("fd %s %s\n", e->d_name, target);
  }
  closedir(d);
}

static void ns_lines(void) {
  static const char* names[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts", NULL};
  for (int i = 0; names[i]; i++) {
    char path[64], target[128];
    snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) {
      printf("ns %s error %s\n", names[i], errname(errno));
      continue;
    }
    target[n] = 0;
    printf("ns %s %s\n", names[i], target);
  }
}

/* ioprio_get(IOPRIO_WHO_PROCESS, 0): class in the top 3 bits of 16, level below */
static void ioprio_line(void) {
  long v = syscall(SYS_ioprio_get, 1, 0);
  if (v < 0) {
    printf("ioprio error %s\n", errname(errno));
    return;
  }
  printf("ioprio %ld %ld\n", (v >> 13) & 7, v & 0x1fff);
}

static void sched_lines(void) {
  int policy = sched_getscheduler(0);
  struct sched_param p;
  sched_getparam(0, &p);
  /* SCHED_RESET_ON_FORK is or-ed into the policy */
  printf("sched_policy %d\n", policy & ~SCHED_RESET_ON_FORK);
  printf("sched_reset_on_fork %d\n", (policy & SCHED_RESET_ON_FORK) ? 1 : 0);
  printf("sched_priority %d\n", p.sched_priority);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  printf("nice %d\n", errno ? 99 : nice);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    printf("cpus");
    const char* sep = " ";
    for (int c = 0; c < CPU_SETSIZE; c++) {
      if (CPU_ISSET(c, &set)) {
        printf("%s%d", sep, c);
        sep = ",";
      }
    }
    printf("\n");
  }
}

static void mountinfo_lines(void) {
  FILE* f = fopen("/proc/self/mountinfo", "r");
  if (!f) {
    printf("mount error %s\n", errname(errno));
    return;
  }
  char line[8192];
  while (fgets(line, sizeof(line), f)) {
    char* fields[64];
    int n = 0;
    for (char* tok = strtok(line, " \n"); tok && n < 64; tok = strtok(NULL, " \n")) fields[n++] = tok;
    int dash = -1;
    for (int i = 6; i < n; i++) {
      if (strcmp(fields[i], "-") == 0) {
        dash = i;
        break;
      }
    }
    if (dash < 0 || dash + 3 > n) continue;
    /* mount <point> <fstype> <source> <mount options> <super options> <propagation> root=<root> */
    char prop[512] = "";
    for (int i = 6; i < dash; i++) {
      if (prop[0]) strncat(prop, ",", sizeof(prop) - strlen(prop) - 1);
      strncat(prop, fields[i], sizeof(prop) - strlen(prop) - 1);
    }
    printf("mount %s %s %s %s %s %s root=%s\n", fields[4], fields[dash + 1], fields[dash + 2], fields[5],
           fields[dash + 3], prop[0] ? prop : "private", fields[3]);
  }
  fclose(f);
}

static void argv_lines(void) {
  FILE* f = fopen("/proc/self/cmdline", "r");
  if (!f) {
    printf("argv error %s\n", errname(errno));
    return;
  }
  char arg[4096];
  int i = 0, c;
  size_t n = 0;
  while ((c = fgetc(f)) != EOF) {
    if (c == 0) {
      arg[n] = 0;
      printf("argv %d ", i++);
      put_escaped(arg);
      printf("\n");
      n = 0;
    } else if (n < sizeof(arg) - 1) {
      arg[n++] = (char)c;
    }
  }
  fclose(f);
  printf("argc %d\n", i);
}

static void report(void) {
  char buf[PATH_MAX];
  printf("pid %d\n", (int)getpid());
  argv_lines();
  printf("ppid %d\n", (int)getppid());
  printf("uid %d\n", (int)getuid());
  printf("euid %d\n", (int)geteuid());
  printf("gid %d\n", (int)getgid());
  printf("egid %d\n", (int)getegid());
  gid_t groups[256];
  int ng = getgroups(256, groups);
  printf("groups");
  for (int i = 0; i < ng; i++) printf("%s%d", i ? "," : " ", (int)groups[i]);
  printf("\n");
  mode_t m = umask(0);
  umask(m);
  printf("umask %04o\n", m);
  if (getcwd(buf, sizeof(buf))) printf("cwd %s\n", buf);
  else printf("cwd error %s\n", errname(errno));
  struct utsname u;
  if (uname(&u) == 0) {
    printf("hostname %s\n", u.nodename);
    printf("domainname %s\n", u.domainname);
    printf("machine %s\n", u.machine);
  }
  printf("personality 0x%x\n", (unsigned)personality(0xffffffff));
  status_lines();
  file_lines("oom_score_adj", "/proc/self/oom_score_adj");
  rlimit_lines();
  ns_lines();
  file_lines("uid_map", "/proc/self/uid_map");
  file_lines("gid_map", "/proc/self/gid_map");
  file_lines("setgroups", "/proc/self/setgroups");
  file_lines("cgroup", "/proc/self/cgroup");
  sched_lines();
  ioprio_line();
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  printf("clock_monotonic %lld\n", (long long)ts.tv_sec);
  clock_gettime(CLOCK_BOOTTIME, &ts);
  printf("clock_boottime %lld\n", (long long)ts.tv_sec);
  printf("isatty %d %d %d\n", isatty(0), isatty(1), isatty(2));
  fd_lines();
  for (int i = 0; environ[i]; i++) {
    printf("env ");
    put_escaped(environ[i]);
    printf("\n");
  }
}

static void stat_line(const char* path) {
  struct stat st;
  if (lstat(path, &st) < 0) {
    printf("stat %s error %s\n", path, errname(errno));
    return;
  }
  const char* type = S_ISCHR(st.st_mode)    ? "c"
                     : S_ISBLK(st.st_mode)  ? "b"
                     : S_ISFIFO(st.st_mode) ? "p"
                     : S_ISDIR(st.st_mode)  ? "dir"
                     : S_ISLNK(st.st_mode)  ? "link"
                     : S_ISSOCK(st.st_mode) ? "socket"
                                            : "file";
  printf("stat %s type=%s mode=%04o major=%u minor=%u uid=%u gid=%u size=%lld", path, type,
         (unsigned)(st.st_mode & 07777), major(st.st_rdev), minor(st.st_rdev), (unsigned)st.st_uid,
         (unsigned)st.st_gid, (long long)st.st_size);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    target[n < 0 ? 0 : n] = 0;
    printf(" target=%s", target);
  }
  printf("\n");
}

static void read_line(const char* path) {
  struct stat st;
  if (stat(path, &st) < 0) {
    printf("read %s error %s\n", path, errname(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    DIR* d = opendir(path);
    if (!d) {
      printf("read %s error %s\n", path, errname(errno));
      return;
    }
    int entries = 0;
    struct dirent* e;
    while ((e = readdir(d))) {
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
    }
    closedir(d);
    printf("read %s entries=%d\n", path, entries);
    return;
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    printf("read %s error %s\n", path, errname(errno));
    return;
  }
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf));
  int e = errno;
  close(fd);
  if (n < 0) printf("read %s error %s\n", path, errname(e));
  else printf("read %s bytes=%zd\n", path, n);
}

static void cat_line(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) {
    printf("cat %s error %s\n", path, errname(errno));
    return;
  }
  char buf[4096] = "";
  if (!fgets(buf, sizeof(buf), f)) buf[0] = 0;
  int e = ferror(f) ? errno : 0;
  fclose(f);
  buf[strcspn(buf, "\n")] = 0;
  if (e) printf("cat %s error %s\n", path, errname(e));
  else printf("cat %s %s\n", path, buf);
}

static void open_line(const char* how, const char* path) {
  int fd = open(path, (how[0] == 'w' ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    printf("open %s %s error %s\n", how, path, errname(errno));
    return;
  }
  close(fd);
  printf("open %s %s ok\n", how, path);
}

static void write_line(const char* path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/.oci-probe-%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
      printf("write %s error %s\n", path, errname(errno));
      return;
    }
    close(fd);
    unlink(tmp);
    printf("write %s ok\n", path);
    return;
  }
  int fd = open(path, O_WRONLY | O_APPEND);
  if (fd < 0) {
    printf("write %s error %s\n", path, errname(errno));
    return;
  }
  close(fd);
  printf("write %s ok\n", path);
}

static void sysctl_line(const char* key) {
  char path[PATH_MAX] = "/proc/sys/";
  size_t o = strlen(path);
  for (const char* k = key; *k && o < sizeof(path) - 1; k++) path[o++] = *k == '.' ? '/' : *k;
  path[o] = 0;
  FILE* f = fopen(path, "r");
  if (!f) {
    printf("sysctl %s error %s\n", key, errname(errno));
    return;
  }
  char buf[1024] = "";
  if (!fgets(buf, sizeof(buf), f)) buf[0] = 0;
  fclose(f);
  buf[strcspn(buf, "\n")] = 0;
  /* some files separate fields with tabs */
  for (char* p = buf; *p; p++)
    if (*p == '\t') *p = ' ';
  printf("sysctl %s %s\n", key, buf);
}

static void call_line(const char* name, const char* arg) {
  long r = -1;
  errno = 0;
  char buf[PATH_MAX];
  if (strcmp(name, "getcwd") == 0) r = syscall(SYS_getcwd, buf, sizeof(buf));
  else if (strcmp(name, "umask") == 0) r = syscall(SYS_umask, arg ? strtol(arg, NULL, 8) : 022);
  else if (strcmp(name, "mkdir") == 0) r = syscall(SYS_mkdir, arg ? arg : "/tmp/oci-probe-dir", 0755);
  else if (strcmp(name, "getppid") == 0) r = syscall(SYS_getppid);
  else {
    printf("call %s unknown\n", name);
    return;
  }
  if (r < 0) printf("call %s error %s\n", name, errname(errno));
  else printf("call %s ok\n", name);
  fflush(stdout);
}

static int run(int argc, char** argv) {
  const char* cmd = argv[0];
  if (strcmp(cmd, "report") == 0) report();
  else if (strcmp(cmd, "mounts") == 0) mountinfo_lines();
  else if (strcmp(cmd, "stat") == 0) for (int i = 1; i < argc; i++) stat_line(argv[i]);
  else if (strcmp(cmd, "read") == 0) for (int i = 1; i < argc; i++) read_line(argv[i]);
  else if (strcmp(cmd, "open") == 0 && argc >= 2) for (int i = 2; i < argc; i++) open_line(argv[1], argv[i]);
  else if (strcmp(cmd, "cat") == 0) for (int i = 1; i < argc; i++) cat_line(argv[i]);
  else if (strcmp(cmd, "write") == 0) for (int i = 1; i < argc; i++) write_line(argv[i]);
  else if (strcmp(cmd, "sysctl") == 0) for (int i = 1; i < argc; i++) sysctl_line(argv[i]);
  else if (strcmp(cmd, "call") == 0 && argc >= 2) call_line(argv[1], argc >= 3 ? argv[2] : NULL);
  else if (strcmp(cmd, "echo") == 0) printf("echo %s\n", argc >= 2 ? argv[1] : "");
  else if (strcmp(cmd, "out") == 0 && argc >= 2) {
    if (!freopen(argv[1], "a", stdout)) {
      fprintf(stderr, "oci-probe: %s: %s\n", argv[1], strerror(errno));
      return 2;
    }
  }
  else if (strcmp(cmd, "touch") == 0 && argc >= 2) {
    int fd = open(argv[1], O_WRONLY | O_CREAT, 0644);
    if (fd < 0) printf("touch %s error %s\n", argv[1], errname(errno));
    else close(fd);
  } else if (strcmp(cmd, "sleep") == 0 && argc >= 2) {
    fflush(stdout);
    sleep((unsigned)atoi(argv[1]));
  } else if (strcmp(cmd, "exit") == 0 && argc >= 2) {
    fflush(stdout);
    exit(atoi(argv[1]));
  } else {
    fprintf(stderr, "oci-probe: unknown command %s\n", cmd);
    return 2;
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    report();
    return 0;
  }
  int start = 1;
  for (int i = 1; i <= argc; i++) {
    if (i == argc || strcmp(argv[i], "--") == 0) {
      if (i > start) {
        int rc = run(i - start, argv + start);
        if (rc) return rc;
      }
      start = i + 1;
    }
  }
  return 0;
}
