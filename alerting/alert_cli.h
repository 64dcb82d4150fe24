/* `vettime alert`: the operator's view of the outbox, read from the
 * configured database directly (no daemon needed, like `vettime replay`):
 *
 *   vettime alert status [--json]           pending and dead notifications, counts per channel
 *   vettime alert test [CHANNEL] [--wait S] a test notification through the outbox
 *   vettime alert retry ID|all              requeue dead notifications
 *
 * `alert test` inserts a test row per channel (or for CHANNEL) into the
 * outbox; the running daemon's sender picks it up within a second and
 * sends it like any other notification, so the whole path is tested: the
 * outbox, the sender, the channel and the receiver. With --wait it waits
 * until each row is sent or dead and says which. */
#ifndef VT_ALERT_CLI_H
#define VT_ALERT_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* argv[0] is "alert"; -h/--help anywhere prints the help. Returns the exit
 * status (README.md "Exit status"): 0 ok; 1 a test notification ended dead
 * or was tried and not sent in time, or dead notifications exist (status);
 * 64 usage; 65 no such notification or channel, or the notification is not
 * dead (retry ID); 66 no database or no outbox in it yet; 69 no sender took
 * a test notification up in time and the history has no vote of the last
 * 5 s (no vettimed runs on this database); 74 a database error; 78
 * configuration. */
int alert_cli_main(const char *config_path, bool json, int argc, char **argv);

/* For `vettime alarms`: when the configuration names a database that
 * exists and holds dead notifications, prints a short list of them to
 * out. Silent otherwise (also when the file cannot be read). */
void alert_cli_dead_footer(const char *config_path, FILE *out);

#endif
