/* The syslog sink (sink.h): local syslog(3), or RFC 5424 messages with
 * structured data (alert_format.h) to a collector over UDP (RFC 5426), TCP
 * with octet-counting framing (RFC 6587 3.4.1), or a Unix datagram socket.
 *
 * Never blocks: sockets are non-blocking; a TCP connection is set up in
 * the background (the loop's POLLOUT) and kept between messages; a TCP
 * message is done when the kernel has taken it all. Neither UDP nor TCP
 * syslog has acknowledgements: a datagram the collector never got is not
 * known to be lost (use mail or SNMP informs for that). The collector's
 * name is resolved once, at start: give an address. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "alerting/alert_format.h"
#include "alerting/sink.h"
#include "lib/sched.h"

#define LINE_MAX_LEN 8192
#define CONNECT_TIMEOUT 10.0 /* s */

enum tcp_state { TCP_CLOSED, TCP_CONNECTING, TCP_CONNECTED };

struct syslog_priv {
  struct sink *sink;
  int fd;
  enum tcp_state state;
  struct sockaddr_storage addr;
  socklen_t addrlen;
  char *out;             /* TCP: the frame being written */
  size_t out_len, out_off;
  bool busy;             /* an attempt waits for done() */
  sched_timer_id timer;  /* TCP: connect/write timeout */
};

static bool local_opened;

static int resolve(struct syslog_priv *p, const struct alert_syslog_config *c, char *err,
                   size_t errlen) {
  if (c->transport == ALERT_SYSLOG_UNIX) {
    struct sockaddr_un *un = (struct sockaddr_un *)&p->addr;
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path, sizeof un->sun_path, "%s", c->path);
    p->addrlen = sizeof *un;
    return 0;
  }
  struct addrinfo hints = {.ai_socktype = c->transport == ALERT_SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM};
  struct addrinfo *res = NULL;
  char port[8];
  snprintf(port, sizeof port, "%d", c->port);
  int rc = getaddrinfo(c->host, port, &hints, &res);
  if (rc || !res) {
    snprintf(err, errlen, "syslog collector %s: %s", c->host, gai_strerror(rc));
    return -1;
  }
  memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
  p->addrlen = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}

static int open_datagram(struct syslog_priv *p, char *err, size_t errlen) {
  p->fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0) {
    snprintf(err, errlen, "syslog: socket: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static int sl_open(struct sink *s, char *err, size_t errlen) {
  const struct alert_syslog_config *c = &s->cfg->syslog;
  struct syslog_priv *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "syslog: out of memory");
    return -1;
  }
  p->sink = s;
  p->fd = -1;
  s->priv = p;
  if (c->transport == ALERT_SYSLOG_LOCAL) {
    if (!local_opened) openlog(c->ident, LOG_PID | LOG_NDELAY, c->facility);
    local_opened = true;
    return 0;
  }
  if (resolve(p, c, err, errlen)) return -1;
  if (c->transport != ALERT_SYSLOG_TCP) return open_datagram(p, err, errlen);
  return 0;
}

/* ---- TCP ---- */

static void tcp_close(struct syslog_priv *p) {
  if (p->fd >= 0) {
    sched_remove_fd(p->fd);
    close(p->fd);
  }
  p->fd = -1;
  p->state = TCP_CLOSED;
  sched_cancel_timer(p->timer);
  p->timer = 0;
}

static void finish(struct syslog_priv *p, enum outbox_result r, const char *error) {
  free(p->out);
  p->out = NULL;
  p->busy = false;
  sched_cancel_timer(p->timer);
  p->timer = 0;
  if (p->state == TCP_CONNECTED && p->fd >= 0) sched_set_fd_events(p->fd, POLLIN);
  p->sink->done(p->sink->done_ctx, r, error);
}

static void fail_tcp(struct syslog_priv *p, const char *what, int e) {
  char msg[200];
  snprintf(msg, sizeof msg, "syslog tcp: %s: %s", what, strerror(e));
  tcp_close(p);
  if (p->busy) finish(p, OUTBOX_TEMPORARY, msg);
}

static void tcp_write(struct syslog_priv *p) {
  while (p->out_off < p->out_len) {
    ssize_t n = send(p->fd, p->out + p->out_off, p->out_len - p->out_off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      sched_set_fd_events(p->fd, POLLIN | POLLOUT);
      return;
    }
    if (n < 0) {
      fail_tcp(p, "send", errno);
      return;
    }
    p->out_off += (size_t)n;
  }
  finish(p, OUTBOX_OK, NULL);
}

static void on_tcp(int fd, short revents, void *arg) {
  struct syslog_priv *p = arg;
  if (p->state == TCP_CONNECTING && (revents & (POLLOUT | POLLERR | POLLHUP))) {
    int e = 0;
    socklen_t len = sizeof e;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len);
    if (e) {
      fail_tcp(p, "connect", e);
      return;
    }
    p->state = TCP_CONNECTED;
    if (p->busy) tcp_write(p);
    return;
  }
  if (revents & (POLLIN | POLLERR | POLLHUP)) {
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      fail_tcp(p, "the collector closed the connection", n == 0 ? ECONNRESET : errno);
      return;
    }
  }
  if ((revents & POLLOUT) && p->busy) tcp_write(p);
}

static void on_tcp_timeout(void *arg) {
  struct syslog_priv *p = arg;
  p->timer = 0;
  fail_tcp(p, p->state == TCP_CONNECTING ? "connect" : "send", ETIMEDOUT);
}

static int tcp_connect(struct syslog_priv *p, char *err, size_t errlen) {
  p->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (p->fd < 0) {
    snprintf(err, errlen, "syslog tcp: socket: %s", strerror(errno));
    return -1;
  }
  if (connect(p->fd, (struct sockaddr *)&p->addr, p->addrlen) != 0 && errno != EINPROGRESS) {
    snprintf(err, errlen, "syslog tcp: connect: %s", strerror(errno));
    close(p->fd);
    p->fd = -1;
    return -1;
  }
  p->state = TCP_CONNECTING;
  if (sched_add_fd(p->fd, POLLOUT, on_tcp, p)) {
    snprintf(err, errlen, "syslog tcp: cannot watch the socket");
    close(p->fd);
    p->fd = -1;
    p->state = TCP_CLOSED;
    return -1;
  }
  return 0;
}

static int send_tcp(struct syslog_priv *p, const char *line, size_t len, char *err,
                    size_t errlen) {
  p->out = malloc(len + 16);
  if (!p->out) {
    snprintf(err, errlen, "syslog tcp: out of memory");
    return -1;
  }
  p->out_len = (size_t)snprintf(p->out, len + 16, "%zu %s", len, line);
  p->out_off = 0;
  if (p->state == TCP_CLOSED && tcp_connect(p, err, errlen)) {
    free(p->out);
    p->out = NULL;
    return -1;
  }
  /* Without its timeout a connection that hangs would hold the channel. */
  p->timer = sched_add_timer(CONNECT_TIMEOUT, on_tcp_timeout, p);
  if (!p->timer) {
    snprintf(err, errlen, "syslog tcp: no timer for the send's timeout (out of memory)");
    free(p->out);
    p->out = NULL;
    return -1;
  }
  p->busy = true;
  if (p->state == TCP_CONNECTED) tcp_write(p);
  return 0;
}

/* ---- send ---- */

static int sl_send(struct sink *s, const struct alert_note *notes, int n, char *err,
                   size_t errlen) {
  struct syslog_priv *p = s->priv;
  const struct alert_syslog_config *c = &s->cfg->syslog;
  const struct alert_note *note = &notes[0];
  (void)n; /* syslog takes one notification at a time */
  if (c->transport == ALERT_SYSLOG_LOCAL) {
    syslog(c->facility | alert_syslog_severity(note), "%s [%s seq=%lld]", note->text,
           note->event == ALERT_HEARTBEAT || note->event == ALERT_TEST ? alert_event_name(note->event) : "alert",
           (long long)note->id);
    s->done(s->done_ctx, OUTBOX_OK, NULL);
    return 0;
  }
  char *line = malloc(LINE_MAX_LEN);
  if (!line) {
    snprintf(err, errlen, "syslog: out of memory");
    return -1;
  }
  int len = alert_format_5424(note, c->facility, c->ident, (int)getpid(), line, LINE_MAX_LEN);
  if (len < 0) {
    free(line);
    snprintf(err, errlen, "syslog: message too long");
    return -1;
  }
  int rc = 0;
  if (c->transport == ALERT_SYSLOG_TCP) {
    rc = send_tcp(p, line, (size_t)len, err, errlen);
  } else if (sendto(p->fd, line, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&p->addr,
                    p->addrlen) < 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "syslog %s: %s", c->transport == ALERT_SYSLOG_UNIX ? "unix" : "udp",
             strerror(errno));
    s->done(s->done_ctx, OUTBOX_TEMPORARY, msg);
  } else {
    s->done(s->done_ctx, OUTBOX_OK, NULL);
  }
  free(line);
  return rc;
}

static void sl_close(struct sink *s) {
  struct syslog_priv *p = s->priv;
  if (!p) return;
  if (s->cfg->syslog.transport == ALERT_SYSLOG_TCP) tcp_close(p);
  else if (p->fd >= 0) close(p->fd);
  free(p->out);
  free(p);
  s->priv = NULL;
}

const struct sink_ops sink_syslog_ops = {"syslog", sl_open, sl_send, sl_close};
