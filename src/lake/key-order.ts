/**
 * S3 lists keys in UTF-8 binary order. JavaScript compares strings by UTF-16 code units,
 * which disagrees for characters above U+FFFF (stored as surrogates D800–DFFF) against
 * characters in E000–FFFF. Code point order equals UTF-8 byte order, so comparing by code
 * point is enough.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 */

/** Compares two keys in UTF-8 binary order (negative, zero or positive, like `Array.sort`). */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates above E000–FFFF so UTF-16 units compare as their code points do. */
function utf8Rank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
