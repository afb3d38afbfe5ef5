// CRC-32C (Castagnoli polynomial, the one iSCSI, ext4 and SSE4.2's crc32 instruction use):
// the checksum of ember's session state blobs. Detects every single-bit and every burst
// error up to 32 bits, which is what a checksum over a file on disk is for; it is not a
// defence against a deliberate forger (the blob's reader validates every size anyway).
#ifndef EMBER_BASE_CRC32C_H_
#define EMBER_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace ember {

// Extends `crc` (0 for a fresh checksum) with `n` bytes: Crc32c(Crc32c(0, a), b) equals the
// checksum of a followed by b. Crc32c(0, "123456789", 9) == 0xE3069283.
uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

}  // namespace ember

#endif  // EMBER_BASE_CRC32C_H_
