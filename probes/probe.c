/* The probe registry: which driver serves which source kind, and the names
 * of the counters every driver keeps. The core asks here for a driver by
 * kind and never includes a concrete driver's header. */
#include "probes/probe.h"

#include "monitor/config.h"

/* Drivers that are not linked in resolve to NULL (weak), so the core can
 * say "no driver" instead of failing to link. */
extern const struct probe_ops ntp_client_ops;
extern const struct probe_ops gpsd_ops __attribute__((weak));
extern const struct probe_ops nmea_ops __attribute__((weak));
extern const struct probe_ops dcf77_ops __attribute__((weak));
extern const struct probe_ops shm_ops __attribute__((weak));
extern const struct probe_ops sock_ops __attribute__((weak));

static const char *const counter_names[PC_COUNT] = {
    [PC_SENT] = "sent",
    [PC_RECEIVED] = "received",
    [PC_VALID] = "valid",
    [PC_TIMEOUT] = "timeout",
    [PC_BAD_LENGTH] = "bad_length",
    [PC_BAD_FORMAT] = "bad_format",
    [PC_BOGUS_ORIGIN] = "bogus_origin",
    [PC_DUPLICATE] = "duplicate",
    [PC_ZERO_TS] = "zero_timestamp",
    [PC_UNSYNC] = "unsynchronised",
    [PC_BAD_STRATUM] = "bad_stratum",
    [PC_BAD_DISTANCE] = "bad_distance",
    [PC_BAD_DELAY] = "bad_delay",
    [PC_AUTH_FAIL] = "auth_fail",
    [PC_CRYPTO_NAK] = "crypto_nak",
    [PC_KOD] = "kod",
    [PC_SEND_ERROR] = "send_error",
    [PC_BAD_CHECKSUM] = "bad_checksum",
    [PC_BAD_INPUT] = "bad_input",
    [PC_UNTRUSTED] = "untrusted",
    [PC_PARITY] = "parity",
    [PC_PPS_MISMATCH] = "pps_mismatch",
    [PC_RECONNECT] = "reconnect",
    [PC_DEGRADED] = "degraded",
    [PC_JUMPS] = "jumps",
};

const char *probe_counter_name(enum probe_counter c) {
  return (c >= 0 && c < PC_COUNT) ? counter_names[c] : "unknown";
}

const struct probe_ops *probe_ops_for_kind(int kind) {
  switch (kind) {
  case SOURCE_NTP: return &ntp_client_ops;
  case SOURCE_GPSD: return &gpsd_ops;
  case SOURCE_NMEA: return &nmea_ops;
  case SOURCE_DCF77: return &dcf77_ops;
  case SOURCE_SHM: return &shm_ops;
  case SOURCE_SOCK: return &sock_ops;
  default: return NULL;
  }
}
