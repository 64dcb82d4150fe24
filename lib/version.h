/* The one version string of vettime: `vettimed -V` prints it, the CLI
 * sends it as its User-Agent, and the API's status document reports it. */
#ifndef VT_VERSION_H
#define VT_VERSION_H

#define VT_VERSION "0.1.0"

#endif
