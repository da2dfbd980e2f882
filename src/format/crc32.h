/* CRC-32/ISO-HDLC (zlib polynomial) for the .etm format and checkpoints.
 * Declarations only; no format structures here. */
#ifndef ET_FORMAT_CRC32_H
#define ET_FORMAT_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* CRC of len bytes; et_crc32("123456789", 9) == 0xCBF43926. */
uint32_t et_crc32(const void *data, size_t len);

/* Continue a CRC: et_crc32_update(et_crc32(a, n), b, m) equals the CRC of a
 * followed by b. Start from 0. */
uint32_t et_crc32_update(uint32_t crc, const void *data, size_t len);

#endif /* ET_FORMAT_CRC32_H */
