/* The checks before a start: see config_check.h. */
#include "monitor/config_check.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/bindcheck.h"
#include "probes/nts_client.h"

/* "WHERE: message" into err, where WHERE is at's FILE:LINE. Returns -1. */
__attribute__((format(printf, 5, 6))) static int fail_at(const struct vt_config *cfg,
                                                         struct config_where at, char *err,
                                                         size_t errlen, const char *fmt, ...) {
  char where[PATH_MAX + 16];
  int n = snprintf(err, errlen, "%s: ", config_where_text(cfg, at, where, sizeof where));
  if (n < 0 || (size_t)n >= errlen) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static struct config_where source_at(const struct source_config *s) {
  return (struct config_where){s->file, s->line};
}

/* " (the default)" when at was not given. */
static const char *dflt(struct config_where at) { return at.line ? "" : " (the default)"; }

/* ---- keys ---- */

/* The mode bits, not access(): root may read anything, and a key file
 * nobody may read is a mistake whoever checks it. */
static int keyfile_mode(const struct vt_config *cfg, char *err, size_t errlen) {
  struct stat st;
  const char *k = cfg->keyfile;
  if (stat(k, &st))
    return fail_at(cfg, cfg->keyfile_at, err, errlen, "keyfile %s: %s", k, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return fail_at(cfg, cfg->keyfile_at, err, errlen, "keyfile %s: not a regular file", k);
  unsigned mode = st.st_mode & 07777;
  if (mode & (S_IROTH | S_IWOTH))
    return fail_at(cfg, cfg->keyfile_at, err, errlen,
                   "keyfile %s: mode %04o lets others %s it: the keys are secrets (chmod 640, "
                   "group of the daemon's user)", k, mode, mode & S_IROTH ? "read" : "write");
  if (!(mode & (S_IRUSR | S_IRGRP)))
    return fail_at(cfg, cfg->keyfile_at, err, errlen,
                   "keyfile %s: mode %04o lets nobody read it (chmod 640, group of the daemon's "
                   "user)", k, mode);
  return 0;
}

/* Reads the key file; a message from inside it gets where it was named. */
static int keyfile_read(const struct vt_config *cfg, struct keyring *kr, char *err,
                        size_t errlen) {
  char why[1024];
  if (keyring_load(cfg->keyfile, kr, why, sizeof why) == 0) return 0;
  size_t klen = strlen(cfg->keyfile);
  char where[PATH_MAX + 16];
  config_where_text(cfg, cfg->keyfile_at, where, sizeof where);
  if (strncmp(why, cfg->keyfile, klen) == 0 && why[klen] == ':' &&
      why[klen + 1] >= '0' && why[klen + 1] <= '9') /* "KEYFILE:LINE: ..." */
    snprintf(err, errlen, "%s (keyfile named at %s)", why, where);
  else if (strncmp(why, cfg->keyfile, klen) == 0 && why[klen] == ':')
    snprintf(err, errlen, "%s: keyfile %s:%s", where, cfg->keyfile, why + klen + 1);
  else
    snprintf(err, errlen, "%s: keyfile %s: %s", where, cfg->keyfile, why);
  return -1;
}

/* Every `key ID` of a server is in the key file. */
static int key_ids(const struct vt_config *cfg, const struct keyring *kr, bool has_kr, char *err,
                   size_t errlen) {
  for (int i = 0; i < cfg->n_sources; i++) {
    const struct source_config *s = &cfg->sources[i];
    if (!s->has_key || (has_kr && keyring_find(kr, s->key_id))) continue;
    return fail_at(cfg, source_at(s), err, errlen, "server %s: key %u is not in %s", s->name,
                   (unsigned)s->key_id,
                   cfg->keyfile[0] ? cfg->keyfile : "a key file (no keyfile directive)");
  }
  return 0;
}

int config_check_keys(const struct vt_config *cfg, struct keyring *kr, bool *has_kr, char *err,
                      size_t errlen) {
  *has_kr = false;
  if (cfg->keyfile[0]) {
    if (keyfile_mode(cfg, err, errlen) || keyfile_read(cfg, kr, err, errlen)) return -1;
    *has_kr = true;
  }
  if (key_ids(cfg, kr, *has_kr, err, errlen) == 0) return 0;
  if (*has_kr) keyring_free(kr);
  *has_kr = false;
  return -1;
}

/* ---- policy ---- */

/* The sources that can vote, and the most classes they can give: a class
 * given or fixed by the kind counts once, an unknown one (inferred at run
 * time) may be a class of its own. */
static void voters(const struct vt_config *cfg, int *sources, int *classes) {
  bool seen[CLASS_COUNT] = {false};
  *sources = *classes = 0;
  for (int i = 0; i < cfg->n_sources; i++) {
    const struct source_config *s = &cfg->sources[i];
    enum ref_class c = s->class_set ? s->ref_class
                       : s->kind == SOURCE_DCF77 ? CLASS_DCF : CLASS_UNKNOWN;
    if (s->noselect || c == CLASS_LOCL) continue;
    ++*sources;
    if (c == CLASS_UNKNOWN) ++*classes;
    else if (!seen[c]) {
      seen[c] = true;
      ++*classes;
    }
  }
}

/* Every `certset N` (N > 0) of an NTS server has its ntstrustedcerts. */
static int cert_sets(const struct vt_config *cfg, char *err, size_t errlen) {
  for (int i = 0; i < cfg->n_sources; i++) {
    const struct source_config *s = &cfg->sources[i];
    if (!s->nts || s->cert_set == 0) continue;
    bool found = false;
    for (int k = 0; k < cfg->n_nts_trust && !found; k++) found = cfg->nts_trust[k].set == s->cert_set;
    if (!found)
      return fail_at(cfg, source_at(s), err, errlen,
                     "server %s: certset %u has no ntstrustedcerts line", s->name,
                     (unsigned)s->cert_set);
  }
  return 0;
}

int config_check_policy(const struct vt_config *cfg, char *err, size_t errlen) {
  if (cert_sets(cfg, err, errlen)) return -1;
  if (cfg->n_sources == 0)
    return fail_at(cfg, (struct config_where){0, 0}, err, errlen,
                   "no sources: the configuration names no server, gpsd, nmea, dcf77, shm or "
                   "sock source, so there is nothing to watch");
  int n, classes;
  voters(cfg, &n, &classes);
  const char *src = n == 1 ? "source" : "sources";
  if (cfg->minsources > n)
    return fail_at(cfg, cfg->minsources_at, err, errlen,
                   "minsources %d%s can never be met: %d %s can vote (noselect and class LOCL "
                   "do not)", cfg->minsources, dflt(cfg->minsources_at), n, src);
  if (!cfg->vote_by_sources && cfg->minclasses > classes)
    return fail_at(cfg, cfg->minclasses_at, err, errlen,
                   "minclasses %d%s can never be met: the %d %s that can vote give%s at most "
                   "%d class%s", cfg->minclasses, dflt(cfg->minclasses_at), n, src,
                   n == 1 ? "s" : "", classes, classes == 1 ? "" : "es");
  return 0;
}

/* ---- system ---- */

/* The folder that holds path, into dir ("." or "/" for a bare name). */
static void parent_of(const char *path, char *dir, size_t len) {
  snprintf(dir, len, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash) snprintf(dir, len, ".");
  else *(slash == dir ? slash + 1 : slash) = '\0';
}

/* 0 for a folder, else ENOTDIR or stat's errno. */
static int folder_state(const char *dir) {
  struct stat st;
  if (stat(dir, &st)) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/* Whether a file can be created in dir, tried rather than asked
 * (access() says yes to root on /proc): an unnamed O_TMPFILE, gone at
 * close; where the file system has none, a named one removed at once.
 * Returns 0 or the errno. */
static int can_create_in(const char *dir) {
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/.vettimed-check-XXXXXX", dir);
    fd = mkstemp(probe);
    if (fd >= 0) unlink(probe);
  }
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

/* An existing database: a file that can be opened for writing. */
static int check_database_file(const struct vt_config *cfg, const struct stat *st, char *err,
                               size_t errlen) {
  const char *db = cfg->database, *d = dflt(cfg->database_at);
  if (S_ISDIR(st->st_mode))
    return fail_at(cfg, cfg->database_at, err, errlen,
                   "database %s%s: is a folder (name the file, e.g. %s/history.db)", db, d, db);
  if (!S_ISREG(st->st_mode))
    return fail_at(cfg, cfg->database_at, err, errlen, "database %s%s: not a regular file", db, d);
  int fd = open(db, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return fail_at(cfg, cfg->database_at, err, errlen, "database %s%s: cannot open: %s", db, d,
                   strerror(errno));
  close(fd);
  char dir[PATH_MAX];
  parent_of(db, dir, sizeof dir);
  int e = can_create_in(dir);
  if (e)
    return fail_at(cfg, cfg->database_at, err, errlen,
                   "database %s%s: its directory %s is not writable (%s): SQLite creates the "
                   "database's -wal and -shm files there", db, d, dir, strerror(e));
  return 0;
}

/* A database still to be created by history_open(): the file and, if it
 * is missing, its folder (one level: the packaging makes /var/lib, the
 * daemon its own). */
static int check_database_new(const struct vt_config *cfg, char *err, size_t errlen) {
  const char *db = cfg->database, *d = dflt(cfg->database_at);
  char dir[PATH_MAX], up[PATH_MAX];
  parent_of(db, dir, sizeof dir);
  const char *target = dir;
  int e = folder_state(dir);
  if (e == ENOENT) {
    parent_of(dir, up, sizeof up);
    if (folder_state(up))
      return fail_at(cfg, cfg->database_at, err, errlen,
                     "database %s%s: the folder %s does not exist, nor %s (vettimed creates the "
                     "database and its own folder, not more)", db, d, dir, up);
    target = up;
  } else if (e) {
    return fail_at(cfg, cfg->database_at, err, errlen, "database %s%s: the folder %s: %s", db, d,
                   dir, strerror(e));
  }
  if ((e = can_create_in(target)))
    return fail_at(cfg, cfg->database_at, err, errlen, "database %s%s: cannot create %s in %s: %s",
                   db, d, target == dir ? "it" : "its folder", target, strerror(e));
  return 0;
}

/* The database: an existing file SQLite can open for writing, or a name
 * in a folder that exists or can be made, writable. Never created here. */
static int check_database(const struct vt_config *cfg, char *err, size_t errlen) {
  struct stat st;
  if (stat(cfg->database, &st) == 0) return check_database_file(cfg, &st, err, errlen);
  if (errno == ENOENT || errno == ENOTDIR) return check_database_new(cfg, err, errlen);
  return fail_at(cfg, cfg->database_at, err, errlen, "database %s%s: %s", cfg->database,
                 dflt(cfg->database_at), strerror(errno));
}

/* The HTTP API's port: free, or (check_only) the running daemon's. */
static int check_http(const struct vt_config *cfg, bool check_only, char *note, size_t notelen,
                      char *err, size_t errlen) {
  if (!cfg->http_enabled) return 0;
  int e = bindcheck_try(cfg->http_address, cfg->http_port, SOCK_STREAM, false);
  if (e == 0) return 0;
  char name[64] = "", owner[128] = "";
  pid_t pid = e == EADDRINUSE ? bindcheck_owner(cfg->http_port, SOCK_STREAM, name, sizeof name) : 0;
  if (pid && check_only && strcmp(name, "vettimed") == 0) {
    if (note)
      snprintf(note, notelen, "http %s port %d: held by the running vettimed (pid %ld): a reload "
               "keeps it; a second daemon could not listen", cfg->http_address, cfg->http_port,
               (long)pid);
    return 0;
  }
  if (pid) snprintf(owner, sizeof owner, " (by %s, pid %ld)", name, (long)pid);
  return fail_at(cfg, cfg->http_at, err, errlen, "http %s port %d%s: cannot listen: %s%s%s",
                 cfg->http_address, cfg->http_port, dflt(cfg->http_at), strerror(e), owner,
                 cfg->http_at.line ? "" : " (choose another with `http ADDRESS port N`, or "
                                          "`http off`)");
}

/* A device a receiver opens: there, and a character device. */
static int check_device(const struct vt_config *cfg, const struct source_config *s,
                        const char *what, const char *path, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st))
    return fail_at(cfg, source_at(s), err, errlen, "%s %s: %s", what, path, strerror(errno));
  if (!S_ISCHR(st.st_mode))
    return fail_at(cfg, source_at(s), err, errlen, "%s %s: not a device", what, path);
  return 0;
}

/* The folder a sock receiver creates its socket in, and what is at the
 * path already: nothing, or a (stale) socket the driver replaces. */
static int check_sock_path(const struct vt_config *cfg, const struct source_config *s, char *err,
                           size_t errlen) {
  char dir[PATH_MAX];
  parent_of(s->device, dir, sizeof dir);
  int e = folder_state(dir);
  if (e)
    return fail_at(cfg, source_at(s), err, errlen, "sock %s: the folder %s %s", s->device, dir,
                   e == ENOENT ? "does not exist" : "is not a folder");
  struct stat st;
  if (lstat(s->device, &st) == 0 && !S_ISSOCK(st.st_mode))
    return fail_at(cfg, source_at(s), err, errlen,
                   "sock %s: the path exists and is not a socket (a stale socket is replaced, "
                   "anything else is left alone)", s->device);
  return 0;
}

static int check_sources(const struct vt_config *cfg, char *err, size_t errlen) {
  for (int i = 0; i < cfg->n_sources; i++) {
    const struct source_config *s = &cfg->sources[i];
    int rc = 0;
    if (s->kind == SOURCE_NMEA || s->kind == SOURCE_DCF77)
      rc = check_device(cfg, s, source_kind_name(s->kind), s->device, err, errlen);
    if (rc == 0 && s->kind == SOURCE_NMEA && s->pps[0])
      rc = check_device(cfg, s, "nmea pps", s->pps, err, errlen);
    if (rc == 0 && s->kind == SOURCE_SOCK) rc = check_sock_path(cfg, s, err, errlen);
    if (rc) return -1;
  }
  return 0;
}

/* Whether gid is the user's group or one of its supplementary groups. */
static bool in_groups(const struct passwd *pw, gid_t gid) {
  gid_t groups[256];
  int n = (int)(sizeof groups / sizeof groups[0]);
  if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) n = 0;
  for (int i = 0; i < n; i++)
    if (groups[i] == gid) return true;
  return gid == pw->pw_gid;
}

/* `user NAME`: an account that exists (the switch itself happens once
 * everything is open: vettimed.c). */
static int check_user(const struct vt_config *cfg, char *err, size_t errlen) {
  if (!cfg->user[0]) return 0;
  const struct passwd *pw = getpwnam(cfg->user);
  if (!pw) return fail_at(cfg, cfg->user_at, err, errlen, "user %s: no such user", cfg->user);
  /* Started as root, the daemon drops to the user and goes on writing the
   * history (SQLite makes its -wal and -shm files beside it): the
   * database's folder must let the user write, by its mode bits (the user
   * keeps its own groups: initgroups). A folder still to be made is made
   * by root. */
  if (geteuid() != 0 || pw->pw_uid == 0) return 0;
  char dir[PATH_MAX];
  parent_of(cfg->database, dir, sizeof dir);
  struct stat st;
  bool ok = stat(dir, &st) == 0 &&
            ((st.st_uid == pw->pw_uid && (st.st_mode & S_IWUSR)) ||
             (in_groups(pw, st.st_gid) && (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH));
  if (ok) return 0;
  return fail_at(cfg, cfg->user_at, err, errlen,
                 "user %s: the database folder %s %s (chown it to %s)", cfg->user, dir,
                 folder_state(dir) == ENOENT ? "would be made by root, not writable by the user"
                                             : "is not writable by the user",
                 cfg->user);
}

/* Each ntstrustedcerts file loads as the NTS client will load it (the
 * PEM certificates read, then let go). */
static int check_nts_trust(const struct vt_config *cfg, char *err, size_t errlen) {
  for (int i = 0; i < cfg->n_nts_trust; i++) {
    const struct nts_trust *t = &cfg->nts_trust[i];
    const char *file = t->path;
    char why[400];
    struct nts_tls *tls = nts_tls_new(&file, 1, why, sizeof why);
    if (!tls)
      return fail_at(cfg, (struct config_where){t->file, t->line}, err, errlen, "%s", why);
    nts_tls_free(tls);
  }
  return 0;
}

static int check_families(const struct vt_config *cfg, char *err, size_t errlen) {
  for (int i = 0; i < config_family_count(); i++) {
    const struct config_family *f = config_family_at(i);
    const void *state = config_family_state(cfg, f);
    if (f->check && state && f->check(state, cfg, err, errlen)) return -1;
  }
  return 0;
}

int config_check_sources(const struct vt_config *cfg, char *err, size_t errlen) {
  return check_sources(cfg, err, errlen) || check_nts_trust(cfg, err, errlen) ? -1 : 0;
}

int config_check_system(const struct vt_config *cfg, bool check_only, char *note, size_t notelen,
                        char *err, size_t errlen) {
  if (note && notelen) note[0] = '\0';
  /* What the files name first, the ports (which another process may
   * hold for a while) last. */
  if (check_database(cfg, err, errlen) || check_sources(cfg, err, errlen) ||
      check_user(cfg, err, errlen) || check_nts_trust(cfg, err, errlen) ||
      check_families(cfg, err, errlen) ||
      check_http(cfg, check_only, note, notelen, err, errlen))
    return -1;
  return 0;
}
