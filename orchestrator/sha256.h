/* sha256.h - SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits. Used for the
 * spec hash stored in results files, which a resume compares. */
#ifndef HP_SHA256_H
#define HP_SHA256_H

#include <stddef.h>

void hp_sha256_hex(const void *data, size_t len, char out[65]);

#endif
