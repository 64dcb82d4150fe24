/* Unit tests for monitor/keys.c: chrony- and NTPsec-style key files, and the
 * exact FILE:LINE error for each kind of bad line. */
#include "monitor/keys.h"
#include "tests/unit/unit.h"

#include <unistd.h>

static void test_chrony_style(void) {
  static const char text[] =
      "# chrony.keys\n"
      "1 MD5 HEX:0123456789ABCDEF0123456789abcdef01234567\n"
      "\n"
      "2 SHA1 ASCII:hunter2-password   # a comment\r\n"
      "3 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c\n"
      "  4 ASCII:plainmd5\n"
      "5 short\n"
      "6 SHA-1 HEX:00ff";
  struct keyring kr = {0};
  char err[256] = "";
  CHECK_INT(keyring_parse("chrony.keys", text, &kr, err, sizeof err), 0);
  CHECK_STR(err, "");
  CHECK_INT(kr.n, 6);
  const struct ntp_key *k = keyring_find(&kr, 1);
  CHECK(k && k->alg == MAC_MD5 && k->len == 20);
  CHECK(k && k->key[0] == 0x01 && k->key[7] == 0xef && k->key[19] == 0x67);
  k = keyring_find(&kr, 2);
  CHECK(k && k->alg == MAC_SHA1 && k->len == 16 &&
        memcmp(k->key, "hunter2-password", 16) == 0);
  k = keyring_find(&kr, 3);
  CHECK(k && k->alg == MAC_AES128_CMAC && k->len == 16 && k->key[0] == 0x2b &&
        k->key[15] == 0x3c);
  k = keyring_find(&kr, 4); /* type omitted: MD5, ASCII */
  CHECK(k && k->alg == MAC_MD5 && k->len == 8 && memcmp(k->key, "plainmd5", 8) == 0);
  k = keyring_find(&kr, 5);
  CHECK(k && k->alg == MAC_MD5 && k->len == 5);
  k = keyring_find(&kr, 6);
  CHECK(k && k->alg == MAC_SHA1 && k->len == 2 && k->key[1] == 0xff);
  CHECK(keyring_find(&kr, 7) == NULL);
  CHECK(keyring_find(NULL, 1) == NULL);
  keyring_free(&kr);
  CHECK(kr.keys == NULL && kr.n == 0);
  keyring_free(&kr);
}

static void test_ntpsec_style(void) {
  static const char text[] =
      "#\n# ntp.keys\n#\n"
      "1 M secret\n"
      "2 SHA1 0123456789abcdef0123456789abcdef01234567\n"
      "3 AES-128-CMAC 2b7e151628aed2a6abf7158809cf4f3c\n"
      "4 sha-1 twentycharsexactly20 127.0.0.1,::1\n"   /* 20: ASCII */
      "5 md5 0123456789abcdef01234\n"                   /* 21 hex, odd */
      ;
  struct keyring kr = {0};
  char err[256] = "";
  /* Key 5 is 21 hex digits: NTPsec reads it as hex, and it is odd. */
  CHECK_INT(keyring_parse("ntp.keys", text, &kr, err, sizeof err), -1);
  CHECK_STR(err, "ntp.keys:8: key 5: odd number of hex digits");
  size_t good = strstr(text, "5 md5") - text;
  char copy[512];
  memcpy(copy, text, good);
  copy[good] = '\0';
  CHECK_INT(keyring_parse("ntp.keys", copy, &kr, err, sizeof err), 0);
  CHECK_INT(kr.n, 4);
  const struct ntp_key *k = keyring_find(&kr, 1);
  CHECK(k && k->alg == MAC_MD5 && k->len == 6 && memcmp(k->key, "secret", 6) == 0);
  k = keyring_find(&kr, 2);
  CHECK(k && k->alg == MAC_SHA1 && k->len == 20 && k->key[1] == 0x23);
  k = keyring_find(&kr, 3);
  CHECK(k && k->alg == MAC_AES128_CMAC && k->len == 16 && k->key[1] == 0x7e);
  k = keyring_find(&kr, 4);
  CHECK(k && k->alg == MAC_SHA1 && k->len == 20 &&
        memcmp(k->key, "twentycharsexactly20", 20) == 0);
  keyring_free(&kr);
}

static void test_type_names(void) {
  static const char text[] =
      "1 md5 a\n2 m b\n3 Sha1 c\n4 sha-1 d\n"
      "5 aes-128-cmac HEX:000102030405060708090a0b0c0d0e0f\n"
      "6 aes128 HEX:000102030405060708090a0b0c0d0e0f\n"
      "7 AES-128 HEX:000102030405060708090a0b0c0d0e0f\n"
      "8 aes128cmac HEX:000102030405060708090a0b0c0d0e0f\n"
      "9 CMAC ASCII:sixteen-bytes!!!\n";
  static const enum mac_alg want[] = {MAC_MD5, MAC_MD5, MAC_SHA1, MAC_SHA1,
                                      MAC_AES128_CMAC, MAC_AES128_CMAC,
                                      MAC_AES128_CMAC, MAC_AES128_CMAC,
                                      MAC_AES128_CMAC};
  struct keyring kr = {0};
  char err[256] = "";
  CHECK_INT(keyring_parse("k", text, &kr, err, sizeof err), 0);
  CHECK_STR(err, "");
  CHECK_INT(kr.n, 9);
  for (uint32_t id = 1; id <= 9; id++) {
    const struct ntp_key *k = keyring_find(&kr, id);
    CHECK(k && k->alg == want[id - 1]);
  }
  keyring_free(&kr);
}

static void expect_error(const char *text, const char *want) {
  struct keyring kr = {(struct ntp_key *)0x1, 99}; /* must stay untouched */
  char err[256] = "";
  CHECK_INT(keyring_parse("keys.conf", text, &kr, err, sizeof err), -1);
  CHECK_STR(err, want);
  CHECK(kr.keys == (struct ntp_key *)0x1 && kr.n == 99);
}

static void test_errors(void) {
  expect_error("1 MD5 a\n\n4 SHA256 HEX:0011\n",
               "keys.conf:3: key 4: unknown type SHA256");
  expect_error("# x\n\n7 AES-128-CMAC HEX:000102030405060708090a0b\n",
               "keys.conf:3: key 7: AES-128-CMAC needs a 16-byte key, got 12");
  expect_error("7 AES128 short\n",
               "keys.conf:1: key 7: AES-128-CMAC needs a 16-byte key, got 5");
  expect_error("2 SHA1 HEX:00zz11\n",
               "keys.conf:1: key 2: bad hex digit 'z' in key");
  expect_error("2 SHA1 HEX:001\n", "keys.conf:1: key 2: odd number of hex digits");
  expect_error("1 M x\n3 MD5\n", "keys.conf:2: key 3: missing key");
  expect_error("3 MD5 HEX:\n", "keys.conf:1: key 3: missing key");
  expect_error("3\n", "keys.conf:1: key 3: missing type and key");
  expect_error("1 MD5 a\n2 MD5 b\n1 SHA1 c\n",
               "keys.conf:3: key 1: duplicate id (first on line 1)");
  expect_error("0 MD5 a\n", "keys.conf:1: key id 0 out of range (1-4294967295)");
  expect_error("4294967296 MD5 a\n",
               "keys.conf:1: key id 4294967296 out of range (1-4294967295)");
  expect_error("99999999999999999999999 MD5 a\n",
               "keys.conf:1: key id 99999999999999999999999 out of range "
               "(1-4294967295)");
  expect_error("abc MD5 a\n", "keys.conf:1: key id \"abc\" is not a number");
  expect_error("-1 MD5 a\n", "keys.conf:1: key id \"-1\" is not a number");
  expect_error("5 SHA1 HEX:"
               "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
               "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0fff\n",
               "keys.conf:1: key 5: key longer than 64 bytes");
}

static void test_edge_cases(void) {
  struct keyring kr = {0};
  char err[64];
  CHECK_INT(keyring_parse("empty", "", &kr, err, sizeof err), 0);
  CHECK_INT(kr.n, 0);
  keyring_free(&kr);
  CHECK_INT(keyring_parse("c", "# only\n   \n\t# comments\n", &kr, err, 0), 0);
  keyring_free(&kr);
  /* A tiny err buffer truncates, never overflows. */
  CHECK_INT(keyring_parse("keys.conf", "x MD5 a", &kr, err, 8), -1);
  CHECK_STR(err, "keys.co");
  /* Many keys: the ring grows. */
  char big[8192] = "";
  for (int i = 1; i <= 100; i++)
    snprintf(big + strlen(big), sizeof big - strlen(big), "%d SHA1 key%d\n", i, i);
  CHECK_INT(keyring_parse("big", big, &kr, err, sizeof err), 0);
  CHECK_INT(kr.n, 100);
  const struct ntp_key *k = keyring_find(&kr, 77);
  CHECK(k && k->len == 5 && memcmp(k->key, "key77", 5) == 0);
  keyring_free(&kr);
}

static void test_load(void) {
  char path[] = "/tmp/vettime-keys-XXXXXX", err[256] = "";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  static const char text[] = "10 SHA1 HEX:00112233445566778899aabbccddeeff00112233\n";
  CHECK_INT(write(fd, text, sizeof text - 1), (long long)(sizeof text - 1));
  close(fd);
  struct keyring kr = {0};
  CHECK_INT(keyring_load(path, &kr, err, sizeof err), 0);
  CHECK(kr.n == 1 && kr.keys[0].id == 10 && kr.keys[0].key[19] == 0x33);
  keyring_free(&kr);
  unlink(path);
  CHECK_INT(keyring_load(path, &kr, err, sizeof err), -1);
  char want[300];
  snprintf(want, sizeof want, "%s: No such file or directory", path);
  CHECK_STR(err, want);
}

/* A NUL byte in the file: refused with the reason, as the configuration and
 * scenario files are (it was cut there: the keys after it were dropped
 * without a word). */
static void test_load_nul(void) {
  char path[] = "/tmp/vettime-keys-XXXXXX", err[256] = "";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  static const char text[] = "1 MD5 ASCII:first\n\0002 MD5 ASCII:second\n";
  CHECK_INT(write(fd, text, sizeof text - 1), (long long)(sizeof text - 1));
  close(fd);
  struct keyring kr = {0};
  CHECK_INT(keyring_load(path, &kr, err, sizeof err), -1);
  char want[300];
  snprintf(want, sizeof want, "%s: contains a NUL byte (not a text file?)", path);
  CHECK_STR(err, want);
  CHECK(kr.n == 0 && kr.keys == NULL);
  unlink(path);
}

int main(void) {
  unit_init();
  RUN(test_chrony_style);
  RUN(test_ntpsec_style);
  RUN(test_type_names);
  RUN(test_errors);
  RUN(test_edge_cases);
  RUN(test_load);
  RUN(test_load_nul);
  return unit_done();
}
