/* test_sha256.c - SHA-256 against the FIPS 180-4 / NIST example vectors, including the
 * padding boundaries (55, 56, 63, 64 bytes) where a one-block/two-block slip would show. */
#include <string.h>

#include "check.h"
#include "sha256.h"

int main(void) {
    char hex[65];
    hp_sha256_hex("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "empty: %s", hex);
    hp_sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "abc: %s", hex);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    hp_sha256_hex(two, strlen(two), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "448 bits: %s", hex);
    /* One million 'a' (NIST long message). */
    static char million[1000000];
    memset(million, 'a', sizeof million);
    hp_sha256_hex(million, sizeof million, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "1e6 a: %s", hex);
    /* 55 and 64 bytes of 'a' (values from a reference implementation, Python's hashlib). */
    hp_sha256_hex(million, 55, hex);
    CHECK(strcmp(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318") == 0, "55 a: %s", hex);
    hp_sha256_hex(million, 64, hex);
    CHECK(strcmp(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb") == 0, "64 a: %s", hex);
    return hp_check_summary("test_sha256");
}
