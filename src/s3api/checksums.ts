/**
 * The additional checksums S3 verifies on upload (`x-amz-checksum-<algorithm>`, base64 of the
 * big-endian digest): CRC32 (zlib), CRC32C (@aws-crypto/crc32c, as the SDKs), SHA-1, SHA-256.
 * CRC64NVME is accepted but not verified.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c, crc32c as crc32cOf } from '@aws-crypto/crc32c';
import { S3Error } from './errors.ts';

/** Checksum algorithms by their header suffix. */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;

/** One checksum algorithm name, lower case. */
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** CRC-32C (Castagnoli) of bytes, as an unsigned 32-bit number (the AWS SDK's own implementation). */
export function crc32c(data: Uint8Array): number {
  return crc32cOf(data) >>> 0;
}

function u32Base64(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64');
}

/** The base64 checksum of `data`, or undefined for an algorithm not computed here. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): string | undefined {
  switch (algorithm) {
    case 'crc32':
      return u32Base64(crc32(data));
    case 'crc32c':
      return u32Base64(crc32c(data));
    case 'sha1':
      return createHash('sha1').update(data).digest('base64');
    case 'sha256':
      return createHash('sha256').update(data).digest('base64');
    case 'crc64nvme':
      return undefined;
  }
}

/** Parses `x-amz-checksum-<alg>` into its algorithm, or undefined for another name. */
export function checksumHeaderAlgorithm(name: string): ChecksumAlgorithm | undefined {
  if (!name.startsWith('x-amz-checksum-')) return undefined;
  const alg = name.slice('x-amz-checksum-'.length);
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(alg) ? (alg as ChecksumAlgorithm) : undefined;
}

/**
 * Checks each given checksum against the body; BadDigest when one differs.
 * Returns the headers to echo in the response.
 */
export function verifyChecksums(
  given: ReadonlyMap<ChecksumAlgorithm, string>,
  body: Uint8Array,
): Record<string, string> {
  const echo: Record<string, string> = {};
  for (const [alg, value] of given) {
    const actual = checksumOf(alg, body);
    if (actual !== undefined && actual !== value) {
      throw new S3Error(
        'BadDigest',
        `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
    echo[`x-amz-checksum-${alg}`] = value;
  }
  return echo;
}

/** A checksum computed piece by piece over a streamed body. */
export interface ChecksumHasher {
  /** Adds the next bytes. */
  update(data: Uint8Array): void;
  /** The base64 checksum of everything added. */
  digest(): string;
}

/** A streaming hasher for `algorithm`, or undefined for one not computed here. */
export function checksumHasher(algorithm: ChecksumAlgorithm): ChecksumHasher | undefined {
  switch (algorithm) {
    case 'crc32': {
      let value = 0;
      return {
        update: (data) => {
          value = crc32(data, value);
        },
        digest: () => u32Base64(value),
      };
    }
    case 'crc32c': {
      const c = new Crc32c();
      return {
        update: (data) => void c.update(data),
        digest: () => u32Base64(c.digest()),
      };
    }
    case 'sha1':
    case 'sha256': {
      const h = createHash(algorithm);
      return { update: (data) => void h.update(data), digest: () => h.digest('base64') };
    }
    case 'crc64nvme':
      return undefined;
  }
}

/**
 * Checks each given checksum against what the hashers computed; BadDigest when one differs.
 * Returns the headers to echo in the response.
 */
export function verifyStreamedChecksums(
  given: ReadonlyMap<ChecksumAlgorithm, string>,
  computed: ReadonlyMap<ChecksumAlgorithm, ChecksumHasher>,
): Record<string, string> {
  const echo: Record<string, string> = {};
  for (const [alg, value] of given) {
    const actual = computed.get(alg)?.digest();
    if (actual !== undefined && actual !== value) {
      throw new S3Error(
        'BadDigest',
        `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
    echo[`x-amz-checksum-${alg}`] = value;
  }
  return echo;
}
