/* Linux capabilities of the calling thread (capabilities(7)): what
 * vettimed keeps once its sockets are bound and its devices open (nothing).
 * Capabilities belong to a thread, not to the process: a thread created
 * afterwards inherits the creating thread's, so the daemon's main drops
 * them once everything is open, and a thread started before that (the NTP
 * server's) drops its own when it starts. Raw capget/capset: no libcap. */
#ifndef VT_CAPS_H
#define VT_CAPS_H

#include <stdbool.h>
#include <stddef.h>

/* Empties the calling thread's effective, permitted, inheritable and
 * ambient sets (lowering needs no privilege). Returns 0, or -1 with the
 * reason in err. */
int caps_drop_all(char *err, size_t errlen);

/* True when the calling thread has any capability in its effective or
 * permitted set, or when the kernel does not say. */
bool caps_any(void);

#endif
