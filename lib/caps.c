/* Capabilities of the calling thread: see caps.h. */
#include "lib/caps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

int caps_drop_all(char *err, size_t errlen) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  /* the ambient set first: it cannot outlive permitted anyway, but a
   * kernel without it (before 4.3) answers EINVAL, which is fine */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
    snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
    return -1;
  }
  if (syscall(SYS_capset, &hdr, data)) {
    snprintf(err, errlen, "cannot drop the capabilities: %s", strerror(errno));
    return -1;
  }
  return 0;
}

bool caps_any(void) {
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &hdr, data)) return true;
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
    if (data[i].effective || data[i].permitted) return true;
  return false;
}
