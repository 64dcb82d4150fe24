/* libFuzzer target: the NTP key file (monitor/keys.c, ntpd's format:
 * "ID TYPE KEY") over arbitrary text. A parsed keyring must hold only keys
 * keyring_find() finds again with a length within the key buffer; a refusal
 * names the line; the keyring is freed (zeroed) either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  struct keyring kr = {0};
  char err[512] = "";
  if (keyring_parse("fuzz.keys", text, &kr, err, sizeof err) == 0) {
    for (size_t i = 0; i < kr.n; i++) {
      const struct ntp_key *k = keyring_find(&kr, kr.keys[i].id);
      if (!k || k->id != kr.keys[i].id || k->len == 0 || k->len > sizeof k->key) abort();
    }
    keyring_free(&kr);
  } else if (strncmp(err, "fuzz.keys", 9) != 0 || kr.n != 0) {
    abort();
  }
  free(text);
  return 0;
}
