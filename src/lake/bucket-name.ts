/**
 * S3's bucket naming rules for general purpose buckets.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */

const SHAPE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_SHAPED = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * True when `name` is a valid S3 bucket name: 3–63 characters of lower-case letters,
 * digits, dots and hyphens, starting and ending with a letter or digit, with no two
 * adjacent dots, not shaped like an IP address, and without S3's reserved prefixes and
 * suffixes.
 */
export function isValidBucketName(name: string): boolean {
  if (!SHAPE.test(name)) return false;
  if (name.includes('..')) return false;
  if (IP_SHAPED.test(name)) return false;
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return false;
  if (RESERVED_SUFFIXES.some((s) => name.endsWith(s))) return false;
  return true;
}
