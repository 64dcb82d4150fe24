/* Bind checks: see bindcheck.h. The owner lookup reads the kernel's
 * socket tables (proc(5): /proc/net/tcp, tcp6, udp, udp6: "sl
 * local_address:port rem_address:port st ... inode") and the links
 * /proc/PID/fd/N -> "socket:[INODE]". */
#include "lib/bindcheck.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_LISTEN 0x0A /* st of a listening socket in /proc/net/tcp */

static int to_sockaddr(const char *address, int port, struct sockaddr_storage *ss,
                       socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    *len = sizeof *v6;
    return AF_INET6;
  }
  return -1;
}

int bindcheck_try(const char *address, int port, int type, bool reuseport) {
  struct sockaddr_storage ss;
  socklen_t len;
  int family = to_sockaddr(address, port, &ss, &len);
  if (family < 0) return EINVAL;
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int on = 1, rc = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (bind(fd, (struct sockaddr *)&ss, len) || (type == SOCK_STREAM && listen(fd, 1)))
    rc = errno;
  close(fd);
  return rc;
}

/* The inode of a socket on port in one /proc/net table (listening only
 * for TCP), or 0. */
static unsigned long table_inode(const char *table, int port, bool tcp) {
  FILE *f = fopen(table, "r");
  if (!f) return 0;
  char line[512];
  unsigned long inode = 0;
  if (!fgets(line, sizeof line, f)) line[0] = '\0'; /* the header */
  while (!inode && fgets(line, sizeof line, f)) {
    char local[64];
    unsigned lport, st;
    unsigned long ino;
    if (sscanf(line, " %*s %63[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*s %*s %lu", local, &lport,
               &st, &ino) != 4)
      continue;
    if ((int)lport == port && (!tcp || st == TCP_LISTEN)) inode = ino;
  }
  fclose(f);
  return inode;
}

/* The pid of the process with socket inode among its open files, or 0. */
static pid_t inode_pid(unsigned long inode) {
  char want[64], path[600], link[64];
  snprintf(want, sizeof want, "socket:[%lu]", inode);
  DIR *proc = opendir("/proc");
  if (!proc) return 0;
  pid_t found = 0;
  struct dirent *p;
  while (!found && (p = readdir(proc))) {
    if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
    DIR *fds = opendir(path);
    if (!fds) continue;
    struct dirent *d;
    while (!found && (d = readdir(fds))) {
      snprintf(path, sizeof path, "/proc/%s/fd/%s", p->d_name, d->d_name);
      ssize_t n = readlink(path, link, sizeof link - 1);
      if (n <= 0) continue;
      link[n] = '\0';
      if (strcmp(link, want) == 0) found = (pid_t)atol(p->d_name);
    }
    closedir(fds);
  }
  closedir(proc);
  return found;
}

pid_t bindcheck_owner(int port, int type, char *name, size_t len) {
  bool tcp = type == SOCK_STREAM;
  unsigned long inode = table_inode(tcp ? "/proc/net/tcp" : "/proc/net/udp", port, tcp);
  if (!inode) inode = table_inode(tcp ? "/proc/net/tcp6" : "/proc/net/udp6", port, tcp);
  pid_t pid = inode ? inode_pid(inode) : 0;
  if (!pid) return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f || !fgets(name, (int)len, f)) snprintf(name, len, "?");
  if (f) fclose(f);
  name[strcspn(name, "\n")] = '\0';
  return pid;
}
