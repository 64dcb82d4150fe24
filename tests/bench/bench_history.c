/* Benchmark of the history ingest rate through the real writer
 * (monitor/history.c): 100 sources, one sample per source per poll round,
 * flushed every 100, 1000 or 10000 samples (one, ten or a hundred rounds),
 * into a fresh database file under $TMPDIR (or /tmp). Each case runs until
 * 1,000,000 samples or 3 s, whichever comes first, and the timing includes
 * the flushes (the commits) but not the final close. Prints a markdown
 * table: batch size, samples, seconds, samples/s, database bytes per sample
 * (after close, WAL checkpointed; the index and the roll-ups included: at
 * these 64 s per source every sample is a minute bucket of its own, the
 * roll-ups' worst case).
 * The project's goal is >= 200,000 samples/s batched. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/timeutil.h"
#include "monitor/history.h"

#define SOURCES 100
#define MAX_SAMPLES 1000000L
#define MAX_SECONDS 3.0
#define GOAL_RATE 200000.0

struct result {
  int batch;
  long samples;
  double seconds;
  double bytes_per_sample;
};

static double mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return timespec_seconds(ts);
}

/* xorshift64: reproducible noise, so every run writes the same values. */
static uint64_t rng_state = 88172645463325252ULL;
static double noise(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0 - 0.5;
}

/* Sample n: round n / SOURCES (64 s apart), source n % SOURCES, with
 * realistic small offsets and delays (random doubles: nothing compresses). */
static void make_sample(long n, struct vt_sample *s) {
  long round = n / SOURCES, src = n % SOURCES;
  int64_t ns = 1767225600000000000LL + round * 64000000000LL + src * 1000000LL +
               (int64_t)((noise() + 0.5) * 999999.0);
  memset(s, 0, sizeof *s);
  s->source = (int)src;
  s->rx_time.tv_sec = (time_t)(ns / 1000000000);
  s->rx_time.tv_nsec = (long)(ns % 1000000000);
  s->offset = noise() * 1e-3;
  s->delay = 2e-4 + noise() * 1e-4;
  s->dispersion = 1e-5 + noise() * 1e-6;
  s->root_delay = 0.0;
  s->root_dispersion = 6.1e-5;
  s->error_bound = s->delay / 2 + s->dispersion + s->root_dispersion;
  s->stratum = 1;
  s->leap = 0;
  s->refid = 0x47505300; /* "GPS" */
  s->poll = 6;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int run_case(const char *dir, int batch, struct result *r) {
  char path[4200], err[512];
  snprintf(path, sizeof path, "%s/bench-%d.db", dir, batch);
  struct history *h = history_open(path, err, sizeof err);
  if (!h) {
    fprintf(stderr, "bench_history: %s\n", err);
    return -1;
  }
  int64_t ids[SOURCES];
  for (int i = 0; i < SOURCES; i++) {
    char name[32];
    snprintf(name, sizeof name, "ntp%03d.example.net", i);
    ids[i] = history_source_id(h, name, "ntp", "GPS");
  }
  struct vt_sample s;
  long n = 0;
  double t0 = mono_now(), t = t0;
  while (n < MAX_SAMPLES && t - t0 < MAX_SECONDS) {
    for (int i = 0; i < batch; i++, n++) {
      make_sample(n, &s);
      history_add_sample(h, ids[n % SOURCES], &s);
    }
    if (history_flush(h) != 0) {
      fprintf(stderr, "bench_history: flush failed\n");
      history_close(h);
      return -1;
    }
    t = mono_now();
  }
  history_close(h);
  r->batch = batch;
  r->samples = n;
  r->seconds = t - t0;
  r->bytes_per_sample = (double)file_size(path) / (double)n;
  return 0;
}

/* Removes the databases (and any -wal/-shm left by a failure), then dir. */
static void remove_dir(const char *dir, const int *batches, int n) {
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  char path[4200];
  for (int i = 0; i < n; i++)
    for (int j = 0; j < 3; j++) {
      snprintf(path, sizeof path, "%s/bench-%d.db%s", dir, batches[i], suffixes[j]);
      unlink(path);
    }
  if (rmdir(dir) != 0) fprintf(stderr, "bench_history: cannot remove %s\n", dir);
}

int main(void) {
  log_set_level(LOG_LVL_WARN);
  const char *tmp = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/vt_bench_history.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("bench_history: mkdtemp");
    return 1;
  }
  static const int batches[] = {100, 1000, 10000};
  struct result res[3];
  int failed = 0;
  for (int i = 0; i < 3 && !failed; i++) failed = run_case(dir, batches[i], &res[i]) != 0;

  remove_dir(dir, batches, 3);
  if (failed) return 1;

  printf("%d sources, fresh database per row, WAL, synchronous=NORMAL\n\n", SOURCES);
  printf("| batch (samples/flush) | samples | seconds | samples/s | DB bytes/sample |\n");
  printf("|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < 3; i++)
    printf("| %d | %ld | %.2f | %.0f | %.1f |\n", res[i].batch, res[i].samples,
           res[i].seconds, res[i].samples / res[i].seconds, res[i].bytes_per_sample);
  printf("\ngoal >= %.0f samples/s:", GOAL_RATE);
  for (int i = 0; i < 3; i++)
    printf(" batch %d %s;", res[i].batch,
           res[i].samples / res[i].seconds >= GOAL_RATE ? "met" : "NOT met");
  printf("\n");
  return 0;
}
