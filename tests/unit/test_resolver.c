/* lib/resolver.c: literal addresses parsed without a lookup; names looked
 * up in threads and answered on the loop, once each; a cancelled lookup's
 * handler never runs. Names come from /etc/hosts (localhost): no network.
 * The slow name server is tests/system/test_resolver.sh's. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/resolver.h"
#include "lib/sched.h"
#include "unit.h"

#define MANY 50

static int answers;
static int errors;
static struct resolver_answer last;

static void on_answer(const struct resolver_answer *a, void *arg) {
  answers++;
  if (a->error) errors++;
  last = *a;
  int *want = arg;
  if (want && answers >= *want) sched_quit();
}

static void on_give_up(void *arg) {
  (void)arg;
  sched_quit();
}

/* Runs the loop until the handlers asked for quit, or `limit` seconds. */
static void run_for(double limit) {
  sched_timer_id t = sched_add_timer(limit, on_give_up, NULL);
  sched_run();
  sched_cancel_timer(t);
}

static void test_literal(void) {
  struct sockaddr_storage a;
  socklen_t len = 0;
  CHECK_INT(resolver_literal("127.0.0.1", 123, SOCK_DGRAM, &a, &len), 0);
  CHECK_INT(a.ss_family, AF_INET);
  CHECK_INT(len, sizeof(struct sockaddr_in));
  CHECK_INT(ntohs(((struct sockaddr_in *)&a)->sin_port), 123);
  CHECK_INT(resolver_literal("::1", 4123, SOCK_DGRAM, &a, &len), 0);
  CHECK_INT(a.ss_family, AF_INET6);
  CHECK_INT(ntohs(((struct sockaddr_in6 *)&a)->sin6_port), 4123);
  /* Names are never looked up here, not even localhost. */
  CHECK_INT(resolver_literal("localhost", 123, SOCK_DGRAM, &a, &len), -1);
  CHECK_INT(resolver_literal("ntp.example.net", 123, SOCK_DGRAM, &a, &len), -1);
  CHECK_INT(resolver_literal("127.0.0.300", 123, SOCK_DGRAM, &a, &len), -1);
}

static void test_lookup_on_the_loop(void) {
  sched_init();
  answers = errors = 0;
  int want = 1;
  struct resolver_query *q = resolver_lookup("localhost", 4123, SOCK_DGRAM, on_answer, &want);
  CHECK(q != NULL);
  CHECK_INT(resolver_in_flight(), 1);
  CHECK_INT(answers, 0); /* never before the loop runs */
  run_for(10);
  CHECK_INT(answers, 1);
  CHECK_INT(errors, 0);
  CHECK_STR(last.error_text, "");
  CHECK(last.addr.ss_family == AF_INET || last.addr.ss_family == AF_INET6);
  if (last.addr.ss_family == AF_INET) {
    CHECK_INT(ntohs(((struct sockaddr_in *)&last.addr)->sin_port), 4123);
    CHECK_INT(ntohl(((struct sockaddr_in *)&last.addr)->sin_addr.s_addr) >> 24, 127);
  }
  CHECK(last.seconds >= 0 && last.seconds < 10);
  CHECK_INT(resolver_in_flight(), 0);
  sched_fini();
}

static void test_many_at_once(void) {
  sched_init();
  answers = errors = 0;
  int want = MANY;
  for (int i = 0; i < MANY; i++)
    CHECK(resolver_lookup("localhost", 1000 + i, SOCK_DGRAM, on_answer, &want) != NULL);
  CHECK_INT(resolver_in_flight(), MANY);
  run_for(20);
  CHECK_INT(answers, MANY);
  CHECK_INT(errors, 0);
  CHECK_INT(resolver_in_flight(), 0);
  sched_fini();
}

static void test_cancelled(void) {
  sched_init();
  answers = errors = 0;
  struct resolver_query *q = resolver_lookup("localhost", 123, SOCK_DGRAM, on_answer, NULL);
  CHECK(q != NULL);
  resolver_cancel(q);
  resolver_cancel(NULL); /* harmless */
  /* A second lookup whose answer ends the run: the cancelled one came
   * back too by then (or comes back in the next run), silently. */
  int want = 1;
  CHECK(resolver_lookup("localhost", 124, SOCK_DGRAM, on_answer, &want) != NULL);
  run_for(10);
  CHECK_INT(answers, 1);
  CHECK_INT(ntohs(((struct sockaddr_in *)&last.addr)->sin_port), 124);
  if (resolver_in_flight()) run_for(2);
  CHECK_INT(resolver_in_flight(), 0);
  CHECK_INT(answers, 1);
  sched_fini();
}

int main(void) {
  RUN(test_literal);
  RUN(test_lookup_on_the_loop);
  RUN(test_many_at_once);
  RUN(test_cancelled);
  return unit_done();
}
