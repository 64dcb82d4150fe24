/* The checks between parsing a configuration (config.h) and starting
 * anything: what `vettimed -t` runs, and what a start runs first, so that
 * a configuration that cannot work stops the daemon before it creates or
 * migrates a database, binds a port or opens a device. Every failure is
 * one line, "FILE:LINE: message" (the line of the directive at fault; the
 * main file alone when the cause is a default, which the message names).
 *
 * Three stages, each its own function:
 *   keys    the key file: a regular file, readable by its owner or group
 *           and by nobody else (the mode bits, whoever runs the check),
 *           parsed, and every `key ID` of a server in it;
 *   policy  pure: at least one source; minsources and minclasses that the
 *           configured sources can meet;
 *   system  what the configuration names on this machine: the database
 *           can be opened or created (never created here), the HTTP port
 *           can be bound, devices and socket folders exist, and what each
 *           registered directive family checks (config_family.check: the
 *           NTP server's ports, the HTTP token file). Host names of
 *           servers and gpsd are not resolved: the daemon resolves them,
 *           and again when a server stops answering. */
#ifndef VT_CONFIG_CHECK_H
#define VT_CONFIG_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "monitor/config.h"
#include "monitor/keys.h"

/* Checks and reads cfg's key file into kr (*has_kr false when there is
 * none) and checks the servers' key ids. Returns 0, or -1 with err set
 * ("keyfile" in every message; an error inside the key file as
 * "KEYFILE:LINE: ... (keyfile named at CONF:LINE)"). */
int config_check_keys(const struct vt_config *cfg, struct keyring *kr, bool *has_kr, char *err,
                      size_t errlen);

/* Pure. Returns 0, or -1 with err set. */
int config_check_policy(const struct vt_config *cfg, char *err, size_t errlen);

/* What the sources name on the system: receivers' devices, sock folders,
 * NTS trust files (a part of config_check_system). What a reload runs
 * besides keys and policy: the database, the ports and the user stay as
 * they are across a reload. Returns 0, or -1 with err set. */
int config_check_sources(const struct vt_config *cfg, char *err, size_t errlen);

/* Touches the system (stat, bind and close) but creates nothing. With
 * check_only (`vettimed -t`), a port held by a running vettimed is no
 * error (a reload keeps its sockets) and is said in note; for a start it
 * is. Returns 0, or -1 with err set. note may be NULL. */
int config_check_system(const struct vt_config *cfg, bool check_only, char *note, size_t notelen,
                        char *err, size_t errlen);

#endif
