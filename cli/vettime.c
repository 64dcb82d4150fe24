/* vettime: the command-line tool. Asks a running vettimed over its JSON API
 * (web/api.h) and prints what it says, as a table (cli/format.h) or, with
 * --json, as the JSON document itself.
 *
 *   vettime [-c FILE] [-u URL] COMMAND [--json]
 *
 * The daemon's address comes from the configuration file's `http ADDRESS
 * port N` directive (the same file vettimed reads), unless -u gives a URL.
 * Commands live in one table, each with its handler and a line of help, so
 * that later ones (events, alarms, report, check, decode, simulate, db,
 * replay) slot in without touching the dispatcher.
 *
 * Exit status: one table for vettime and vettimed (README.md "Exit
 * status", vettime(1)), sysexits(3) style: 0 success; 1 the command ran and
 * what it reports is not good (dead alert notifications, a test
 * notification not delivered); 2 report: the period had a critical alarm;
 * 64 EX_USAGE bad usage; 65 EX_DATAERR an argument names nothing there is
 * (an unknown id or channel), or a file is not what it should be; 66
 * EX_NOINPUT a file to read does not exist, or holds no data for the
 * period; 69 EX_UNAVAILABLE the daemon could not be reached; 70
 * EX_SOFTWARE an internal error; 71 EX_OSERR a system call failed; 73
 * EX_CANTCREAT a file could not be created; 74 EX_IOERR reading or writing
 * the database failed; 76 EX_PROTOCOL the daemon answered, but not with
 * what we asked for; 78 EX_CONFIG the configuration file could not be used.
 * `check` is a monitoring plugin: 0-3 only (cli/check.h). */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "alerting/alert_cli.h"
#include "alerting/alert_config.h"
#include "snmp/agentx_config.h"
#include "web/web_config.h"
#include "cli/check.h"
#include "cli/decode.h"
#include "cli/format.h"
#include "cli/replay.h"
#include "cli/report_cmd.h"
#include "cli/simulate.h"
#include "lib/version.h"
#include "monitor/config.h"
#include "server/server_config.h"

#define EXIT_BAD_REPLY EX_PROTOCOL
#define EXIT_UNREACHABLE EX_UNAVAILABLE
#define CONNECT_TIMEOUT_MS 2000L
#define TOTAL_TIMEOUT_MS 5000L
#define MAX_REPLY (8u << 20) /* bytes; a sources document is ~1 KiB a source */

/* The global options, as given on the command line. */
struct cli {
  const char *config_path;
  bool config_given;
  const char *url; /* -u, or NULL */
  bool json;       /* --json before the command */
};

struct command {
  const char *name;
  int (*run)(const struct cli *cli, int argc, char **argv);
  const char *help;   /* one line for the command list */
  const char *usage;  /* its arguments, for `vettime COMMAND --help`; NULL:
                         the command prints its own help */
};

static int cmd_status(const struct cli *cli, int argc, char **argv);
static int cmd_sources(const struct cli *cli, int argc, char **argv);
static int cmd_sourcestats(const struct cli *cli, int argc, char **argv);
static int cmd_vote(const struct cli *cli, int argc, char **argv);
static int cmd_events(const struct cli *cli, int argc, char **argv);
static int cmd_alarms(const struct cli *cli, int argc, char **argv);
static int cmd_simulate(const struct cli *cli, int argc, char **argv);
static int cmd_replay(const struct cli *cli, int argc, char **argv);
static int cmd_alert(const struct cli *cli, int argc, char **argv);
static int cmd_decode(const struct cli *cli, int argc, char **argv);
static int cmd_report(const struct cli *cli, int argc, char **argv);
static int cmd_check(const struct cli *cli, int argc, char **argv);
static int cmd_help(const struct cli *cli, int argc, char **argv);

static const struct command commands[] = {
    {"status", cmd_status,
     "vetted or not, open alarms, serving state, then the daemon's figures", "[--json]"},
    {"sources", cmd_sources,
     "one line a source: class, stratum, reach, last sample, offset, vote, state", "[--json]"},
    {"sourcestats", cmd_sourcestats,
     "per source: samples, frequency against the vetted time, jitter, offset", "[--json]"},
    {"vote", cmd_vote, "the last vote: vetted or why not, offset, agreeing sources and classes",
     "[--json]"},
    {"events", cmd_events, "recent events, newest first: time, kind, source, evidence",
     "[--reverse] [--json]"},
    {"alarms", cmd_alarms, "open and recently cleared alarms, newest first", "[--reverse] [--json]"},
    {"simulate", cmd_simulate, "fake stratum-1 NTP servers from a scenario file", NULL},
    {"replay", cmd_replay, "re-run the vote and detectors over stored samples", NULL},
    {"alert", cmd_alert, "alert outbox: status | test [CHANNEL] [--wait S] | retry ID|all", NULL},
    {"report", cmd_report, "health report of a period from the history (for cron)", NULL},
    {"check", cmd_check, "monitoring-plugins check of the daemon (Nagios/Icinga)", NULL},
    {"decode", cmd_decode, "decode a recorded NMEA, gpsd, DCF77 or Meinberg file offline", NULL},
    {"help", cmd_help, "this text, or a command's: help COMMAND", "[COMMAND]"},
};

/* ---- usage ------------------------------------------------------------ */

static void usage(FILE *out) {
  fprintf(out,
          "usage: vettime [-c FILE] [-u URL] COMMAND [--json]\n"
          "\n"
          "Asks a running vettimed over its HTTP API.\n"
          "\n"
          "Options:\n"
          "  -c FILE   configuration file to take the `http` directive from\n"
          "            (default %s)\n"
          "  -u URL    the daemon's base URL, e.g. http://127.0.0.1:%d\n"
          "  --json    print the daemon's JSON document instead of a table\n"
          "  -h, --help     this help (vettime COMMAND --help: the command's)\n"
          "  -V, --version  the version\n"
          "\n"
          "Commands:\n",
          VT_DEFAULT_CONFIG, VT_DEFAULT_HTTP_PORT);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].help);
  fprintf(out, "\nExit status: 0 ok; 1 the answer is not good (alert); 2 a critical alarm\n"
               "(report); 64 usage; 65 unknown id or bad data; 66 no such file or no data;\n"
               "69 vettimed not reachable; 70 internal error; 71 system error; 73 cannot\n"
               "create a file; 74 database error; 76 unexpected answer from vettimed;\n"
               "78 configuration error. check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n");
}

/* `vettime COMMAND --help` for the commands without help of their own. */
static void command_usage(const struct command *c, FILE *out) {
  fprintf(out, "usage: vettime [-c FILE] [-u URL] %s %s\n\n%c%s.\n", c->name, c->usage,
          toupper((unsigned char)c->help[0]), c->help + 1);
  if (strstr(c->usage, "--"))
    fputc('\n', out);
  if (strstr(c->usage, "--reverse"))
    fputs("  -r, --reverse  oldest first\n", out);
  if (strstr(c->usage, "--json"))
    fputs("  -j, --json     the daemon's JSON document instead of the text\n", out);
  if (strstr(c->usage, "--json"))
    fputs("\nExit status: 0 ok, 64 usage, 69 vettimed not reachable, 76 unexpected answer,\n"
          "78 configuration error (vettime --help lists them all).\n", out);
  else
    fputs("\nExit status: 0 ok, 64 usage (an unknown command).\n", out);
}

/* Says what is wrong, then the usage, on stderr. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "vettime: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n\n");
  va_end(ap);
  usage(stderr);
  return EX_USAGE;
}

/* ---- where the daemon is ---------------------------------------------- */

/* The address a client connects to for a daemon bound to `address`: a
 * wildcard bind is reached on loopback; IPv6 literals go in brackets. */
static void url_for(const char *address, int port, char *url, size_t len) {
  if (strcmp(address, "0.0.0.0") == 0) address = "127.0.0.1";
  if (strcmp(address, "::") == 0) address = "::1";
  bool v6 = strchr(address, ':') != NULL;
  snprintf(url, len, "http://%s%s%s:%d", v6 ? "[" : "", address, v6 ? "]" : "", port);
}

/* Fills base (no trailing '/') from -u, else from the configuration file.
 * Without -c, a missing default file means the default address: the tool
 * then works on a machine that runs vettimed with no file of its own.
 * Returns 0, or an exit status with the reason in why. */
static int daemon_url(const struct cli *cli, char *base, size_t len, char *why, size_t whylen) {
  if (cli->url) {
    snprintf(base, len, "%s", cli->url);
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') base[--n] = '\0';
    return 0;
  }
  if (!cli->config_given && access(cli->config_path, F_OK) != 0 && errno == ENOENT) {
    url_for(VT_DEFAULT_HTTP_ADDRESS, VT_DEFAULT_HTTP_PORT, base, len);
    return 0;
  }
  struct vt_config cfg;
  char err[512];
  if (config_load(cli->config_path, &cfg, err, sizeof err) != 0) {
    snprintf(why, whylen, "%s", err);
    return EX_CONFIG;
  }
  int rc = 0;
  if (!cfg.http_enabled) {
    snprintf(why, whylen, "%s: the HTTP API is off (`http off`); "
                          "enable it, or give the daemon's URL with -u", cfg.path);
    rc = EX_CONFIG;
  } else {
    url_for(cfg.http_address, cfg.http_port, base, len);
  }
  config_free(&cfg);
  return rc;
}

/* ---- fetching --------------------------------------------------------- */

struct reply {
  char *data;
  size_t len;
  bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg) {
  struct reply *r = arg;
  size_t n = size * nmemb;
  if (r->len + n > MAX_REPLY) {
    r->too_big = true;
    return 0; /* makes curl fail with CURLE_WRITE_ERROR */
  }
  char *d = realloc(r->data, r->len + n + 1);
  if (!d) return 0;
  memcpy(d + r->len, ptr, n);
  r->data = d;
  r->len += n;
  r->data[r->len] = '\0';
  return n;
}

static CURL *new_request(const char *url, struct reply *r, char *errbuf) {
  CURL *c = curl_easy_init();
  if (!c) return NULL;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_PROXY, ""); /* the daemon is never behind a proxy */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "vettime/" VT_VERSION);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  return c;
}

/* Why a transfer failed, in the words an operator knows: the system's
 * ("Connection refused") when there is one, else curl's. */
static const char *failure_reason(CURL *c, CURLcode rc, const char *errbuf) {
  long os_errno = 0;
  curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
  if (os_errno) return strerror((int)os_errno);
  return errbuf[0] ? errbuf : curl_easy_strerror(rc);
}

/* GETs base + path. Returns 0 with the body and HTTP status, or an exit
 * status with the reason in why. */
static int fetch(const char *base, const char *path, struct reply *r, long *status,
                 char *why, size_t whylen) {
  char url[1024], errbuf[CURL_ERROR_SIZE] = "";
  snprintf(url, sizeof url, "%s%s", base, path);
  CURL *c = new_request(url, r, errbuf);
  if (!c) {
    snprintf(why, whylen, "cannot initialise libcurl");
    return EX_SOFTWARE;
  }
  CURLcode rc = curl_easy_perform(c);
  int exit_code = 0;
  if (rc == CURLE_WRITE_ERROR && r->too_big) {
    snprintf(why, whylen, "the reply from %s is larger than %u bytes", base, MAX_REPLY);
    exit_code = EXIT_BAD_REPLY;
  } else if (rc != CURLE_OK) {
    snprintf(why, whylen, "cannot reach vettimed at %s: %s "
                          "(is it running? see the `http` directive)",
             base, failure_reason(c, rc, errbuf));
    exit_code = EXIT_UNREACHABLE;
  } else {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
  }
  curl_easy_cleanup(c);
  return exit_code;
}

/* The daemon's {"error": "..."} message, or a generic one. */
static const char *error_message(json_object *doc) {
  json_object *msg = NULL;
  if (json_object_object_get_ex(doc, "error", &msg) &&
      json_object_is_type(msg, json_type_string))
    return json_object_get_string(msg);
  return "no explanation given";
}

/* Fetches and parses API document `name`. Returns 0 with *doc set, or an
 * exit status with the reason in why. */
static int get_document_why(const struct cli *cli, const char *name, json_object **doc,
                            char *why, size_t whylen) {
  char base[600], path[128];
  *doc = NULL;
  int rc = daemon_url(cli, base, sizeof base, why, whylen);
  if (rc) return rc;
  snprintf(path, sizeof path, "/api/v1/%s", name);
  struct reply r = {0};
  long status = 0;
  rc = fetch(base, path, &r, &status, why, whylen);
  if (rc) {
    free(r.data);
    return rc;
  }
  *doc = r.data ? json_tokener_parse(r.data) : NULL;
  free(r.data);
  if (status != 200) {
    snprintf(why, whylen, "vettimed at %s answered %ld for %s: %s", base, status, path,
             error_message(*doc));
    json_object_put(*doc);
    *doc = NULL;
    return EXIT_BAD_REPLY;
  }
  if (!*doc) {
    snprintf(why, whylen, "the reply from %s%s is not JSON", base, path);
    return EXIT_BAD_REPLY;
  }
  return 0;
}

/* The same, saying why on stderr. */
static int get_document(const struct cli *cli, const char *name, json_object **doc) {
  char why[1024];
  int rc = get_document_why(cli, name, doc, why, sizeof why);
  if (rc) fprintf(stderr, "vettime: %s\n", why);
  return rc;
}

/* ---- commands --------------------------------------------------------- */

static const struct command *find_command(const char *name);

/* A bad argument of a daemon command: what is wrong and its usage, on
 * stderr. */
static int command_error(const char *name, const char *what, const char *arg) {
  fprintf(stderr, "vettime %s: %s \"%s\"\n\n", name, what, arg);
  command_usage(find_command(name), stderr);
  return EX_USAGE;
}

/* Parses the arguments of a command whose options are --json and, where
 * reverse is not NULL, --reverse. */
static int parse_flags(const struct cli *cli, int argc, char **argv, bool *json, bool *reverse) {
  *json = cli->json;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0)
      *json = true;
    else if (reverse && (strcmp(argv[i], "--reverse") == 0 || strcmp(argv[i], "-r") == 0))
      *reverse = true;
    else
      return command_error(argv[0], argv[i][0] == '-' ? "unknown option" : "unexpected argument",
                           argv[i]);
  }
  return 0;
}

static void print_json(json_object *doc) {
  puts(json_object_to_json_string_ext(
      doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
               JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Prints doc as JSON, or with its table renderer; an unexpected shape is
 * the daemon's fault (EX_PROTOCOL). */
static int render(const char *name, json_object *doc, bool json, int rendered) {
  if (json) print_json(doc);
  else if (rendered != 0) {
    fprintf(stderr, "vettime: the %s document does not have the expected shape\n", name);
    return EXIT_BAD_REPLY;
  }
  return 0;
}

static double unix_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* The verdict and the alarm count lead: the vote and alarms documents are
 * fetched too (a daemon that answers the status answers them; without
 * them their lines say "-"). --json prints the status document alone. */
static int cmd_status(const struct cli *cli, int argc, char **argv) {
  bool json;
  int rc = parse_flags(cli, argc, argv, &json, NULL);
  if (rc) return rc;
  json_object *status, *vote = NULL, *alarms = NULL;
  rc = get_document(cli, "status", &status);
  if (rc) return rc;
  if (json) {
    print_json(status);
    json_object_put(status);
    return 0;
  }
  char why[1024];
  get_document_why(cli, "vote", &vote, why, sizeof why);
  get_document_why(cli, "alarms", &alarms, why, sizeof why);
  rc = render("status", status, false, format_status(status, vote, alarms, stdout));
  json_object_put(status);
  json_object_put(vote);
  json_object_put(alarms);
  return rc;
}

static int cmd_sources(const struct cli *cli, int argc, char **argv) {
  bool json;
  json_object *doc;
  int rc = parse_flags(cli, argc, argv, &json, NULL);
  if (rc || (rc = get_document(cli, "sources", &doc))) return rc;
  rc = render("sources", doc, json, json ? 0 : format_sources_table(doc, unix_now(), stdout));
  json_object_put(doc);
  return rc;
}

static int cmd_sourcestats(const struct cli *cli, int argc, char **argv) {
  bool json;
  json_object *doc;
  int rc = parse_flags(cli, argc, argv, &json, NULL);
  if (rc || (rc = get_document(cli, "sources", &doc))) return rc;
  rc = render("sources", doc, json, json ? 0 : format_sourcestats(doc, stdout));
  json_object_put(doc);
  return rc;
}

static int cmd_vote(const struct cli *cli, int argc, char **argv) {
  bool json;
  json_object *doc;
  int rc = parse_flags(cli, argc, argv, &json, NULL);
  if (rc || (rc = get_document(cli, "vote", &doc))) return rc;
  rc = render("vote", doc, json, json ? 0 : format_vote(doc, stdout));
  json_object_put(doc);
  return rc;
}

static int cmd_events(const struct cli *cli, int argc, char **argv) {
  bool json, reverse = false;
  json_object *doc;
  int rc = parse_flags(cli, argc, argv, &json, &reverse);
  if (rc || (rc = get_document(cli, "events", &doc))) return rc;
  rc = render("events", doc, json, json ? 0 : format_events(doc, reverse, stdout));
  json_object_put(doc);
  return rc;
}

static int cmd_alarms(const struct cli *cli, int argc, char **argv) {
  bool json, reverse = false;
  json_object *doc;
  int rc = parse_flags(cli, argc, argv, &json, &reverse);
  if (rc || (rc = get_document(cli, "alarms", &doc))) return rc;
  rc = render("alarms", doc, json, json ? 0 : format_alarms_table(doc, reverse, stdout));
  json_object_put(doc);
  /* the alert notifications that could not be delivered, from the database */
  if (rc == 0 && !json) alert_cli_dead_footer(cli->config_path, stdout);
  return rc;
}

/* Fake NTP servers of its own: no daemon needed (cli/simulate.h). */
static int cmd_simulate(const struct cli *cli, int argc, char **argv) {
  (void)cli;
  return simulate_main(argc, argv);
}

/* Reads the history itself: no daemon needed. */
static int cmd_replay(const struct cli *cli, int argc, char **argv) {
  return replay_main(cli->config_path, cli->config_given, cli->json, argc, argv);
}

/* Reads and writes the alert outbox of the configured database itself
 * (alerting/alert_cli.h); no daemon needed. */
static int cmd_alert(const struct cli *cli, int argc, char **argv) {
  return alert_cli_main(cli->config_path, cli->json, argc, argv);
}

/* vettime decode KIND FILE [--json]: offline, no daemon (cli/decode.h). */
static int cmd_decode(const struct cli *cli, int argc, char **argv) {
  return decode_main(argc, argv, cli->json);
}

/* Reads the history itself: no daemon needed (cli/report_cmd.h). */
static int cmd_report(const struct cli *cli, int argc, char **argv) {
  return report_main(cli->config_path, cli->config_given, cli->json, argc, argv);
}

static int check_fetch(void *ctx, const char *name, json_object **doc, char *why,
                       size_t whylen) {
  return get_document_why(ctx, name, doc, why, whylen);
}

/* A monitoring plugin: its own exit codes, UNKNOWN when the daemon does
 * not answer (cli/check.h). */
static int cmd_check(const struct cli *cli, int argc, char **argv) {
  return check_main(argc, argv, check_fetch, (void *)cli);
}

/* `help`, or `help COMMAND`: that command's --help. */
static int cmd_help(const struct cli *cli, int argc, char **argv) {
  if (argc < 2) {
    usage(stdout);
    return 0;
  }
  if (argc > 2) return command_error("help", "unexpected argument", argv[2]);
  const struct command *c = find_command(argv[1]);
  if (!c) return command_error("help", "unknown command", argv[1]);
  if (c->usage) {
    command_usage(c, stdout);
    return 0;
  }
  static char help[] = "--help";
  char *args[] = {argv[1], help, NULL};
  return c->run(cli, 2, args);
}

/* ---- main ------------------------------------------------------------- */

static const struct command *find_command(const char *name) {
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

/* -h or --help among a command's arguments. */
static bool asks_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return true;
  return false;
}

/* Parses the global options; returns -1 to go on, else an exit status. */
static int parse_options(int argc, char **argv, struct cli *cli) {
  static const struct option longopts[] = {
      {"config", required_argument, NULL, 'c'},
      {"url", required_argument, NULL, 'u'},
      {"help", no_argument, NULL, 'h'},
      {"json", no_argument, NULL, 'j'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  int opt;
  opterr = 0;
  /* "+": stop at the command, whose own options are its business. */
  while ((opt = getopt_long(argc, argv, "+c:u:hjV", longopts, NULL)) != -1) {
    switch (opt) {
    case 'c': cli->config_path = optarg; cli->config_given = true; break;
    case 'u': cli->url = optarg; break;
    case 'h': usage(stdout); return 0;
    case 'V': puts("vettime " VT_VERSION); return 0;
    case 'j': cli->json = true; break;
    default:
      return usage_error("bad option \"%s\"", argv[optind - 1]);
    }
  }
  return -1;
}

int main(int argc, char **argv) {
  struct cli cli = {.config_path = VT_DEFAULT_CONFIG};
  int rc = parse_options(argc, argv, &cli);
  if (rc >= 0) return rc;
  if (optind >= argc) return usage_error("%s", "no command given");
  const struct command *cmd = find_command(argv[optind]);
  if (!cmd) return usage_error("unknown command \"%s\"", argv[optind]);
  if (cmd->usage && asks_help(argc - optind, argv + optind)) {
    command_usage(cmd, stdout);
    return 0;
  }
  if (alert_config_register() || web_config_register() || agentx_config_register() ||
      server_config_register()) {
    fprintf(stderr, "vettime: cannot register the alert, web, agentx and server directives\n");
    return EX_SOFTWARE;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "vettime: cannot initialise libcurl\n");
    return EX_SOFTWARE;
  }
  rc = cmd->run(&cli, argc - optind, argv + optind);
  curl_global_cleanup();
  return rc;
}
