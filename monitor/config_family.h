/* Directive families: the configuration file's directives that a module
 * above monitor/ owns and parses itself (alerting's alert, alertrepeat,
 * alertretry, alertsite, heartbeat), registered with the parser of
 * monitor/config.h from main. Apart from config.h so that an owner needs
 * neither struct vt_config's other members nor their headers. */
#ifndef VT_CONFIG_FAMILY_H
#define VT_CONFIG_FAMILY_H

#include <stddef.h>

struct lp_ctx;
struct vt_config;

/* A family of directives parsed by the module that owns them. Its parsed
 * state is a plain value (no pointers) of state_size bytes, allocated per
 * parsed configuration, so a configuration can be compared with another
 * (a reload) byte for byte. */
struct config_family {
  const char *const *directives; /* the first words it takes; NULL-ended */
  size_t state_size;
  void (*defaults)(void *state); /* fills a zeroed state with the defaults */
  /* One line whose argv[0] is one of directives. Returns 0, or -1 with
   * "FILE:LINE: message" written through lp_fail(c, ...). */
  int (*directive)(void *state, struct lp_ctx *c, char **argv, int argc);
  /* Optional: what the family's directives name on the system (a port
   * that must be free, a file that must be readable), checked by
   * `vettimed -t` and before a start creates anything (config_check.h).
   * Returns 0, or -1 with "FILE:LINE: message" in err. */
  int (*check)(const void *state, const struct vt_config *cfg, char *err, size_t errlen);
};

#define CONFIG_FAMILIES_MAX 8

/* Registers a directive family; call it from main before the first
 * config_load() or config_parse(). f must stay valid. Registering the same
 * family again is harmless. Returns 0, or -1 (a bug of the caller) when
 * CONFIG_FAMILIES_MAX are registered or one of its directives is taken. */
int config_register_family(const struct config_family *f);

/* The state of family f in cfg (its defaults, then its directives), or
 * NULL when f was not registered when cfg was parsed. */
const void *config_family_state(const struct vt_config *cfg, const struct config_family *f);

/* The name of file number `file` of cfg (lp_ctx.file_id of the line a
 * family parsed); the main file for an unknown number. */
const char *config_file_name(const struct vt_config *cfg, int file);

/* The registered families, in registration order (for config_check). */
int config_family_count(void);
const struct config_family *config_family_at(int i);

#endif
