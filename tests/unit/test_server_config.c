/* Unit tests for the NTP server's directives (server/server_config.c:
 * serve, allow, deny, ratelimit; `user` is monitor/config.c's) and the
 * access list they build (server/acl.c): every bad line refused with
 * FILE:LINE, the most specific prefix deciding. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include "monitor/config.h"
#include "server/server_config.h"
#include "tests/unit/unit.h"

static struct vt_config cfg;
static char err[512];

static int parse(const char *text) {
  int rc = config_parse("t.conf", text, &cfg, err, sizeof err);
  if (rc == 0) return 0;
  return -1;
}

/* Parses a bad text and checks the message starts with want. */
static void refused(const char *text, const char *want) {
  err[0] = '\0';
  if (parse(text) == 0) {
    config_free(&cfg);
    fprintf(stderr, "accepted: %s", text);
    CHECK(0);
    return;
  }
  if (strncmp(err, want, strlen(want)) != 0) {
    fprintf(stderr, "for %s got \"%s\", want \"%s...\"\n", text, err, want);
    CHECK(0);
  }
}

static void test_defaults(void) {
  CHECK_INT(parse(""), 0);
  const struct server_config *s = server_config_of(&cfg);
  CHECK_INT(s->n_serve, 0);
  CHECK_INT(s->acl.n, 0);
  CHECK(s->ratelimit.enabled);
  CHECK_NEAR(s->ratelimit.interval, 1.0, 0);
  CHECK_INT(s->ratelimit.burst, 16);
  CHECK_STR(cfg.user, "");
  config_free(&cfg);
}

static void test_serve(void) {
  CHECK_INT(parse("serve 127.0.0.1 port 11123\nserve ::1\nserve [2001:db8::1] port 1234\nserve 0.0.0.0\n"), 0);
  const struct server_config *s = server_config_of(&cfg);
  CHECK_INT(s->n_serve, 4);
  CHECK_INT(s->serve[0].family, AF_INET);
  CHECK_INT(s->serve[0].port, 11123);
  CHECK_INT(s->serve[0].addr[0], 127);
  CHECK_INT(s->serve[1].family, AF_INET6);
  CHECK_INT(s->serve[1].port, 123);
  CHECK_INT(s->serve[1].addr[15], 1);
  CHECK_STR(s->serve[2].text, "2001:db8::1");
  CHECK_INT(s->serve[2].port, 1234);
  CHECK_INT(s->serve[3].line, 4);
  CHECK_INT(s->serve[0].threads, 1);
  config_free(&cfg);
  CHECK_INT(parse("serve 127.0.0.1 threads 2 port 11123\n"), 0);
  CHECK_INT(server_config_of(&cfg)->serve[0].threads, 2);
  CHECK_INT(server_config_of(&cfg)->serve[0].port, 11123);
  config_free(&cfg);
  refused("serve 127.0.0.1 threads 0\n", "t.conf:1: serve threads");
  refused("serve 127.0.0.1 threads 17\n", "t.conf:1: serve threads");
  refused("serve 127.0.0.1 threads\n", "t.conf:1: serve: expected");
  refused("serve\n", "t.conf:1: serve: expected");
  refused("serve localhost\n", "t.conf:1: serve: \"localhost\" is not an IPv4 or IPv6 address");
  refused("serve 127.0.0.1 port 0\n", "t.conf:1: serve port");
  refused("serve 127.0.0.1 port 70000\n", "t.conf:1: serve port");
  refused("serve 127.0.0.1 prt 5\n", "t.conf:1: serve: expected");
  refused("serve 127.0.0.1\nserve 127.0.0.1 port 123\n", "t.conf:2: serve: 127.0.0.1 port 123 is already served (line 1)");
  refused("serve 127.0.0.1 port 1\nserve 127.0.0.1 port 2\nserve 127.0.0.1 port 3\nserve 127.0.0.1 port 4\n"
          "serve 127.0.0.1 port 5\nserve 127.0.0.1 port 6\nserve 127.0.0.1 port 7\nserve 127.0.0.1 port 8\n"
          "serve 127.0.0.1 port 9\n", "t.conf:9: serve: at most 8");
}

static void test_nts(void) {
  CHECK_INT(parse(""), 0);
  const struct server_config *s = server_config_of(&cfg);
  CHECK_INT(s->nts_port, 4460);
  CHECK_INT(s->nts_rotate, 3600);
  CHECK(!server_config_nts(s));
  config_free(&cfg);
  CHECK_INT(parse("serve 127.0.0.1\nntsservercert /a.pem\nntsserverkey /a.key\nntsport 11460\n"
                  "ntsdumpdir /var/lib/x\nntsrotate 60\n"), 0);
  s = server_config_of(&cfg);
  CHECK(server_config_nts(s));
  CHECK_STR(s->nts_cert, "/a.pem");
  CHECK_STR(s->nts_key, "/a.key");
  CHECK_STR(s->nts_dumpdir, "/var/lib/x");
  CHECK_INT(s->nts_port, 11460);
  CHECK_INT(s->nts_rotate, 60);
  CHECK_INT(s->nts_cert_line, 2);
  CHECK_INT(s->nts_key_line, 3);
  CHECK_INT(s->nts_cert_file, 0);
  config_free(&cfg);
  /* a certificate without serve: parsed, not served */
  CHECK_INT(parse("ntsservercert /a.pem\nntsserverkey /a.key\n"), 0);
  CHECK(!server_config_nts(server_config_of(&cfg)));
  config_free(&cfg);
  refused("ntsport 0\n", "t.conf:1: ntsport");
  refused("ntsport 65536\n", "t.conf:1: ntsport");
  refused("ntsrotate 59\n", "t.conf:1: ntsrotate");
  refused("ntsservercert\n", "t.conf:1: ntsservercert: expected \"ntsservercert FILE\"");
  refused("ntsdumpdir a b\n", "t.conf:1: ntsdumpdir: expected \"ntsdumpdir DIR\"");
  /* the source option of the same name is the source's */
  CHECK_INT(parse("server 127.0.0.1 nts ntsport 4461\n"), 0);
  CHECK_INT(server_config_of(&cfg)->nts_port, 4460);
  config_free(&cfg);
}

static void test_ratelimit(void) {
  CHECK_INT(parse("ratelimit off\n"), 0);
  CHECK(!server_config_of(&cfg)->ratelimit.enabled);
  config_free(&cfg);
  CHECK_INT(parse("ratelimit interval 0.5 burst 32 leak 2 kod\n"), 0);
  const struct ratelimit_config *r = &server_config_of(&cfg)->ratelimit;
  CHECK(r->enabled && r->kod);
  CHECK_NEAR(r->interval, 0.5, 0);
  CHECK_INT(r->burst, 32);
  CHECK_INT(r->leak, 2);
  config_free(&cfg);
  CHECK_INT(parse("ratelimit kod\n"), 0);
  CHECK(server_config_of(&cfg)->ratelimit.kod);
  CHECK_INT(server_config_of(&cfg)->ratelimit.burst, 16);
  config_free(&cfg);
  refused("ratelimit interval\n", "t.conf:1: ratelimit: expected");
  refused("ratelimit interval 0\n", "t.conf:1: ratelimit interval");
  refused("ratelimit burst 0\n", "t.conf:1: ratelimit burst");
  refused("ratelimit burst 1.5\n", "t.conf:1: ratelimit burst");
  refused("ratelimit leak 9\n", "t.conf:1: ratelimit leak");
  refused("ratelimit fast\n", "t.conf:1: ratelimit: expected");
}

static bool allows(const struct acl *a, const char *addr) {
  uint8_t b[16];
  int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
  CHECK_INT(inet_pton(fam, addr, b), 1);
  return acl_allows(a, fam, b);
}

static void test_acl(void) {
  /* no rule: everyone */
  CHECK_INT(parse(""), 0);
  CHECK(allows(&server_config_of(&cfg)->acl, "203.0.113.9"));
  CHECK(allows(&server_config_of(&cfg)->acl, "2001:db8::9"));
  config_free(&cfg);
  /* only a deny: everyone else */
  CHECK_INT(parse("deny 203.0.113.0/24\n"), 0);
  CHECK(!allows(&server_config_of(&cfg)->acl, "203.0.113.9"));
  CHECK(allows(&server_config_of(&cfg)->acl, "203.0.114.9"));
  config_free(&cfg);
  /* an allow: nobody else; the most specific prefix decides */
  CHECK_INT(parse("allow 10.0.0.0/8\ndeny 10.1.0.0/16\nallow 10.1.2.3\nallow 2001:db8::/32\n"), 0);
  const struct acl *a = &server_config_of(&cfg)->acl;
  CHECK(allows(a, "10.9.9.9"));
  CHECK(!allows(a, "10.1.9.9"));
  CHECK(allows(a, "10.1.2.3"));
  CHECK(!allows(a, "192.0.2.1"));
  CHECK(allows(a, "2001:db8:1::1"));
  CHECK(!allows(a, "2001:db9::1"));
  config_free(&cfg);
  /* all, and of two equal prefixes the later line */
  CHECK_INT(parse("allow all\ndeny 192.0.2.0/24\nallow 192.0.2.0/24\ndeny ::/0\n"), 0);
  a = &server_config_of(&cfg)->acl;
  CHECK(allows(a, "192.0.2.1"));
  CHECK(allows(a, "198.51.100.1"));
  CHECK(!allows(a, "2001:db8::1"));
  config_free(&cfg);
  refused("allow\n", "t.conf:1: allow: expected");
  refused("allow 10.0.0.1/8\n", "t.conf:1: allow: \"10.0.0.1/8\" has host bits set (the prefix is 10.0.0.0/8)");
  refused("deny 10.0.0.0/33\n", "t.conf:1: deny: \"10.0.0.0/33\": the prefix length must be 0 to 32");
  refused("deny 2001:db8::/129\n", "t.conf:1: deny: \"2001:db8::/129\": the prefix length must be 0 to 128");
  refused("deny 10.0.0.0/\n", "t.conf:1: deny: \"10.0.0.0/\": the prefix length");
  refused("allow example.net\n", "t.conf:1: allow: \"example.net\" is not an IPv4 or IPv6 address");
  char many[64 * 24 + 1] = "";
  for (int i = 0; i < 65; i++) {
    char line[32];
    snprintf(line, sizeof line, "allow 10.%d.0.0/16\n", i);
    strcat(many, line);
  }
  refused(many, "t.conf:65: allow: more than 64");
}

static void test_user(void) {
  CHECK_INT(parse("user _vettime\n"), 0);
  CHECK_STR(cfg.user, "_vettime");
  config_free(&cfg);
  refused("user\n", "t.conf:1: user takes exactly one argument");
  refused("user a/b\n", "t.conf:1: user: \"a/b\" is not a user name");
}

int main(void) {
  unit_init();
  if (server_config_register()) {
    fprintf(stderr, "server_config_register failed\n");
    return 1;
  }
  RUN(test_defaults);
  RUN(test_serve);
  RUN(test_ratelimit);
  RUN(test_nts);
  RUN(test_acl);
  RUN(test_user);
  return unit_done();
}
