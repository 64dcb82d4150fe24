/* The serial-device life cycle shared by the receiver drivers on a serial
 * line (nmea_driver.c, dcf77_driver.c): open non-blocking and raw with the
 * driver's termios parameters, register with the event loop, read what
 * arrives and time each read with CLOCK_REALTIME right after read()
 * returns, and when the device goes away (end of file, EIO: USB unplugged,
 * pty closed) close it and reopen it at most every SERIAL_REOPEN_INTERVAL
 * seconds. The protocols, counters and states stay with the drivers. */
#ifndef VT_SERIAL_H
#define VT_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>
#include <time.h>

#include "probes/probe.h"

#define SERIAL_REOPEN_INTERVAL 5.0 /* s between attempts to reopen a lost device */
#define SERIAL_READ_MAX 1024       /* bytes, the largest read_size */

/* The line's settings on top of cfmakeraw(), CLOCAL | CREAD, VMIN 1 and
 * VTIME 0: flags cleared then set in c_cflag, flags cleared in c_iflag. */
struct serial_params {
  speed_t speed;
  tcflag_t cflag_clear, cflag_set;
  tcflag_t iflag_clear;
};

/* Bytes as one read() returned them; stamp is CLOCK_REALTIME read right
 * after that read() returned, and osc CLOCK_MONOTONIC_RAW (s) read with
 * it: the local oscillator, unslewed, for the receiver's own continuity
 * (probes/rx_continuity.h). osc - stamp maps this read's real times onto
 * the oscillator. */
typedef void (*serial_bytes_handler)(void *ctx, const uint8_t *bytes, size_t n, struct timespec stamp,
                                     double osc);
/* The device went away (why: "end of file" or strerror); it is closed. */
typedef void (*serial_lost_handler)(void *ctx, const char *why);

struct serial_line {
  /* set by the driver before serial_open() */
  const char *kind;            /* log prefix: "nmea", "dcf77" */
  const char *name;            /* the source's name, for the logs */
  const char *path;            /* the device */
  struct serial_params params;
  size_t read_size;            /* bytes per read(), 1 .. SERIAL_READ_MAX */
  serial_bytes_handler on_bytes;
  serial_lost_handler on_lost;
  void *ctx;
  /* kept by serial.c */
  int fd;                      /* -1 while lost */
  double lost_since;           /* monotonic s of the last loss or reopen attempt */
};

/* Opens s->path with s->params and registers it with the event loop.
 * Returns 0, or -1 with errno set by open() (nothing registered). A
 * device that is not a terminal (a FIFO in tests) is used as it is; a
 * line that cannot be set is logged and used as it is. */
int serial_open(struct serial_line *s);

/* Unregisters and closes the line if it is open. Calls no handler. */
void serial_close(struct serial_line *s);

/* For the driver's periodic tick while the line is lost (fd < 0): when
 * SERIAL_REOPEN_INTERVAL s have passed since the loss or the last
 * attempt, tries serial_open() again. Returns true when the device was
 * reopened (logged "device reopened"); the driver counts the reconnect. */
bool serial_try_reopen(struct serial_line *s);

/* The line's part of a serial receiver's periodic tick: while it is lost,
 * serial_try_reopen(), and when that reopens it counts PC_RECONNECT and
 * sets state "init"; while it is open, sets state "no-data" when more
 * than no_data_after s have passed since last_data (monotonic s). States
 * are logged as driver_set_state() does, under s->kind and s->name. */
void serial_tick(struct serial_line *s, struct probe_report *rep, double last_data, double no_data_after);

#endif
