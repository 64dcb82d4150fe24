/* `vettime simulate`: fake stratum-1 NTP servers on loopback addresses
 * (127.0.0.1 by default) driven by a scenario file (cli/scenario.h,
 * docs/scenarios.md), for tests, demos and benchmarks.
 *
 *   vettime simulate SCENARIO [--port-base N] [--bind-base A.B.C.D]
 *                             [--config FILE] [--ready FILE]
 *                             [--keyfile FILE] [--check]
 *
 * Each server answers NTP client requests (mode 3, RFC 5905) on its
 * address and UDP port with CLOCK_REALTIME + its scenario offset at t + Gaussian noise,
 * where t is CLOCK_MONOTONIC since the start; the scenario's faults apply
 * at their times and each prints one line on stdout ("t=30.000 gps1 step
 * +0.001000 s"). The run ends after the scenario's duration, or on SIGTERM
 * or SIGINT, with exit status 0 and a per-server count of what was answered
 * and dropped on stderr. Runs on the event loop of lib/sched.h. */
#ifndef VT_SIMULATE_H
#define VT_SIMULATE_H

/* The command: argv[0] is "simulate", argv[1..argc) its arguments.
 *   --port-base N  renumber the servers' ports to N, N+1, ... in file order
 *   --bind-base A  renumber the servers' addresses to A, A+1, ... in file
 *                  order (host addresses in 127.0.0.0/8; chronyd takes one
 *                  source per address)
 *   --config FILE  write the vettimed `server ADDRESS port P minpoll A
 *                  maxpoll B iburst [key ID]` lines (and `keyfile` when a
 *                  server has a key) that a configuration can include as-is
 *   --ready FILE   write "NAME ADDRESS PORT" per server once every socket
 *                  is bound (written to FILE.tmp, then renamed)
 *   --keyfile FILE the keys (`ID TYPE KEY`, monitor/keys.h) of servers with
 *                  `key ID`; required when one has
 *   --check        parse the scenario, print a summary and exit
 * Returns the exit status: 0 done; 64 (EX_USAGE) bad arguments; 78
 * (EX_CONFIG) bad scenario or key file ("FILE:LINE: what is wrong" on
 * stderr); 71 (EX_OSERR) a socket could not be bound; 73 (EX_CANTCREAT)
 * --config or --ready could not be written. */
int simulate_main(int argc, char **argv);

#endif
