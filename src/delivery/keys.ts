/**
 * Lake key naming, as Firehose names its objects, with one difference that the
 * exactly-once guarantee needs: the trailing id (a random UUID at Firehose) is derived from
 * the batch's log positions, so a batch rewritten after a crash gets the same key.
 *
 *   objects    <Prefix>YYYY/MM/dd/HH/<stream>-<version>-YYYY-MM-dd-HH-mm-ss-<id>[.gz]
 *   manifests  <Prefix>manifests/YYYY/MM/dd/HH/<stream>-YYYY-MM-dd-HH-mm-ss-<id>
 *   failed     <Prefix>errors/manifests/YYYY/MM/dd/HH/<stream>-YYYY-MM-dd-HH-mm-ss-<id>
 *   rejected   <Prefix>errors/records/YYYY/MM/dd/HH/<stream>-<version>-YYYY-MM-dd-HH-mm-ss-<id>
 *
 * `<id>` is UUID-shaped: the first offset in 16 hex digits, then the last offset in 16.
 * Times are UTC, taken from the oldest record's arrival time.
 *
 * @see https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html
 * @see https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html
 */
import { createHash } from 'node:crypto';
import { DeliveryStreamError } from './errors.ts';

/** One piece of a parsed prefix. */
type PrefixPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'timestamp'; readonly pattern: readonly FormatToken[] }
  | { readonly kind: 'random' }
  | { readonly kind: 'error-output-type' };

/** A Java DateTimeFormatter token Sluice supports. */
type FormatToken = { readonly literal: string } | { readonly field: string; readonly width: number };

/** A parsed Prefix or ErrorOutputPrefix. */
export interface ParsedPrefix {
  readonly parts: readonly PrefixPart[];
  readonly hasExpressions: boolean;
  readonly hasTimestamp: boolean;
  readonly hasErrorOutputType: boolean;
}

const FIELDS = new Set(['y', 'u', 'M', 'd', 'H', 'm', 's', 'S']);

/** Parses the subset of java.time.format.DateTimeFormatter patterns that prefixes use. */
function parsePattern(pattern: string): FormatToken[] {
  const tokens: FormatToken[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0)
        throw new DeliveryStreamError(
          'InvalidArgument',
          `Unterminated quote in timestamp pattern '${pattern}'.`,
        );
      tokens.push({ literal: end === i + 1 ? "'" : pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      if (!FIELDS.has(c)) {
        throw new DeliveryStreamError(
          'InvalidArgument',
          `Unsupported field '${c}' in timestamp pattern '${pattern}'.`,
        );
      }
      let j = i;
      while (pattern[j] === c) j++;
      tokens.push({ field: c, width: j - i });
      i = j;
    } else {
      tokens.push({ literal: c });
      i++;
    }
  }
  return tokens;
}

/** Parses a prefix with `!{namespace:value}` expressions. */
export function parsePrefix(prefix: string, isErrorPrefix: boolean): ParsedPrefix {
  const parts: PrefixPart[] = [];
  let hasTimestamp = false;
  let hasErrorOutputType = false;
  let rest = prefix;
  while (rest.length > 0) {
    const start = rest.indexOf('!{');
    if (start < 0) {
      parts.push({ kind: 'text', text: rest });
      break;
    }
    if (start > 0) parts.push({ kind: 'text', text: rest.slice(0, start) });
    const end = rest.indexOf('}', start);
    if (end < 0)
      throw new DeliveryStreamError('InvalidArgument', `Unterminated expression in prefix '${prefix}'.`);
    const expr = rest.slice(start + 2, end);
    const colon = expr.indexOf(':');
    const namespace = colon < 0 ? expr : expr.slice(0, colon);
    const value = colon < 0 ? '' : expr.slice(colon + 1);
    if (namespace === 'timestamp') {
      parts.push({ kind: 'timestamp', pattern: parsePattern(value) });
      hasTimestamp = true;
    } else if (namespace === 'firehose' && value === 'random-string') {
      parts.push({ kind: 'random' });
    } else if (namespace === 'firehose' && value === 'error-output-type') {
      if (!isErrorPrefix) {
        throw new DeliveryStreamError(
          'InvalidArgument',
          '!{firehose:error-output-type} is allowed only in ErrorOutputPrefix.',
        );
      }
      parts.push({ kind: 'error-output-type' });
      hasErrorOutputType = true;
    } else {
      throw new DeliveryStreamError(
        'InvalidArgument',
        `Unsupported expression !{${expr}} in prefix '${prefix}'.`,
      );
    }
    rest = rest.slice(end + 1);
  }
  return { parts, hasExpressions: parts.some((p) => p.kind !== 'text'), hasTimestamp, hasErrorOutputType };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Formats a UTC instant with parsed DateTimeFormatter tokens. */
function formatTimestamp(tokens: readonly FormatToken[], date: Date): string {
  let out = '';
  for (const token of tokens) {
    if ('literal' in token) {
      out += token.literal;
      continue;
    }
    switch (token.field) {
      case 'y':
      case 'u':
        out +=
          token.width === 2 ? pad(date.getUTCFullYear() % 100, 2) : pad(date.getUTCFullYear(), token.width);
        break;
      case 'M':
        out += pad(date.getUTCMonth() + 1, token.width);
        break;
      case 'd':
        out += pad(date.getUTCDate(), token.width);
        break;
      case 'H':
        out += pad(date.getUTCHours(), token.width);
        break;
      case 'm':
        out += pad(date.getUTCMinutes(), token.width);
        break;
      case 's':
        out += pad(date.getUTCSeconds(), token.width);
        break;
      case 'S':
        out += pad(date.getUTCMilliseconds(), 3).padEnd(token.width, '0').slice(0, token.width);
        break;
    }
  }
  return out;
}

const HOUR_PATH = parsePattern('yyyy/MM/dd/HH/');

/** What an evaluated prefix depends on: the batch's time and identity. */
export interface BatchIdentity {
  readonly stream: string;
  readonly version: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Arrival time of the oldest record in the batch. */
  readonly oldestArrivalMs: number;
}

/**
 * A pseudo-random 11-character string for `!{firehose:random-string}`, derived from the
 * batch so that a rewritten batch gets the same key.
 */
function randomString(batch: BatchIdentity, use: number): string {
  const hex = createHash('sha256').update(`${batch.stream}\0${batch.firstOffset}\0${use}`).digest('hex');
  return `${hex.slice(0, 6)}-${hex.slice(6, 10)}`;
}

/** Evaluates a prefix for a batch; appends `yyyy/MM/dd/HH/` when it has no timestamp expression. */
export function evaluatePrefix(
  prefix: ParsedPrefix,
  batch: BatchIdentity,
  errorOutputType = 'processing-failed',
): string {
  const date = new Date(batch.oldestArrivalMs);
  let out = '';
  let uses = 0;
  for (const part of prefix.parts) {
    if (part.kind === 'text') out += part.text;
    else if (part.kind === 'timestamp') out += formatTimestamp(part.pattern, date);
    else if (part.kind === 'random') out += randomString(batch, uses++);
    else out += errorOutputType;
  }
  if (!prefix.hasTimestamp) out += formatTimestamp(HOUR_PATH, date);
  return out;
}

/** The `<id>` of a batch: UUID-shaped, from its first and last offsets. */
export function batchId(batch: BatchIdentity): string {
  const a = batch.firstOffset.toString(16).padStart(16, '0');
  const b = batch.lastOffset.toString(16).padStart(16, '0');
  return `${a.slice(0, 8)}-${a.slice(8, 12)}-${a.slice(12, 16)}-${b.slice(0, 4)}-${b.slice(4)}`;
}

/** `YYYY-MM-dd-HH-mm-ss` of the oldest record, in UTC. */
function stamp(batch: BatchIdentity): string {
  return new Date(batch.oldestArrivalMs).toISOString().slice(0, 19).replace(/[T:]/g, '-');
}

/** The hour path `YYYY/MM/dd/HH/` of the oldest record, in UTC. */
function hourPath(batch: BatchIdentity): string {
  return formatTimestamp(HOUR_PATH, new Date(batch.oldestArrivalMs));
}

/** Key of a batch's data object. */
export function objectKey(prefix: ParsedPrefix, batch: BatchIdentity, gzip: boolean): string {
  return (
    evaluatePrefix(prefix, batch) +
    `${batch.stream}-${batch.version}-${stamp(batch)}-${batchId(batch)}${gzip ? '.gz' : ''}`
  );
}

/** Key of a batch's manifest, under the stream's (expression-free) Prefix. */
export function manifestKey(prefix: string, batch: BatchIdentity, failed: boolean): string {
  const folder = failed ? 'errors/manifests/' : 'manifests/';
  return `${prefix}${folder}${hourPath(batch)}${batch.stream}-${stamp(batch)}-${batchId(batch)}`;
}

/** Key of the object that holds a batch's rejected records. */
export function rejectedRecordsKey(prefix: string, batch: BatchIdentity): string {
  return `${prefix}errors/records/${hourPath(batch)}${batch.stream}-${batch.version}-${stamp(batch)}-${batchId(batch)}`;
}
