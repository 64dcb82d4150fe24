/* The mail sink (sink.h): RFC 5322 messages (alert_format.h) over SMTP
 * with libcurl, driven from the daemon's loop through the multi interface
 * (its socket and timer callbacks registered on lib/sched.h, as curl's
 * docs/examples/multi-event.c does with libevent). smtp:// and smtps://,
 * STARTTLS (required when configured), AUTH, several recipients.
 *
 * Outcome: 2xx all through: delivered. A 5xx reply (to MAIL, RCPT or the
 * end of DATA) is permanent; a 4xx reply, a refused connection, a timeout
 * or a TLS failure is temporary. One recipient refused fails the whole
 * message (curl's default): a wrong address is loud, not silent. */
#include <curl/curl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerting/alert_format.h"
#include "alerting/sink.h"
#include "lib/log.h"
#include "lib/sched.h"

#define MESSAGE_MAX (ALERT_EVIDENCE_LEN * 2 + 16384) /* one notification */
#define CONNECT_TIMEOUT_MS 10000L

struct mail_priv {
  struct sink *sink;
  CURLM *multi;
  sched_timer_id timer;
  CURL *easy;              /* the transfer in flight, or NULL */
  struct curl_slist *rcpt;
  char *msg;
  size_t len, off;
  char errbuf[CURL_ERROR_SIZE];
};

static size_t read_payload(char *buf, size_t size, size_t nmemb, void *arg) {
  struct mail_priv *p = arg;
  size_t n = size * nmemb, left = p->len - p->off;
  if (n > left) n = left;
  memcpy(buf, p->msg + p->off, n);
  p->off += n;
  return n;
}

static void drop_transfer(struct mail_priv *p) {
  if (p->easy) {
    curl_multi_remove_handle(p->multi, p->easy);
    curl_easy_cleanup(p->easy);
  }
  p->easy = NULL;
  curl_slist_free_all(p->rcpt);
  p->rcpt = NULL;
  free(p->msg);
  p->msg = NULL;
}

/* 5xx: the server refused for good; anything else that failed is worth
 * another try. */
static enum outbox_result classify(CURL *e, CURLcode rc) {
  long code = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 500 && code <= 599) return OUTBOX_PERMANENT;
  if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) return OUTBOX_PERMANENT;
  return OUTBOX_TEMPORARY;
}

static void check_done(struct mail_priv *p) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(p->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE || m->easy_handle != p->easy) continue;
    CURLcode rc = m->data.result;
    enum outbox_result r = rc == CURLE_OK ? OUTBOX_OK : classify(p->easy, rc);
    long code = 0;
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
    char why[CURL_ERROR_SIZE + 64];
    snprintf(why, sizeof why, "smtp %ld: %s", code,
             p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc));
    drop_transfer(p);
    p->sink->done(p->sink->done_ctx, r, r == OUTBOX_OK ? NULL : why);
    return; /* p->easy may be a new transfer now */
  }
}

static void on_fd(int fd, short revents, void *arg) {
  struct mail_priv *p = arg;
  int flags = (revents & POLLIN ? CURL_CSELECT_IN : 0) | (revents & POLLOUT ? CURL_CSELECT_OUT : 0) |
              (revents & (POLLERR | POLLHUP) ? CURL_CSELECT_ERR : 0);
  int running;
  curl_multi_socket_action(p->multi, fd, flags, &running);
  check_done(p);
}

static void on_timer(void *arg) {
  struct mail_priv *p = arg;
  int running;
  p->timer = 0;
  curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(p);
}

/* CURLMOPT_SOCKETFUNCTION: watch what curl asks for on the loop. */
static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  struct mail_priv *p = userp;
  (void)e;
  if (what == CURL_POLL_REMOVE) {
    sched_remove_fd(s);
    return 0;
  }
  short ev = (short)((what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0));
  if (!socketp) {
    if (sched_add_fd(s, ev, on_fd, p)) return -1;
    curl_multi_assign(p->multi, s, p);
  } else {
    sched_set_fd_events(s, ev);
  }
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer, replaced at each call. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  struct mail_priv *p = userp;
  (void)multi;
  sched_cancel_timer(p->timer);
  p->timer = 0;
  if (timeout_ms >= 0 && !(p->timer = sched_add_timer(timeout_ms / 1000.0, on_timer, p)))
    return -1; /* curl fails the transfers rather than wait for ever */
  return 0;
}

/* libcurl's global state (and with it OpenSSL's TLS set-up, ~2 MiB) is
 * set up by the first mail channel that opens, so a daemon without one
 * never loads it; curl_global_init and curl_global_cleanup count their
 * calls, so each open is paired with its close. */
static int ml_open(struct sink *s, char *err, size_t errlen) {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(err, errlen, "mail: cannot initialise libcurl");
    return -1;
  }
  struct mail_priv *p = calloc(1, sizeof *p);
  if (!p || !(p->multi = curl_multi_init())) {
    snprintf(err, errlen, "mail: cannot initialise libcurl");
    free(p);
    curl_global_cleanup();
    return -1;
  }
  p->sink = s;
  s->priv = p;
  curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
  curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
  return 0;
}

static int add_recipients(struct mail_priv *p, const char *to_csv) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", to_csv);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    char addr[300];
    snprintf(addr, sizeof addr, "<%s>", t);
    struct curl_slist *l = curl_slist_append(p->rcpt, addr);
    if (!l) return -1;
    p->rcpt = l;
  }
  return 0;
}

static void set_options(struct mail_priv *p, const struct alert_mail_config *c) {
  CURL *e = p->easy;
  char from[300];
  snprintf(from, sizeof from, "<%s>", c->from);
  curl_easy_setopt(e, CURLOPT_URL, c->url);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, p->rcpt);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_READFUNCTION, read_payload);
  curl_easy_setopt(e, CURLOPT_READDATA, p);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)p->len);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
  if (c->starttls) curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  if (c->user[0]) {
    curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
    curl_easy_setopt(e, CURLOPT_PASSWORD, c->password);
  }
  if (c->cafile[0]) curl_easy_setopt(e, CURLOPT_CAINFO, c->cafile);
  if (c->insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

static int ml_send(struct sink *s, const struct alert_note *notes, int n, char *err,
                   size_t errlen) {
  struct mail_priv *p = s->priv;
  const struct alert_mail_config *c = &s->cfg->mail;
  size_t cap = (size_t)n * MESSAGE_MAX;
  struct timespec now = sched_real_now();
  p->errbuf[0] = '\0';
  p->msg = malloc(cap);
  int len = p->msg ? alert_mail_message(notes, n, c->from, c->to,
                                        (int64_t)now.tv_sec * 1000000000 + now.tv_nsec, p->msg, cap)
                   : -1;
  if (len < 0 || add_recipients(p, c->to) || !(p->easy = curl_easy_init())) {
    snprintf(err, errlen, "mail: cannot build the message");
    drop_transfer(p);
    return -1;
  }
  p->len = (size_t)len;
  p->off = 0;
  set_options(p, c);
  if (curl_multi_add_handle(p->multi, p->easy) != CURLM_OK) {
    snprintf(err, errlen, "mail: cannot start the transfer");
    curl_easy_cleanup(p->easy);
    p->easy = NULL;
    drop_transfer(p);
    return -1;
  }
  return 0;
}

static void ml_close(struct sink *s) {
  struct mail_priv *p = s->priv;
  if (!p) return;
  drop_transfer(p);
  curl_multi_cleanup(p->multi);
  sched_cancel_timer(p->timer);
  free(p);
  s->priv = NULL;
  curl_global_cleanup();
}

const struct sink_ops sink_mail_ops = {"mail", ml_open, ml_send, ml_close};
