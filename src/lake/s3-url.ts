/**
 * `s3://bucket/key` locations, as the AWS CLI and Redshift COPY write them, and a walk
 * over every page of a listing.
 * @see https://docs.aws.amazon.com/cli/latest/reference/s3/#path-argument-type
 */
import { LakeError, type ObjectInfo, type ObjectStore, type S3Location } from './index.ts';

const SCHEME = 's3://';

/**
 * Splits `s3://bucket/key/with/slashes` into bucket and key (the key may be empty:
 * `s3://bucket` and `s3://bucket/` both give ''). The key is taken literally, without
 * percent-decoding, as the AWS CLI does. Anything else is LakeError InvalidArgument.
 */
export function parseS3Url(url: string): S3Location {
  if (typeof url !== 'string' || !url.startsWith(SCHEME)) {
    throw new LakeError('InvalidArgument', `Not an s3:// URL: ${JSON.stringify(url)}`);
  }
  const rest = url.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (bucket === '' || /[\s/\\?#]/.test(bucket)) {
    throw new LakeError('InvalidArgument', `The s3:// URL has no valid bucket name: ${JSON.stringify(url)}`);
  }
  return { bucket, key };
}

/** Writes a bucket and key as `s3://bucket/key`. */
export function formatS3Url(bucket: string, key = ''): string {
  return `${SCHEME}${bucket}/${key}`;
}

/** Every object whose key starts with `prefix`, in key order, fetching pages as they are consumed. */
export async function* listAllObjects(
  store: ObjectStore,
  bucket: string,
  prefix = '',
): AsyncIterable<ObjectInfo> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.listObjects(bucket, {
      prefix,
      ...(startAfter !== undefined ? { startAfter } : {}),
    });
    yield* page.objects;
    if (!page.isTruncated || page.nextStartAfter === undefined) return;
    startAfter = page.nextStartAfter;
  }
}
