import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  binaryParamText,
  encodeValue,
  numericBinary,
  OID,
  parseArrayText,
  resultFormats,
  wireType,
} from './types.ts';

test('array columns get PostgreSQL array type OIDs, keeping the element typmod', () => {
  assert.deepEqual(wireType('character varying[]'), { oid: 1015, size: -1, modifier: -1 });
  assert.equal(wireType('integer[]').oid, 1007);
  assert.equal(wireType('bigint[]').oid, 1016);
  assert.equal(wireType('boolean[]').oid, 1000);
  assert.equal(wireType('double precision[]').oid, 1022);
  assert.equal(wireType('smallint[]').oid, 1005);
  assert.equal(wireType('json').oid, OID.json);
  assert.deepEqual(wireType('numeric(5,2)[]'), { oid: 1231, size: -1, modifier: ((5 << 16) | 2) + 4 });
  // pgjdbc asks for binary int4[]: it is sent in binary.
  assert.deepEqual(resultFormats([{ name: 'a', type: 'integer[]' }], [1]), [1]);
});

test('array text is read back with quotes, escapes, NULLs and nesting', () => {
  assert.deepEqual(parseArrayText('{1,NULL,3}'), ['1', null, '3']);
  assert.deepEqual(parseArrayText('{"a b","","x\\"y","NULL","c,d","e\\\\f"}'), [
    'a b',
    '',
    'x"y',
    'NULL',
    'c,d',
    'e\\f',
  ]);
  assert.deepEqual(parseArrayText('{{1,2},{3,4}}'), [
    ['1', '2'],
    ['3', '4'],
  ]);
  assert.deepEqual(parseArrayText('{}'), []);
  assert.equal(parseArrayText('[1,2]'), undefined);
  assert.equal(parseArrayText('{1,2'), undefined);
});

/** Reads PostgreSQL's binary array format (array_recv), independently of the encoder. */
function readBinaryArray(b: Buffer): { dims: number[]; element: number; items: (Buffer | null)[] } {
  const ndim = b.readInt32BE(0);
  const element = b.readInt32BE(8);
  const dims: number[] = [];
  let at = 12;
  for (let d = 0; d < ndim; d++, at += 8) {
    dims.push(b.readInt32BE(at));
    assert.equal(b.readInt32BE(at + 4), 1, 'lower bound');
  }
  const items: (Buffer | null)[] = [];
  while (at < b.length) {
    const len = b.readInt32BE(at);
    at += 4;
    items.push(len < 0 ? null : b.subarray(at, at + len));
    if (len > 0) at += len;
  }
  return { dims, element, items };
}

test('arrays in the binary format: dimensions, element type, NULLs and element bytes', () => {
  const ints = readBinaryArray(encodeValue('{1,NULL,-3}', 1007, 1) as Buffer);
  assert.deepEqual(ints.dims, [3]);
  assert.equal(ints.element, OID.int4);
  assert.deepEqual(
    ints.items.map((x) => (x === null ? null : x.readInt32BE(0))),
    [1, null, -3],
  );
  const texts = readBinaryArray(encodeValue('{"a b",x}', 1009, 1) as Buffer);
  assert.deepEqual(
    texts.items.map((x) => x?.toString('utf8')),
    ['a b', 'x'],
  );
  const matrix = readBinaryArray(encodeValue('{{1,2},{3,4}}', 1016, 1) as Buffer);
  assert.deepEqual(matrix.dims, [2, 2]);
  assert.deepEqual(
    matrix.items.map((x) => x?.readBigInt64BE(0)),
    [1n, 2n, 3n, 4n],
  );
  const empty = encodeValue('{}', 1007, 1) as Buffer;
  assert.equal(empty.readInt32BE(0), 0);
  assert.equal(empty.readInt32BE(8), OID.int4);
  // The text format is the literal itself.
  assert.equal(encodeValue('{1,2}', 1007, 0)?.toString(), '{1,2}');
});

test('binary parameters: numeric, timestamp, date, uuid and arrays decode to their text', () => {
  // 12.34: two base-10000 digits 12 and 3400, weight 0, scale 2.
  const n = Buffer.from([0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x0d, 0x48]);
  assert.equal(binaryParamText(n, OID.numeric), '12.34');
  for (const v of ['0', '-12.34', '1000000', '0.0001', '123456789.000120', '-0.5', 'NaN'])
    assert.equal(binaryParamText(numericBinary(v) as Buffer, OID.numeric), v === '0' ? '0' : v);
  const ts = Buffer.alloc(8);
  // 2024-01-02 03:04:05.123456 UTC, in microseconds since 2000-01-01.
  ts.writeBigInt64BE(BigInt(Date.UTC(2024, 0, 2, 3, 4, 5) - Date.UTC(2000, 0, 1)) * 1000n + 123456n);
  assert.equal(binaryParamText(ts, OID.timestamp), '2024-01-02 03:04:05.123456');
  assert.equal(binaryParamText(ts, OID.timestamptz), '2024-01-02 03:04:05.123456+00');
  const before = Buffer.alloc(8);
  before.writeBigInt64BE(-1n);
  assert.equal(binaryParamText(before, OID.timestamp), '1999-12-31 23:59:59.999999');
  const date = Buffer.alloc(4);
  date.writeInt32BE(-1);
  assert.equal(binaryParamText(date, OID.date), '1999-12-31');
  assert.equal(
    binaryParamText(Buffer.from('0123456789abcdef0123456789abcdef', 'hex'), OID.uuid),
    '01234567-89ab-cdef-0123-456789abcdef',
  );
  assert.equal(binaryParamText(encodeValue('{1,NULL,3}', 1016, 1) as Buffer, 1016), '{1,NULL,3}');
  assert.equal(binaryParamText(encodeValue('{"a,b",c}', 1009, 1) as Buffer, 1009), '{"a,b",c}');
});

test('bytea and time with time zone have binary forms (pgjdbc asks for both)', () => {
  assert.deepEqual(encodeValue('\\x00ff41', OID.bytea, 1), Buffer.from([0, 255, 65]));
  const t = encodeValue('01:02:03.5+02', OID.timetz, 1) as Buffer;
  assert.equal(t.readBigInt64BE(0), 3_723_500_000n);
  assert.equal(t.readInt32BE(8), -7200);
  assert.deepEqual(resultFormats([{ name: 'b', type: 'bytea' }], [1]), [1]);
});
