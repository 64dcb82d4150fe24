/* Scenario files for `vettime simulate`: the parser and the pure model of
 * what each fake server serves at time t. See scenario.h for the contract
 * and docs/scenarios.md for the format. Directives, server options and
 * faults are tables (name, argument kind, target), so adding one is a row;
 * lines, words, numbers, units and messages come from lib/lineparse.h. */
#include "cli/scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lineparse.h"

#define MAX_LINE 1024
#define MAX_TOKENS 40
#define MAX_FILE (1u << 20)

struct parse_ctx {
  struct lp_ctx lp;  /* file, line and the error message */
  struct scenario *s;
  int duration_line; /* 0 until `duration` is seen */
};

/* ---- values and units -------------------------------------------------- */

static const struct lp_unit drift_unit_list[] = {{"ppm", 1e6}, {"ppb", 1e9}, {NULL, 0}};
static const struct lp_unit walk_unit_list[] = {
    {"ms/s", 1e3}, {"us/s", 1e6}, {"\xc2\xb5s/s", 1e6}, {"ns/s", 1e9}, {NULL, 0}};

static const struct lp_units DRIFT = {drift_unit_list, "ppm or ppb"};
static const struct lp_units WALK = {walk_unit_list, "ms/s, us/s or ns/s"};

/* A decimal integer in [lo, hi]. */
static int parse_int(struct parse_ctx *c, const char *what, const char *tok,
                     long long lo, long long hi, long long *out) {
  if (lp_scan_int(tok, lo, hi, out) != LP_NUM_OK)
    return lp_fail(&c->lp, "bad %s \"%s\" (an integer from %lld to %lld)", what, tok, lo, hi);
  return 0;
}

/* A refid: 1-4 printable ASCII characters. */
static int parse_refid(struct parse_ctx *c, const char *tok, char out[5]) {
  size_t n = strlen(tok);
  bool ok = n >= 1 && n <= 4;
  for (size_t i = 0; ok && i < n; i++) ok = tok[i] > 0x20 && tok[i] < 0x7f;
  if (!ok) return lp_fail(&c->lp, "bad refid \"%s\" (1 to 4 ASCII characters)", tok);
  memcpy(out, tok, n + 1);
  return 0;
}

/* A kiss code from RFC 5905 §7.4 (and NTSN, RFC 8915). */
static int parse_kiss(struct parse_ctx *c, const char *tok, char out[5]) {
  static const char *const codes[] = {"ACST", "AUTH", "AUTO", "BCST", "CRYP",
                                      "DENY", "DROP", "RSTR", "INIT", "MCST",
                                      "NKEY", "NTSN", "RATE", "RMOT", "STEP"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    if (strcmp(tok, codes[i]) == 0) {
      memcpy(out, codes[i], 5);
      return 0;
    }
  }
  return lp_fail(&c->lp, "unknown kiss code \"%s\" (e.g. RATE, DENY, RSTR)", tok);
}

/* A server or scenario name: 1-31 of [A-Za-z0-9_.-]. */
static bool valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= SCN_NAME_LEN) return false;
  return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                   "0123456789_.-") == n;
}

/* ---- scenario-wide directives ----------------------------------------- */

static int dir_name(struct parse_ctx *c, char **argv, int argc) {
  (void)argc;
  if (!valid_name(argv[1]))
    return lp_fail(&c->lp, "bad name \"%s\" (1-31 letters, digits, '_', '.', '-')", argv[1]);
  snprintf(c->s->name, sizeof c->s->name, "%s", argv[1]);
  return 0;
}

static int dir_duration(struct parse_ctx *c, char **argv, int argc) {
  (void)argc;
  if (lp_quantity(&c->lp, argv[1], &lp_units_seconds, false, &c->s->duration)) return -1;
  if (!(c->s->duration > 0)) return lp_fail(&c->lp, "the duration must be more than 0 s");
  c->duration_line = c->lp.line;
  return 0;
}

static int dir_seed(struct parse_ctx *c, char **argv, int argc) {
  (void)argc;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(argv[1], &end, 10);
  if (errno || end == argv[1] || *end || argv[1][0] == '-')
    return lp_fail(&c->lp, "bad seed \"%s\" (a non-negative integer)", argv[1]);
  c->s->seed = v;
  return 0;
}

static int dir_poll(struct parse_ctx *c, char **argv, int argc) {
  (void)argc;
  long long lo, hi;
  if (parse_int(c, "minpoll", argv[1], 0, 17, &lo) ||
      parse_int(c, "maxpoll", argv[2], 0, 17, &hi))
    return -1;
  if (lo > hi) return lp_fail(&c->lp, "minpoll %lld is above maxpoll %lld", lo, hi);
  c->s->minpoll = (int)lo;
  c->s->maxpoll = (int)hi;
  return 0;
}

/* ---- server lines ------------------------------------------------------ */

typedef int (*server_opt_fn)(struct parse_ctx *c, const char *val,
                             struct scn_server *sv);

static int opt_refid(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  return parse_refid(c, v, sv->refid);
}
static int opt_stratum(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  long long n;
  if (parse_int(c, "stratum", v, 1, 15, &n)) return -1;
  sv->stratum = (int)n;
  return 0;
}
static int opt_offset(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  return lp_quantity(&c->lp, v, &lp_units_seconds, true, &sv->offset);
}
static int opt_jitter(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  return lp_quantity(&c->lp, v, &lp_units_seconds, false, &sv->jitter);
}
static int opt_drift(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  return lp_quantity(&c->lp, v, &DRIFT, true, &sv->drift);
}
static int opt_key(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  long long n;
  if (parse_int(c, "key id", v, 1, UINT32_MAX, &n)) return -1;
  sv->key = (uint32_t)n;
  return 0;
}
static int opt_rootdelay(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  return lp_quantity(&c->lp, v, &lp_units_seconds, false, &sv->root_delay);
}
static int opt_rootdisp(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  return lp_quantity(&c->lp, v, &lp_units_seconds, false, &sv->root_disp);
}
static int opt_port(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  long long n;
  if (parse_int(c, "port", v, 1, 65535, &n)) return -1;
  sv->port = (int)n;
  return 0;
}

static int opt_bind(struct parse_ctx *c, const char *v, struct scn_server *sv) {
  const char *why;
  if (scenario_parse_loopback(v, &sv->addr, &why))
    return lp_fail(&c->lp, "bad bind address \"%s\": %s", v, why);
  return 0;
}

static const struct {
  const char *name;
  server_opt_fn fn;
} server_opts[] = {
    {"refid", opt_refid},     {"stratum", opt_stratum},     {"offset", opt_offset},
    {"jitter", opt_jitter},   {"drift", opt_drift},         {"key", opt_key},
    {"rootdelay", opt_rootdelay}, {"rootdisp", opt_rootdisp}, {"port", opt_port},
    {"bind", opt_bind},
};

static server_opt_fn find_server_opt(const char *name) {
  for (size_t i = 0; i < sizeof server_opts / sizeof server_opts[0]; i++)
    if (strcmp(server_opts[i].name, name) == 0) return server_opts[i].fn;
  return NULL;
}

static void server_defaults(struct scn_server *sv, int index, int line) {
  memset(sv, 0, sizeof *sv);
  sv->stratum = 1;
  sv->jitter = 20e-6;
  sv->root_delay = 10e-6;
  sv->root_disp = 20e-6;
  sv->addr = SCN_DEFAULT_ADDR;
  sv->port = SCN_DEFAULT_PORT + index;
  sv->line = line;
}

/* server NAME refid ID [OPTION VALUE]... */
static int dir_server(struct parse_ctx *c, char **argv, int argc) {
  struct scenario *s = c->s;
  if (s->n_servers == SCN_MAX_SERVERS)
    return lp_fail(&c->lp, "too many servers (at most %d)", SCN_MAX_SERVERS);
  if (!valid_name(argv[1]))
    return lp_fail(&c->lp, "bad server name \"%s\" (1-31 letters, digits, '_', '.', '-')", argv[1]);
  if (scenario_find_server(s, argv[1]) >= 0)
    return lp_fail(&c->lp, "duplicate server name \"%s\"", argv[1]);
  struct scn_server sv;
  server_defaults(&sv, s->n_servers, c->lp.line);
  snprintf(sv.name, sizeof sv.name, "%s", argv[1]);
  for (int i = 2; i < argc; i += 2) {
    server_opt_fn fn = find_server_opt(argv[i]);
    if (!fn) return lp_fail(&c->lp, "unknown server option \"%s\"", argv[i]);
    if (i + 1 >= argc) return lp_fail(&c->lp, "\"%s\" needs a value", argv[i]);
    if (fn(c, argv[i + 1], &sv)) return -1;
  }
  if (!sv.refid[0]) return lp_fail(&c->lp, "server \"%s\" has no refid", sv.name);
  s->servers[s->n_servers++] = sv;
  return 0;
}

/* ---- at lines ---------------------------------------------------------- */

enum arg_kind {
  ARG_NONE, ARG_OFFSET, ARG_JITTER, ARG_WALK, ARG_DRIFT,
  ARG_LEAP, ARG_STRATUM, ARG_KISS, ARG_REFID
};

static const struct {
  const char *name;
  enum scn_fault fault;
  enum arg_kind arg;
} faults[SCN_FAULT_COUNT] = {
    {"step", SCN_STEP, ARG_OFFSET},       {"walk", SCN_WALK, ARG_WALK},
    {"silent", SCN_SILENT, ARG_NONE},     {"resume", SCN_RESUME, ARG_NONE},
    {"kod", SCN_KOD, ARG_KISS},           {"leap", SCN_LEAP, ARG_LEAP},
    {"badmac", SCN_BADMAC, ARG_NONE},     {"goodmac", SCN_GOODMAC, ARG_NONE},
    {"stratum", SCN_STRATUM, ARG_STRATUM}, {"date", SCN_DATE, ARG_OFFSET},
    {"refid", SCN_REFID, ARG_REFID},      {"drift", SCN_DRIFT, ARG_DRIFT},
    {"jitter", SCN_JITTER, ARG_JITTER},
};

const char *scenario_fault_name(enum scn_fault f) {
  return (unsigned)f < SCN_FAULT_COUNT ? faults[f].name : "?";
}

/* Reads the fault's argument (if its kind has one) into ev. */
static int parse_fault_arg(struct parse_ctx *c, enum arg_kind kind,
                           const char *tok, struct scn_event *ev) {
  long long n = 0;
  int rc = 0;
  switch (kind) {
  case ARG_NONE: return 0;
  case ARG_OFFSET: return lp_quantity(&c->lp, tok, &lp_units_seconds, true, &ev->value);
  case ARG_JITTER: return lp_quantity(&c->lp, tok, &lp_units_seconds, false, &ev->value);
  case ARG_WALK: return lp_quantity(&c->lp, tok, &WALK, true, &ev->value);
  case ARG_DRIFT: return lp_quantity(&c->lp, tok, &DRIFT, true, &ev->value);
  case ARG_LEAP: rc = parse_int(c, "leap indicator", tok, 0, 3, &n); break;
  case ARG_STRATUM: rc = parse_int(c, "stratum", tok, 1, 16, &n); break;
  case ARG_KISS: return parse_kiss(c, tok, ev->code);
  case ARG_REFID: return parse_refid(c, tok, ev->code);
  }
  ev->ivalue = (int)n;
  return rc;
}

/* Inserts ev keeping events sorted by t, file order among equal times. */
static void insert_event(struct scenario *s, const struct scn_event *ev) {
  int i = s->n_events;
  while (i > 0 && s->events[i - 1].t > ev->t) {
    s->events[i] = s->events[i - 1];
    i--;
  }
  s->events[i] = *ev;
  s->n_events++;
}

static int find_fault(const char *name) {
  for (int i = 0; i < SCN_FAULT_COUNT; i++)
    if (strcmp(faults[i].name, name) == 0) return i;
  return -1;
}

/* at TIME SERVER FAULT [ARGUMENT] */
static int dir_at(struct parse_ctx *c, char **argv, int argc) {
  struct scenario *s = c->s;
  if (s->n_events == SCN_MAX_EVENTS)
    return lp_fail(&c->lp, "too many `at` lines (at most %d)", SCN_MAX_EVENTS);
  struct scn_event ev = {.line = c->lp.line};
  if (lp_quantity(&c->lp, argv[1], &lp_units_seconds, false, &ev.t)) return -1;
  ev.server = scenario_find_server(s, argv[2]);
  if (ev.server < 0) return lp_fail(&c->lp, "unknown server \"%s\"", argv[2]);
  int f = find_fault(argv[3]);
  if (f < 0) return lp_fail(&c->lp, "unknown fault \"%s\"", argv[3]);
  ev.fault = faults[f].fault;
  int want = faults[f].arg == ARG_NONE ? 4 : 5;
  if (argc != want)
    return lp_fail(&c->lp, "`%s` takes %s", argv[3], want == 4 ? "no value" : "one value");
  if (parse_fault_arg(c, faults[f].arg, want == 5 ? argv[4] : NULL, &ev)) return -1;
  if ((ev.fault == SCN_BADMAC || ev.fault == SCN_GOODMAC) && !s->servers[ev.server].key)
    return lp_fail(&c->lp, "`%s` needs a server with a key (\"%s\" has none)", argv[3], argv[2]);
  insert_event(s, &ev);
  return 0;
}

/* ---- lines and files --------------------------------------------------- */

static const struct {
  const char *name;
  int min_args, max_args; /* counting the directive itself */
  int (*fn)(struct parse_ctx *c, char **argv, int argc);
} directives[] = {
    {"name", 2, 2, dir_name},       {"duration", 2, 2, dir_duration},
    {"seed", 2, 2, dir_seed},       {"poll", 3, 3, dir_poll},
    {"server", 2, MAX_TOKENS, dir_server}, {"at", 4, 5, dir_at},
};

static int parse_line(struct parse_ctx *c, char *line) {
  char *argv[MAX_TOKENS];
  int argc = lp_split(line, argv, MAX_TOKENS);
  if (argc > MAX_TOKENS) return lp_fail(&c->lp, "too many words on one line");
  if (argc == 0) return 0;
  for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
    if (strcmp(directives[i].name, argv[0]) != 0) continue;
    if (argc < directives[i].min_args || argc > directives[i].max_args)
      return lp_fail(&c->lp, "`%s` takes %d value%s", argv[0], directives[i].min_args - 1,
                  directives[i].min_args == 2 ? "" : "s");
    return directives[i].fn(c, argv, argc);
  }
  return lp_fail(&c->lp, "unknown directive \"%s\"", argv[0]);
}

/* What can only be checked once every line is read. */
static int check_whole(struct parse_ctx *c) {
  struct scenario *s = c->s;
  c->lp.line = 0;
  if (!c->duration_line) return lp_fail(&c->lp, "no `duration` line");
  if (s->n_servers == 0) return lp_fail(&c->lp, "no `server` line");
  for (int i = 0; i < s->n_events; i++) {
    if (s->events[i].t > s->duration) {
      c->lp.line = s->events[i].line;
      return lp_fail(&c->lp, "time %g s is beyond the duration (%g s)", s->events[i].t,
                  s->duration);
    }
  }
  for (int i = 0; i < s->n_servers; i++) {
    for (int j = 0; j < i; j++) {
      const struct scn_server *a = &s->servers[i], *b = &s->servers[j];
      if (a->port != b->port || a->addr != b->addr) continue;
      char addr[SCN_ADDR_LEN];
      scenario_format_addr(a->addr, addr);
      c->lp.line = a->line;
      return lp_fail(&c->lp, "server \"%s\" has the address and port %s:%d of \"%s\"", a->name,
                  addr, a->port, b->name);
    }
  }
  return 0;
}

static void scenario_defaults(struct scenario *s) {
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "unnamed");
  s->seed = 1;
  s->minpoll = 0;
  s->maxpoll = 1;
}

int scenario_parse(const char *name, const char *text, struct scenario *out,
                   char *err, size_t errlen) {
  struct parse_ctx c = {.lp = {name, 0, err, errlen}, .s = out};
  scenario_defaults(out);
  char line[MAX_LINE];
  int n;
  while ((n = lp_next_line(&c.lp, &text, line, sizeof line)) != LP_END) {
    if (n == LP_TOO_LONG) return lp_fail(&c.lp, "line longer than %d characters", MAX_LINE - 1);
    if (parse_line(&c, line)) return -1;
  }
  return check_whole(&c);
}

int scenario_load(const char *path, struct scenario *out, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errlen) snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *text = malloc(MAX_FILE + 1);
  size_t n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
  bool bad = !text || ferror(f) || n > MAX_FILE || memchr(text, '\0', n);
  fclose(f);
  if (bad) {
    if (errlen) snprintf(err, errlen, "%s: cannot read it as a scenario "
                         "(unreadable, not text, or over %u bytes)", path, MAX_FILE);
    free(text);
    return -1;
  }
  text[n] = '\0';
  int rc = scenario_parse(path, text, out, err, errlen);
  free(text);
  return rc;
}

int scenario_parse_loopback(const char *text, uint32_t *addr, const char **why) {
  struct in_addr in;
  if (inet_pton(AF_INET, text, &in) != 1) {
    *why = "not an IPv4 address (a.b.c.d)";
    return -1;
  }
  uint32_t a = ntohl(in.s_addr);
  if (a >> 24 != 127) {
    *why = "not a loopback address (127.0.0.0/8)";
    return -1;
  }
  if (a == 0x7f000000u || a == 0x7fffffffu) {
    *why = "127.0.0.0 and 127.255.255.255 are not host addresses";
    return -1;
  }
  *addr = a;
  return 0;
}

void scenario_format_addr(uint32_t addr, char buf[SCN_ADDR_LEN]) {
  snprintf(buf, SCN_ADDR_LEN, "%u.%u.%u.%u", addr >> 24, addr >> 16 & 0xffu,
           addr >> 8 & 0xffu, addr & 0xffu);
}

int scenario_find_server(const struct scenario *s, const char *name) {
  for (int i = 0; i < s->n_servers; i++)
    if (strcmp(s->servers[i].name, name) == 0) return i;
  return -1;
}

/* ---- the model --------------------------------------------------------- */

/* The running state of one server while its events are replayed. */
struct replay {
  struct scn_state st;
  double drift, walk; /* the two parts of st.rate */
  double since;       /* time up to which st.offset is integrated */
};

static void advance(struct replay *r, double t) {
  r->st.offset += (r->drift + r->walk) * (t - r->since);
  r->since = t;
}

static void apply(struct replay *r, const struct scn_event *ev) {
  struct scn_state *st = &r->st;
  switch (ev->fault) {
  case SCN_STEP:
  case SCN_DATE: st->offset += ev->value; break;
  case SCN_WALK: r->walk = ev->value; break;
  case SCN_DRIFT: r->drift = ev->value; break;
  case SCN_JITTER: st->jitter = ev->value; break;
  case SCN_SILENT: st->silent = true; break;
  case SCN_RESUME: st->silent = false; st->kiss[0] = '\0'; break;
  case SCN_KOD: memcpy(st->kiss, ev->code, 5); break;
  case SCN_LEAP: st->leap = ev->ivalue; break;
  case SCN_BADMAC: st->badmac = true; break;
  case SCN_GOODMAC: st->badmac = false; break;
  case SCN_STRATUM: st->stratum = ev->ivalue; break;
  case SCN_REFID: memcpy(st->refid, ev->code, 5); break;
  case SCN_FAULT_COUNT: break;
  }
}

void scenario_state_at(const struct scenario *s, int i, double t,
                       struct scn_state *out) {
  const struct scn_server *sv = &s->servers[i];
  struct replay r = {.drift = sv->drift};
  r.st.offset = sv->offset;
  r.st.jitter = sv->jitter;
  r.st.stratum = sv->stratum;
  memcpy(r.st.refid, sv->refid, 5);
  if (t < 0) t = 0;
  for (int k = 0; k < s->n_events && s->events[k].t <= t; k++) {
    if (s->events[k].server != i) continue;
    advance(&r, s->events[k].t);
    apply(&r, &s->events[k]);
  }
  advance(&r, t);
  r.st.rate = r.drift + r.walk;
  if (r.st.stratum >= 16) r.st.leap = 3;
  *out = r.st;
}

int scenario_describe_event(const struct scenario *s, const struct scn_event *ev,
                            char *buf, size_t len) {
  const char *who = s->servers[ev->server].name, *what = scenario_fault_name(ev->fault);
  switch (ev->fault) {
  case SCN_STEP:
  case SCN_DATE: return snprintf(buf, len, "%s %s %+.6f s", who, what, ev->value);
  case SCN_JITTER: return snprintf(buf, len, "%s %s %.6f s", who, what, ev->value);
  case SCN_WALK: return snprintf(buf, len, "%s %s %+.3f us/s", who, what, ev->value * 1e6);
  case SCN_DRIFT: return snprintf(buf, len, "%s %s %+.3f ppm", who, what, ev->value * 1e6);
  case SCN_LEAP:
  case SCN_STRATUM: return snprintf(buf, len, "%s %s %d", who, what, ev->ivalue);
  case SCN_KOD:
  case SCN_REFID: return snprintf(buf, len, "%s %s %s", who, what, ev->code);
  default: return snprintf(buf, len, "%s %s", who, what);
  }
}

/* ---- noise ------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void scn_rng_init(struct scn_rng *r, uint64_t seed, unsigned stream) {
  uint64_t mix = seed ^ (UINT64_C(0xd1b54a32d192ed03) * ((uint64_t)stream + 1));
  r->state = splitmix64(&mix);
  r->has_spare = false;
  r->spare = 0;
}

/* A uniform deviate in (0, 1): 53 random bits, never 0. */
static double uniform01(struct scn_rng *r) {
  return ((double)(splitmix64(&r->state) >> 11) + 0.5) / 9007199254740992.0;
}

double scn_rng_gauss(struct scn_rng *r) {
  if (r->has_spare) {
    r->has_spare = false;
    return r->spare;
  }
  double u1 = uniform01(r), u2 = uniform01(r);
  double mag = sqrt(-2.0 * log(u1)), ang = 2.0 * 3.14159265358979323846 * u2;
  r->spare = mag * sin(ang);
  r->has_spare = true;
  return mag * cos(ang);
}
