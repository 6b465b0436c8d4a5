/**
 * Request decoding and validation, the way AWS's Coral front end does it:
 *
 * 1. A body that is not JSON, or a member of the wrong JSON type, or a blob that is not
 *    base64, fails the whole request with `SerializationException`.
 * 2. Then every constraint of the model (required members, lengths, ranges, patterns, enums)
 *    is checked and all violations are reported in one `ValidationException`:
 *    `2 validation errors detected: Value '...' at 'records.97.member.data' failed to satisfy
 *    constraint: Member must have length less than or equal to 1024000; Value null at ...`.
 *    Member paths are lower-camel-case; list members are 1-based (`records.1.member.data`).
 *
 * Shapes follow botocore's `firehose/2015-08-04/service-2.json`. Parts of the model that Sluice
 * does not use are passed through unchecked (`any`). Deliberate differences, so local setups
 * work: `RoleARN` is not required (there is no IAM here) and `ClusterJDBCURL` accepts any
 * `jdbc:redshift://` or `jdbc:postgresql://` URL (AWS wants a `*.redshift.*` host).
 *
 * PutRecordBatch is the hot path and has its own hand-written decoder: one pass over the
 * records computes each decoded size from the base64 length (no decoding), then all records
 * are decoded into one Buffer and handed on as views of it.
 *
 * @see https://github.com/boto/botocore/blob/develop/botocore/data/firehose/2015-08-04/service-2.json
 * @see https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
 */
import { FirehoseApiError } from './errors.ts';

/** Largest record, in bytes before base64 ([BOTO] `Data` max). */
export const MAX_RECORD_BYTES = 1_024_000;
/** Most records in one PutRecordBatch. */
export const MAX_BATCH_RECORDS = 500;
/** Largest PutRecordBatch payload: 4 MiB of decoded record data. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/** A string member. */
interface StringShape {
  readonly kind: 'string';
  readonly min?: number;
  readonly max?: number;
  /** Whole-string pattern, and its text as botocore writes it. */
  readonly pattern?: { readonly re: RegExp; readonly text: string };
  readonly enum?: readonly string[];
  /** Values are not echoed in messages. */
  readonly sensitive?: boolean;
}

/** An integer member. */
interface IntegerShape {
  readonly kind: 'integer';
  readonly min?: number;
  readonly max?: number;
}

/** A list member. */
interface ListShape {
  readonly kind: 'list';
  readonly member: Shape;
  readonly min?: number;
  readonly max?: number;
}

/** A structure member. */
interface StructureShape {
  readonly kind: 'structure';
  readonly members: Readonly<Record<string, Shape>>;
  readonly required?: readonly string[];
}

/** A model shape, as much of it as Sluice checks. */
type Shape =
  | StringShape
  | IntegerShape
  | ListShape
  | StructureShape
  | { readonly kind: 'boolean' }
  | { readonly kind: 'any' };

const pattern = (text: string, flags = ''): { re: RegExp; text: string } => ({
  re: new RegExp(`^(?:${text})$`, flags),
  text,
});
const str = (opts: Omit<StringShape, 'kind'> = {}): StringShape => ({ kind: 'string', ...opts });
const int = (min?: number, max?: number): IntegerShape => ({
  kind: 'integer',
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});
const BOOL = { kind: 'boolean' } as const;
const ANY = { kind: 'any' } as const;
const struct = (members: Record<string, Shape>, required: string[] = []): StructureShape => ({
  kind: 'structure',
  members,
  required,
});
const list = (member: Shape, min?: number, max?: number): ListShape => ({
  kind: 'list',
  member,
  ...(min === undefined ? {} : { min }),
  ...(max === undefined ? {} : { max }),
});

const ANY_TEXT = pattern('.*');
const ARN = str({ min: 1, max: 512, pattern: pattern('arn:.*') });
const DELIVERY_STREAM_NAME = str({ min: 1, max: 64, pattern: pattern('[a-zA-Z0-9_.-]+') });
const DELIVERY_STREAM_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;
const DELIVERY_STREAM_TYPE = str({
  enum: ['DirectPut', 'KinesisStreamAsSource', 'MSKAsSource', 'DatabaseAsSource'],
});
const TAG_KEY = str({
  min: 1,
  max: 128,
  pattern: pattern('^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$', 'u'),
});
const TAG_VALUE = str({ max: 256, pattern: pattern('^[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$', 'u') });
const TAG = struct({ Key: TAG_KEY, Value: TAG_VALUE }, ['Key']);
const TAG_LIST = list(TAG, 1, 50);
const PREFIX = str({ max: 1024, pattern: ANY_TEXT });
const BUFFERING_HINTS = struct({ SizeInMBs: int(1, 128), IntervalInSeconds: int(0, 900) });
const COMPRESSION = str({ enum: ['UNCOMPRESSED', 'GZIP', 'ZIP', 'Snappy', 'HADOOP_SNAPPY'] });
const BACKUP_MODE = str({ enum: ['Disabled', 'Enabled'] });
const PROCESSING = struct({
  Enabled: BOOL,
  Processors: list(
    struct(
      {
        Type: str({
          enum: [
            'RecordDeAggregation',
            'Decompression',
            'CloudWatchLogProcessing',
            'Lambda',
            'MetadataExtraction',
            'AppendDelimiterToRecord',
          ],
        }),
        Parameters: list(
          struct(
            {
              ParameterName: str(),
              ParameterValue: str({ min: 1, max: 5120, pattern: pattern('^(?!\\s*$).+') }),
            },
            ['ParameterName', 'ParameterValue'],
          ),
        ),
      },
      ['Type'],
    ),
  ),
});
const S3_MEMBERS = {
  RoleARN: ARN,
  BucketARN: str({ min: 1, max: 2048, pattern: pattern('arn:.*') }),
  Prefix: PREFIX,
  ErrorOutputPrefix: PREFIX,
  BufferingHints: BUFFERING_HINTS,
  CompressionFormat: COMPRESSION,
  EncryptionConfiguration: ANY,
  CloudWatchLoggingOptions: ANY,
};
const S3_CONFIGURATION = struct(S3_MEMBERS, ['BucketARN']);
const S3_UPDATE = struct(S3_MEMBERS);
const EXTENDED_S3_MEMBERS = {
  ...S3_MEMBERS,
  ProcessingConfiguration: PROCESSING,
  S3BackupMode: BACKUP_MODE,
  S3BackupConfiguration: S3_CONFIGURATION,
  DataFormatConversionConfiguration: ANY,
  DynamicPartitioningConfiguration: ANY,
  FileExtension: str({ max: 128, pattern: pattern("^$|\\.[0-9a-z!\\-_.*'()]+") }),
  CustomTimeZone: str({ max: 50 }),
};
const JDBC_URL = str({ min: 1, max: 512, pattern: pattern('jdbc:(redshift|postgresql)://.+') });
const COPY_COMMAND = struct(
  {
    DataTableName: str({ min: 1, max: 512, pattern: ANY_TEXT }),
    DataTableColumns: str({ max: 204800, pattern: ANY_TEXT }),
    CopyOptions: str({ max: 204800, pattern: ANY_TEXT }),
  },
  ['DataTableName'],
);
const REDSHIFT_MEMBERS = {
  RoleARN: ARN,
  ClusterJDBCURL: JDBC_URL,
  CopyCommand: COPY_COMMAND,
  Username: str({ min: 1, max: 512, pattern: ANY_TEXT, sensitive: true }),
  Password: str({ min: 6, max: 512, pattern: ANY_TEXT, sensitive: true }),
  RetryOptions: struct({ DurationInSeconds: int(0, 7200) }),
  ProcessingConfiguration: PROCESSING,
  S3BackupMode: BACKUP_MODE,
  CloudWatchLoggingOptions: ANY,
  SecretsManagerConfiguration: ANY,
};

/** Input shapes of the operations validated by the generic checker. */
export const INPUT_SHAPES = {
  CreateDeliveryStream: struct(
    {
      DeliveryStreamName: DELIVERY_STREAM_NAME,
      DeliveryStreamType: DELIVERY_STREAM_TYPE,
      S3DestinationConfiguration: S3_CONFIGURATION,
      ExtendedS3DestinationConfiguration: struct(EXTENDED_S3_MEMBERS, ['BucketARN']),
      RedshiftDestinationConfiguration: struct(
        { ...REDSHIFT_MEMBERS, S3Configuration: S3_CONFIGURATION, S3BackupConfiguration: S3_CONFIGURATION },
        ['ClusterJDBCURL', 'CopyCommand', 'S3Configuration'],
      ),
      Tags: TAG_LIST,
    },
    ['DeliveryStreamName'],
  ),
  DescribeDeliveryStream: struct(
    {
      DeliveryStreamName: DELIVERY_STREAM_NAME,
      Limit: int(1, 10000),
      ExclusiveStartDestinationId: str({ min: 1, max: 100, pattern: pattern('[a-zA-Z0-9-]+') }),
    },
    ['DeliveryStreamName'],
  ),
  ListDeliveryStreams: struct({
    Limit: int(1, 10000),
    DeliveryStreamType: DELIVERY_STREAM_TYPE,
    ExclusiveStartDeliveryStreamName: DELIVERY_STREAM_NAME,
  }),
  DeleteDeliveryStream: struct({ DeliveryStreamName: DELIVERY_STREAM_NAME, AllowForceDelete: BOOL }, [
    'DeliveryStreamName',
  ]),
  UpdateDestination: struct(
    {
      DeliveryStreamName: DELIVERY_STREAM_NAME,
      CurrentDeliveryStreamVersionId: str({ min: 1, max: 50, pattern: pattern('[0-9]+') }),
      DestinationId: str({ min: 1, max: 100, pattern: pattern('[a-zA-Z0-9-]+') }),
      S3DestinationUpdate: S3_UPDATE,
      ExtendedS3DestinationUpdate: struct({ ...EXTENDED_S3_MEMBERS, S3BackupUpdate: S3_UPDATE }),
      RedshiftDestinationUpdate: struct({
        ...REDSHIFT_MEMBERS,
        S3Update: S3_UPDATE,
        S3BackupUpdate: S3_UPDATE,
      }),
    },
    ['DeliveryStreamName', 'CurrentDeliveryStreamVersionId', 'DestinationId'],
  ),
  TagDeliveryStream: struct({ DeliveryStreamName: DELIVERY_STREAM_NAME, Tags: TAG_LIST }, [
    'DeliveryStreamName',
    'Tags',
  ]),
  UntagDeliveryStream: struct({ DeliveryStreamName: DELIVERY_STREAM_NAME, TagKeys: list(TAG_KEY, 1, 50) }, [
    'DeliveryStreamName',
    'TagKeys',
  ]),
  ListTagsForDeliveryStream: struct(
    { DeliveryStreamName: DELIVERY_STREAM_NAME, ExclusiveStartTagKey: TAG_KEY, Limit: int(1, 50) },
    ['DeliveryStreamName'],
  ),
} as const;

/** An operation whose input the generic checker validates. */
export type CheckedOperation = keyof typeof INPUT_SHAPES;

/** Parses a request body; an empty body is `{}` (AWS JSON protocol rule). */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new FirehoseApiError(
      'SerializationException',
      `The request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FirehoseApiError(
      'SerializationException',
      `Expected a JSON object as the request body, got ${jsonType(value)}.`,
    );
  }
  return value as Record<string, unknown>;
}

/** Checks an operation's input against its shape; throws SerializationException or ValidationException. */
export function validateInput(operation: CheckedOperation, input: Record<string, unknown>): void {
  const violations: string[] = [];
  checkStructure(INPUT_SHAPES[operation], input, '', violations);
  if (violations.length > 0) throw validationError(violations);
}

/** Builds the ValidationException for a list of violations. */
export function validationError(violations: readonly string[]): FirehoseApiError {
  const n = violations.length;
  return new FirehoseApiError(
    'ValidationException',
    `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`,
  );
}

function memberPath(parent: string, member: string): string {
  const name = member.charAt(0).toLowerCase() + member.slice(1);
  return parent === '' ? name : `${parent}.${name}`;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function typeError(path: string, expected: string, value: unknown): FirehoseApiError {
  return new FirehoseApiError(
    'SerializationException',
    `Expected ${expected} at '${path}', got ${jsonType(value)}.`,
  );
}

/** Renders a value the way Coral's messages do (Java toString, quoted). */
function render(value: unknown, sensitive = false): string {
  if (value === null || value === undefined) return 'null';
  if (sensitive) return "'*** Sensitive Data Redacted ***'";
  return `'${renderInner(value)}'`;
}

function renderInner(value: unknown): string {
  if (Array.isArray(value)) {
    const shown = value.slice(0, 3).map(renderInner);
    return `[${shown.join(', ')}${value.length > 3 ? `, ... (${value.length} items)` : ''}]`;
  }
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}: ${renderInner(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

function violation(value: unknown, path: string, constraint: string, sensitive = false): string {
  return `Value ${render(value, sensitive)} at '${path}' failed to satisfy constraint: ${constraint}`;
}

function checkShape(shape: Shape, value: unknown, path: string, out: string[]): void {
  switch (shape.kind) {
    case 'any':
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw typeError(path, 'a boolean', value);
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(path, 'an integer', value);
      if (shape.min !== undefined && value < shape.min) {
        out.push(violation(value, path, `Member must have value greater than or equal to ${shape.min}`));
      }
      if (shape.max !== undefined && value > shape.max) {
        out.push(violation(value, path, `Member must have value less than or equal to ${shape.max}`));
      }
      return;
    case 'string':
      checkString(shape, value, path, out);
      return;
    case 'list':
      checkList(shape, value, path, out);
      return;
    case 'structure':
      checkStructure(shape, value, path, out);
      return;
  }
}

function checkString(shape: StringShape, value: unknown, path: string, out: string[]): void {
  if (typeof value !== 'string') throw typeError(path, 'a string', value);
  const s = shape.sensitive === true;
  if (shape.enum !== undefined && !shape.enum.includes(value)) {
    out.push(violation(value, path, `Member must satisfy enum value set: [${shape.enum.join(', ')}]`, s));
  }
  if (shape.pattern !== undefined && !shape.pattern.re.test(value)) {
    out.push(
      violation(value, path, `Member must satisfy regular expression pattern: ${shape.pattern.text}`, s),
    );
  }
  if (shape.min !== undefined && value.length < shape.min) {
    out.push(violation(value, path, `Member must have length greater than or equal to ${shape.min}`, s));
  }
  if (shape.max !== undefined && value.length > shape.max) {
    out.push(violation(value, path, `Member must have length less than or equal to ${shape.max}`, s));
  }
}

function checkList(shape: ListShape, value: unknown, path: string, out: string[]): void {
  if (!Array.isArray(value)) throw typeError(path, 'a list', value);
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    const itemPath = `${path}.${i + 1}.member`;
    if (item === null || item === undefined) out.push(violation(null, itemPath, 'Member must not be null'));
    else checkShape(shape.member, item, itemPath, out);
  }
  if (shape.min !== undefined && value.length < shape.min) {
    out.push(violation(value, path, `Member must have length greater than or equal to ${shape.min}`));
  }
  if (shape.max !== undefined && value.length > shape.max) {
    out.push(violation(value, path, `Member must have length less than or equal to ${shape.max}`));
  }
}

function checkStructure(shape: StructureShape, value: unknown, path: string, out: string[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw typeError(path === '' ? 'request' : path, 'an object', value);
  }
  const obj = value as Record<string, unknown>;
  const required = shape.required ?? [];
  for (const [name, member] of Object.entries(shape.members)) {
    const v = obj[name];
    const p = memberPath(path, name);
    if (v === undefined || v === null) {
      if (required.includes(name)) out.push(violation(null, p, 'Member must not be null'));
    } else {
      checkShape(member, v, p, out);
    }
  }
}

/** A decoded PutRecordBatch (or PutRecord) request. */
export interface DecodedRecords {
  /** The stream named in the request. */
  readonly streamName: string;
  /** The records' bytes: views of one shared Buffer, in request order. */
  readonly records: Buffer[];
  /** Sum of the records' sizes. */
  readonly totalBytes: number;
}

function checkStreamName(name: unknown, out: string[]): string {
  if (name === undefined || name === null) {
    out.push(violation(null, 'deliveryStreamName', 'Member must not be null'));
    return '';
  }
  if (typeof name !== 'string') throw typeError('deliveryStreamName', 'a string', name);
  if (!DELIVERY_STREAM_NAME_PATTERN.test(name)) {
    out.push(
      violation(
        name,
        'deliveryStreamName',
        'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+',
      ),
    );
  }
  if (name.length < 1) {
    out.push(violation(name, 'deliveryStreamName', 'Member must have length greater than or equal to 1'));
  }
  if (name.length > 64) {
    out.push(violation(name, 'deliveryStreamName', 'Member must have length less than or equal to 64'));
  }
  return name;
}

/** Decoded size of a base64 string whose length is a multiple of 4, from its length and padding. */
function base64Size(s: string): number {
  const len = s.length;
  if (len === 0) return 0;
  const pad = s.charCodeAt(len - 1) !== 61 ? 0 : s.charCodeAt(len - 2) !== 61 ? 1 : 2;
  return (len >>> 2) * 3 - pad;
}

function notBase64(path: string, index: number, why: string): FirehoseApiError {
  return new FirehoseApiError(
    'SerializationException',
    `Value at '${path}' (record index ${index}) is not valid base64: ${why}.`,
  );
}

function blobViolation(path: string, size: number): string {
  // Coral prints the blob as Java's ByteBuffer.toString().
  return violation(
    `java.nio.HeapByteBuffer[pos=0 lim=${size} cap=${size}]`,
    path,
    `Member must have length less than or equal to ${MAX_RECORD_BYTES}`,
  );
}

/**
 * Decodes the Data strings into one Buffer with a single native call, and returns a view per
 * record. Each string is a whole number of 4-character quanta; its `=` padding is replaced by
 * `A` so the strings can be joined and decoded at once (the 1-2 bytes that padding hides are
 * decoded as junk that lies between two views and belongs to neither).
 *
 * Validation comes free: Node's decoder skips characters that are not base64 and stops at
 * `=`, so input that is not strict base64 decodes to fewer bytes than its length promises.
 * Node also accepts the URL-safe alphabet, which AWS does not: `-` and `_` are looked for in
 * the raw body (cheap, and enough when the body has no JSON escapes), else in every string.
 */
function decodeAll(
  datas: readonly string[],
  sizes: readonly number[],
  rawBody: Buffer | undefined,
  ignoredText: string,
  pathOf: (i: number) => string,
): Buffer[] {
  const n = datas.length;
  let joined = '';
  let allocated = 0;
  for (let i = 0; i < n; i++) {
    const s = datas[i] as string;
    const len = s.length;
    if (len === 0) continue;
    const quanta = (len >>> 2) * 3;
    const pad = quanta - (sizes[i] as number);
    joined += pad === 0 ? s : pad === 1 ? s.slice(0, len - 1) + 'A' : s.slice(0, len - 2) + 'AA';
    allocated += quanta;
  }
  const buf = Buffer.allocUnsafe(allocated);
  const written = allocated === 0 ? 0 : buf.write(joined, 0, allocated, 'base64');
  if (written !== allocated || mayHoldUrlSafeBase64(datas, rawBody, ignoredText)) {
    throwForBadRecord(datas, sizes, pathOf);
  }
  const out = new Array<Buffer>(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const size = sizes[i] as number;
    out[i] = buf.subarray(off, off + size);
    off += ((datas[i] as string).length >>> 2) * 3;
  }
  return out;
}

function countByte(buf: Buffer, byte: number): number {
  let count = 0;
  for (let at = buf.indexOf(byte); at !== -1; at = buf.indexOf(byte, at + 1)) count++;
  return count;
}

function countChar(s: string, ch: string): number {
  let count = 0;
  for (let at = s.indexOf(ch); at !== -1; at = s.indexOf(ch, at + 1)) count++;
  return count;
}

/** True when some Data string may hold `-` or `_` (base64url), which standard base64 forbids. */
function mayHoldUrlSafeBase64(
  datas: readonly string[],
  rawBody: Buffer | undefined,
  ignoredText: string,
): boolean {
  // Without backslashes the body's bytes are the strings' characters, so counting `-` and `_`
  // outside the stream name is exact for the usual body; anything else takes the slow look.
  if (rawBody !== undefined && rawBody.indexOf(0x5c) === -1) {
    if (
      countByte(rawBody, 0x2d) === countChar(ignoredText, '-') &&
      countByte(rawBody, 0x5f) === countChar(ignoredText, '_')
    ) {
      return false;
    }
  }
  for (const s of datas) if (s.indexOf('-') !== -1 || s.indexOf('_') !== -1) return true;
  return false;
}

/** Finds the first record that is not strict base64 and throws naming it (the slow path). */
function throwForBadRecord(
  datas: readonly string[],
  sizes: readonly number[],
  pathOf: (i: number) => string,
): never {
  for (let i = 0; i < datas.length; i++) {
    const s = datas[i] as string;
    if (s.indexOf('-') !== -1 || s.indexOf('_') !== -1 || Buffer.from(s, 'base64').length !== sizes[i]) {
      throw notBase64(pathOf(i), i, 'it holds a character outside A-Z a-z 0-9 + / or misplaced = padding');
    }
  }
  throw notBase64(pathOf(0), 0, 'it could not be decoded');
}

/**
 * Decodes and validates a PutRecordBatch input (the hot path). Pass the raw body it was parsed
 * from to skip a per-record scan for URL-safe base64 characters.
 */
export function decodePutRecordBatch(input: Record<string, unknown>, rawBody?: Buffer): DecodedRecords {
  const violations: string[] = [];
  const streamName = checkStreamName(input['DeliveryStreamName'], violations);
  const records = input['Records'];
  if (records === undefined || records === null) {
    violations.push(violation(null, 'records', 'Member must not be null'));
    throw validationError(violations);
  }
  if (!Array.isArray(records)) throw typeError('records', 'a list', records);
  const n = records.length;
  const datas = new Array<string>(n);
  const sizes = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r: unknown = records[i];
    if (r === null || r === undefined) {
      violations.push(violation(null, `records.${i + 1}.member`, 'Member must not be null'));
      datas[i] = '';
      sizes[i] = 0;
      continue;
    }
    if (typeof r !== 'object' || Array.isArray(r)) throw typeError(`records.${i + 1}.member`, 'an object', r);
    const d = (r as Record<string, unknown>)['Data'];
    if (typeof d !== 'string') {
      if (d !== undefined && d !== null)
        throw typeError(`records.${i + 1}.member.data`, 'a base64 string', d);
      violations.push(violation(null, `records.${i + 1}.member.data`, 'Member must not be null'));
      datas[i] = '';
      sizes[i] = 0;
      continue;
    }
    if ((d.length & 3) !== 0) {
      throw notBase64(`records.${i + 1}.member.data`, i, `its length ${d.length} is not a multiple of 4`);
    }
    const size = base64Size(d);
    if (size > MAX_RECORD_BYTES) violations.push(blobViolation(`records.${i + 1}.member.data`, size));
    datas[i] = d;
    sizes[i] = size;
    total += size;
  }
  if (n < 1)
    violations.push(violation(records, 'records', 'Member must have length greater than or equal to 1'));
  if (n > MAX_BATCH_RECORDS) {
    violations.push(
      violation(
        `[${n} records]`,
        'records',
        `Member must have length less than or equal to ${MAX_BATCH_RECORDS}`,
      ),
    );
  }
  if (violations.length > 0) throw validationError(violations);
  if (total > MAX_BATCH_BYTES) {
    throw new FirehoseApiError(
      'InvalidArgumentException',
      `Records size exceeds 4 MiB limit: the ${n} records of this PutRecordBatch request hold ${total} bytes, and a request may hold at most ${MAX_BATCH_BYTES} bytes (4 MiB) of record data.`,
    );
  }
  return {
    streamName,
    records: decodeAll(datas, sizes, rawBody, streamName, (i) => `records.${i + 1}.member.data`),
    totalBytes: total,
  };
}

/** Decodes and validates a PutRecord input. */
export function decodePutRecord(input: Record<string, unknown>): DecodedRecords {
  const violations: string[] = [];
  const streamName = checkStreamName(input['DeliveryStreamName'], violations);
  const record = input['Record'];
  let data = '';
  let size = 0;
  if (record === undefined || record === null) {
    violations.push(violation(null, 'record', 'Member must not be null'));
  } else if (typeof record !== 'object' || Array.isArray(record)) {
    throw typeError('record', 'an object', record);
  } else {
    const d = (record as Record<string, unknown>)['Data'];
    if (d === undefined || d === null) {
      violations.push(violation(null, 'record.data', 'Member must not be null'));
    } else if (typeof d !== 'string') {
      throw typeError('record.data', 'a base64 string', d);
    } else {
      if ((d.length & 3) !== 0)
        throw notBase64('record.data', 0, `its length ${d.length} is not a multiple of 4`);
      data = d;
      size = base64Size(d);
      if (size > MAX_RECORD_BYTES) violations.push(blobViolation('record.data', size));
    }
  }
  if (violations.length > 0) throw validationError(violations);
  return {
    streamName,
    records: decodeAll([data], [size], undefined, '', () => 'record.data'),
    totalBytes: size,
  };
}
