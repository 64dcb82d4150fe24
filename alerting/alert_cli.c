/* `vettime alert` (see alert_cli.h): status, test, retry over the outbox
 * of the configured database. */
#include "alerting/alert_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "alerting/alert_config.h"
#include "alerting/alert_format.h"
#include "alerting/outbox.h"
#include "monitor/config.h"
#include "monitor/history.h"
#include "monitor/history_report.h"

#define LIST_MAX 200       /* rows listed per state */
#define BUSY_RETRIES 40    /* x 50 ms: the daemon holds the write lock briefly */
#define ALERT_CLI_STALE_S 5.0 /* an older newest vote: no vettimed runs (it writes one a second) */

static int64_t real_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void local_time(int64_t ns, char *buf, size_t cap) {
  if (!ns) {
    snprintf(buf, cap, "-");
    return;
  }
  time_t s = (time_t)(ns / 1000000000);
  struct tm tm;
  localtime_r(&s, &tm);
  strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Loads the configuration and opens its database, which must exist and
 * have the outbox (the daemon creates both); the history module opens it
 * (history_open_existing: quick on a large history). Returns 0, or the
 * exit status: 78 configuration, 66 no database or no outbox in it yet,
 * 74 SQLite failed. */
static int open_db(const char *path, struct vt_config *cfg, sqlite3 **db, bool write, bool quiet) {
  char err[1024];
  if (config_load(path, cfg, err, sizeof err)) {
    if (!quiet) fprintf(stderr, "vettime: %s\n", err);
    return EX_CONFIG;
  }
  int status = EX_IOERR, rc;
  if (access(cfg->database, F_OK) != 0) {
    snprintf(err, sizeof err, "%s (start vettimed once, or see the `database` directive)",
             strerror(errno));
    rc = -1;
    status = EX_NOINPUT;
  } else {
    rc = history_open_existing(cfg->database, write, "alert_outbox", db, err, sizeof err);
  }
  if (rc == 1) {
    snprintf(err, sizeof err, "no alert outbox yet (start this vettimed once)");
    status = EX_NOINPUT;
  }
  if (rc && !quiet) fprintf(stderr, "vettime: %s: %s\n", cfg->database, err);
  if (!rc) return 0;
  config_free(cfg);
  return status;
}

/* ---- status ---- */

struct lister {
  FILE *out;
  json_object *array; /* --json */
  int shown;
};

static json_object *note_json(const struct alert_note *n) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_int64(n->id));
  json_object_object_add(o, "channel", json_object_new_string(n->channel));
  json_object_object_add(o, "event", json_object_new_string(alert_event_name(n->event)));
  json_object_object_add(o, "alarm_id", json_object_new_int64((int64_t)n->alarm_id));
  json_object_object_add(o, "kind", json_object_new_string(n->kind));
  json_object_object_add(o, "severity", json_object_new_string(n->severity));
  json_object_object_add(o, "source", json_object_new_string(n->source));
  json_object_object_add(o, "state", json_object_new_string(outbox_state_name(n->state)));
  json_object_object_add(o, "attempts", json_object_new_int(n->attempts));
  json_object_object_add(o, "created", json_object_new_double(n->created_ns / 1e9));
  json_object_object_add(o, "next_try", json_object_new_double(n->next_ns / 1e9));
  json_object_object_add(o, "done", n->done_ns ? json_object_new_double(n->done_ns / 1e9) : NULL);
  json_object_object_add(o, "msgid", json_object_new_string(n->msgid));
  json_object_object_add(o, "error", json_object_new_string(n->last_error));
  json_object_object_add(o, "text", json_object_new_string(n->text));
  return o;
}

static int list_row(void *ctx, const struct alert_note *n) {
  struct lister *l = ctx;
  l->shown++;
  if (l->array) {
    json_object_array_add(l->array, note_json(n));
    return 0;
  }
  char when[32], alarm[24] = "-";
  local_time(n->state == OUTBOX_PENDING ? n->next_ns : n->done_ns, when, sizeof when);
  if (n->alarm_id) snprintf(alarm, sizeof alarm, "%" PRIu64, n->alarm_id);
  fprintf(l->out, "  %-6" PRId64 " %-10s %-9s %-6s %-8d %-19s %s\n", n->id, n->channel,
          alert_event_name(n->event), alarm, n->attempts, when,
          n->last_error[0] ? n->last_error : n->text);
  return 0;
}

struct ids {
  int64_t *v;
  size_t n, cap;
};

static int collect_id(void *ctx, const struct alert_note *n) {
  struct ids *ids = ctx;
  if (ids->n == ids->cap) {
    size_t cap = ids->cap ? 2 * ids->cap : 64;
    int64_t *v = realloc(ids->v, cap * sizeof *v);
    if (!v) return 1;
    ids->v = v;
    ids->cap = cap;
  }
  ids->v[ids->n++] = n->id;
  return 0;
}

/* The newest `max` rows in state, newest first (as `vettime events` and
 * `alarms` list): the ids in id order, then each of the last ones. */
static void list_newest(sqlite3 *db, enum outbox_state st, int max, struct lister *l) {
  struct ids ids = {0};
  outbox_each(db, (int)st, NULL, 0, 0, collect_id, &ids);
  for (size_t i = ids.n, shown = 0; i-- > 0 && shown < (size_t)max; shown++)
    outbox_each(db, (int)st, NULL, ids.v[i], 1, list_row, l);
  free(ids.v);
}

static void list_state(sqlite3 *db, enum outbox_state st, FILE *out) {
  int total = outbox_count(db, (int)st, NULL);
  fprintf(out, "\n%s notifications: %d\n", outbox_state_name(st), total);
  if (total <= 0) return;
  fprintf(out, "  %-6s %-10s %-9s %-6s %-8s %-19s %s\n", "id", "channel", "event", "alarm",
          "attempts", st == OUTBOX_PENDING ? "next try" : "given up", "last error / text");
  struct lister l = {out, NULL, 0};
  list_newest(db, st, LIST_MAX, &l);
  if (total > LIST_MAX) fprintf(out, "  ... and %d older\n", total - LIST_MAX);
}

static int status_json(const struct vt_config *cfg, sqlite3 *db) {
  json_object *doc = json_object_new_object(), *chans = json_object_new_array();
  for (int i = 0; i < alert_config_of(cfg)->n; i++) {
    const struct alert_channel_config *c = &alert_config_of(cfg)->ch[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(c->name));
    json_object_object_add(o, "kind", json_object_new_string(alert_sink_kind_name(c->kind)));
    for (int s = OUTBOX_PENDING; s <= OUTBOX_DEAD; s++)
      json_object_object_add(o, outbox_state_name((enum outbox_state)s),
                             json_object_new_int(outbox_count(db, s, c->name)));
    json_object_array_add(chans, o);
  }
  json_object_object_add(doc, "channels", chans);
  for (int s = OUTBOX_PENDING; s <= OUTBOX_DEAD; s += 2) {
    struct lister l = {NULL, json_object_new_array(), 0};
    outbox_each(db, s, NULL, 0, LIST_MAX, list_row, &l);
    json_object_object_add(doc, outbox_state_name((enum outbox_state)s), l.array);
  }
  json_object_object_add(doc, "sent", json_object_new_int(outbox_count(db, OUTBOX_SENT, NULL)));
  puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(doc);
  return 0;
}

static int cmd_status(const struct vt_config *cfg, sqlite3 *db, bool json) {
  if (json) status_json(cfg, db);
  else {
    printf("%-12s %-7s %8s %8s %8s\n", "channel", "kind", "pending", "sent", "dead");
    for (int i = 0; i < alert_config_of(cfg)->n; i++) {
      const struct alert_channel_config *c = &alert_config_of(cfg)->ch[i];
      printf("%-12s %-7s %8d %8d %8d\n", c->name, alert_sink_kind_name(c->kind),
             outbox_count(db, OUTBOX_PENDING, c->name), outbox_count(db, OUTBOX_SENT, c->name),
             outbox_count(db, OUTBOX_DEAD, c->name));
    }
    if (!alert_config_of(cfg)->n) printf("(no alert channels configured)\n");
    list_state(db, OUTBOX_PENDING, stdout);
    list_state(db, OUTBOX_DEAD, stdout);
  }
  return outbox_count(db, OUTBOX_DEAD, NULL) > 0 ? 1 : 0;
}

/* ---- test ---- */

static int insert_test(sqlite3 *db, const struct vt_config *cfg, const char *channel,
                       struct alert_note *n) {
  memset(n, 0, sizeof *n);
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  snprintf(n->channel, sizeof n->channel, "%s", channel);
  n->event = ALERT_TEST;
  n->value = n->threshold = NAN;
  snprintf(n->severity, sizeof n->severity, "info");
  const char *site = alert_config_of(cfg)->site;
  snprintf(n->site, sizeof n->site, "%.63s", site[0] ? site : host); /* a long host name is cut */
  n->event_ns = n->created_ns = real_ns();
  snprintf(n->text, sizeof n->text, "vettime test notification on channel %s from %s (vettime alert test)",
           channel, n->site);
  for (int i = 0; i < BUSY_RETRIES; i++) {
    if (outbox_insert(db, n) == 0) return 0;
    if (sqlite3_errcode(db) != SQLITE_BUSY && sqlite3_errcode(db) != SQLITE_LOCKED) break;
    usleep(50000);
  }
  fprintf(stderr, "vettime: cannot write the test notification: %s\n", sqlite3_errmsg(db));
  return -1;
}

struct waited {
  int64_t id;
  bool found;
  enum outbox_state state;
  int attempts;
  int64_t next_ns;
  char error[256];
};

/* The row with exactly w->id (outbox_each starts at the first id >= it). */
static int find_state(void *ctx, const struct alert_note *n) {
  struct waited *w = ctx;
  if (n->id != w->id) return 1;
  w->found = true;
  w->state = n->state;
  w->attempts = n->attempts;
  w->next_ns = n->next_ns;
  snprintf(w->error, sizeof w->error, "%s", n->last_error);
  return 1;
}

static void look_up(sqlite3 *db, int64_t id, struct waited *w) {
  *w = (struct waited){.id = id, .state = OUTBOX_PENDING};
  outbox_each(db, -1, NULL, id, 1, find_state, w);
}

/* Seconds since the newest vote row: a running vettimed writes one a
 * second (the same test as `vettime check -d`); NAN if there is none. */
static double vote_age(sqlite3 *db) {
  struct hr_vote v;
  char err[256];
  if (hr_last_vote(db, &v, err, sizeof err) != 0) return NAN;
  return (double)(real_ns() - v.time_ns) / 1e9;
}

/* What became of one test row after the wait. A row no sender tried while
 * the history shows no running daemon (no vote in the last
 * ALERT_CLI_STALE_S) is 69, as for an unreachable daemon; one not tried
 * while a daemon runs, tried and not sent, or dead, is bad news (1). */
static int report_wait(sqlite3 *db, const struct alert_note *row, const struct waited *w,
                       double wait) {
  char next[32];
  printf("test notification %" PRId64 " on %s: ", row->id, row->channel);
  if (w->state != OUTBOX_PENDING) {
    printf("%s%s%s\n", outbox_state_name(w->state), w->error[0] ? ": " : "", w->error);
    return w->state == OUTBOX_SENT ? 0 : 1;
  }
  if (w->attempts == 0) {
    double age = vote_age(db);
    if (age <= ALERT_CLI_STALE_S) {
      printf("not tried yet after %g s; vettimed is running (its newest vote is %.0f s old): "
             "the notification stays queued\n", wait, age < 0 ? 0 : age);
      return 1;
    }
    printf("not picked up in %g s: no vettimed runs on this database (", wait);
    if (isnan(age)) printf("it has no vote yet)\n");
    else printf("its newest vote is %.0f s old)\n", age);
    return EX_UNAVAILABLE;
  }
  local_time(w->next_ns, next, sizeof next);
  printf("still pending after %d attempt%s, next at %s%s%s\n", w->attempts,
         w->attempts == 1 ? "" : "s", next, w->error[0] ? ": " : "", w->error);
  return 1;
}

/* Waits until every row is sent or dead, or for `wait` s. */
static int wait_for(sqlite3 *db, struct alert_note *rows, int n, double wait) {
  int rc = 0;
  for (int i = 0; i < n; i++) {
    struct waited w;
    int64_t end = real_ns() + (int64_t)(wait * 1e9);
    do {
      look_up(db, rows[i].id, &w);
      if (w.state != OUTBOX_PENDING) break;
      usleep(100000);
    } while (real_ns() < end);
    int r = report_wait(db, &rows[i], &w, wait);
    if (r > rc) rc = r;
  }
  return rc;
}

static int cmd_test(const struct vt_config *cfg, sqlite3 *db, int argc, char **argv) {
  const char *only = NULL;
  double wait = 0;
  for (int i = 2; i < argc; i++) {
    char *end = NULL;
    if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc) {
      wait = strtod(argv[++i], &end);
      if (end == argv[i] || *end || !(wait >= 0 && wait <= 3600)) {
        fprintf(stderr, "vettime alert test: bad --wait \"%s\" (seconds, 0 to 3600)\n", argv[i]);
        return EX_USAGE;
      }
    } else if (argv[i][0] != '-' && !only) {
      only = argv[i];
    } else {
      fprintf(stderr, "vettime alert test: unexpected argument \"%s\"\n", argv[i]);
      return EX_USAGE;
    }
  }
  if (only && !alert_config_channel(alert_config_of(cfg), only)) {
    fprintf(stderr, "vettime: no alert channel named %s in %s\n", only, cfg->path);
    return EX_DATAERR;
  }
  if (!alert_config_of(cfg)->n) {
    fprintf(stderr, "vettime: %s configures no alert channel\n", cfg->path);
    return EX_CONFIG;
  }
  struct alert_note *rows = calloc(ALERT_CHANNELS_MAX, sizeof *rows);
  int n = 0, rc = 0;
  for (int i = 0; rows && i < alert_config_of(cfg)->n && rc == 0; i++) {
    if (only && strcmp(only, alert_config_of(cfg)->ch[i].name) != 0) continue;
    if (insert_test(db, cfg, alert_config_of(cfg)->ch[i].name, &rows[n])) {
      rc = EX_IOERR;
      break;
    }
    printf("test notification %" PRId64 " queued on %s, Message-ID %s\n", rows[n].id,
           rows[n].channel, rows[n].msgid);
    n++;
  }
  if (rc == 0 && wait > 0) rc = wait_for(db, rows, n, wait);
  free(rows);
  return rc;
}

/* ---- retry ---- */

/* "all" is 0; an id is a whole number > 0. */
static int parse_retry_id(const char *text, int64_t *id) {
  char *end;
  if (strcmp(text, "all") == 0) {
    *id = 0;
    return 0;
  }
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end || v <= 0) return -1;
  *id = v;
  return 0;
}

static int cmd_retry(sqlite3 *db, int argc, char **argv) {
  int64_t id = 0;
  if (argc != 3 || parse_retry_id(argv[2], &id) != 0) { /* "all" is never implied */
    fprintf(stderr, "vettime alert retry: expected \"retry ID\" or \"retry all\"%s%s%s\n",
            argc == 3 ? ", not \"" : "", argc == 3 ? argv[2] : "", argc == 3 ? "\"" : "");
    return EX_USAGE;
  }
  if (id > 0) { /* a named row must exist, and be dead */
    struct waited w;
    look_up(db, id, &w);
    if (!w.found) {
      fprintf(stderr, "vettime alert retry: no notification %" PRId64 " in the outbox "
                      "(vettime alert status lists the dead ones)\n", id);
      return EX_DATAERR;
    }
    if (w.state != OUTBOX_DEAD) {
      fprintf(stderr, "vettime alert retry: notification %" PRId64 " is %s, not dead: "
                      "nothing to requeue\n", id, outbox_state_name(w.state));
      return EX_DATAERR;
    }
  }
  int n = outbox_requeue(db, id, real_ns());
  if (n < 0) {
    fprintf(stderr, "vettime: cannot requeue: %s\n", sqlite3_errmsg(db));
    return EX_IOERR;
  }
  printf("%d dead notification%s requeued\n", n, n == 1 ? "" : "s");
  return 0;
}

static void alert_help(FILE *out) {
  fputs("usage: vettime [-c FILE] alert [status] [--json]\n"
        "       vettime [-c FILE] alert test [CHANNEL] [--wait SECONDS]\n"
        "       vettime [-c FILE] alert retry ID|all\n"
        "\n"
        "The alert outbox of the configured database (no daemon needed):\n"
        "  status  notifications pending and dead, counts per channel\n"
        "  test    a test notification on every channel (or CHANNEL) through the\n"
        "          outbox; --wait: until each is sent or dead, at most SECONDS\n"
        "  retry   requeue the dead notification ID, or all dead ones\n"
        "\n"
        "Exit status: 0 ok; 1 dead notifications exist (status), a test notification\n"
        "was not sent (test --wait); 64 usage; 65 no such notification or channel,\n"
        "or it is not dead (retry); 66 no database or outbox yet; 69 no vettimed\n"
        "picked the test up (test --wait); 74 database error; 78 configuration.\n", out);
}

int alert_cli_main(const char *config_path, bool json, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      alert_help(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
      json = true;
      memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof *argv);
      argc--, i--;
    }
  }
  const char *sub = argc > 1 ? argv[1] : "status";
  if (strcmp(sub, "status") && strcmp(sub, "test") && strcmp(sub, "retry")) {
    fprintf(stderr, "vettime alert: unknown subcommand \"%s\" (status, test, retry)\n\n", sub);
    alert_help(stderr);
    return EX_USAGE;
  }
  if (strcmp(sub, "status") == 0 && argc > 2) {
    fprintf(stderr, "vettime alert status: unexpected argument \"%s\"\n", argv[2]);
    return EX_USAGE;
  }
  struct vt_config *cfg = malloc(sizeof *cfg);
  sqlite3 *db = NULL;
  if (!cfg) return EX_OSERR;
  int rc = open_db(config_path, cfg, &db, strcmp(sub, "status") != 0, false);
  if (rc) {
    free(cfg);
    return rc;
  }
  if (strcmp(sub, "test") == 0) rc = cmd_test(cfg, db, argc, argv);
  else if (strcmp(sub, "retry") == 0) rc = cmd_retry(db, argc, argv);
  else rc = cmd_status(cfg, db, json);
  sqlite3_close(db);
  config_free(cfg);
  free(cfg);
  return rc;
}

void alert_cli_dead_footer(const char *config_path, FILE *out) {
  struct vt_config *cfg = malloc(sizeof *cfg);
  sqlite3 *db = NULL;
  if (!cfg) return;
  if (open_db(config_path, cfg, &db, false, true) == 0) {
    int dead = outbox_count(db, OUTBOX_DEAD, NULL);
    if (dead > 0) {
      fprintf(out, "\n%d alert notification%s dead (not delivered; vettime alert status, "
                   "vettime alert retry):\n", dead, dead == 1 ? "" : "s");
      struct lister l = {out, NULL, 0};
      list_newest(db, OUTBOX_DEAD, 20, &l);
    }
    sqlite3_close(db);
    config_free(cfg);
  }
  free(cfg);
}
