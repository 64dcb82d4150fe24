/* The SQL migrations compiled in from schema/NNN_name.sql (see
 * scripts/embed-migrations.sh). Levels are consecutive from 1; level N is
 * applied when PRAGMA user_version is N-1. */
#ifndef VT_MIGRATIONS_H
#define VT_MIGRATIONS_H

struct migration {
  int level;        /* the NNN of the file name */
  const char *name; /* the file name without .sql */
  const char *sql;  /* the whole file */
};

extern const struct migration migrations[];
extern const int migrations_count;

#endif
