import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { scanPutRecordBatch } from './batch-scanner.ts';
import { decodePutRecordBatch, parseJsonBody } from './validate.ts';
import type { DecodedRecords } from './validate.ts';

/** What the full decoder makes of a body: its records, or the error it throws. */
function full(body: Buffer): { ok: true; value: DecodedRecords } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: decodePutRecordBatch(parseJsonBody(body), body) };
  } catch (error) {
    return { ok: false, error };
  }
}

function same(a: DecodedRecords, b: DecodedRecords): void {
  assert.equal(a.streamName, b.streamName);
  assert.equal(a.totalBytes, b.totalBytes);
  assert.deepEqual(
    a.records.map((r) => r.toString('hex')),
    b.records.map((r) => r.toString('hex')),
  );
}

/** The scanner either declines or agrees with the full decoder, which must then accept. */
function agrees(body: Buffer): DecodedRecords | undefined {
  const fast = scanPutRecordBatch(body);
  if (fast === undefined) return undefined;
  const slow = full(body);
  assert.ok(slow.ok, `the scanner accepted a body the full decoder refuses: ${body.toString()}`);
  same(fast, slow.value);
  return fast;
}

const body = (s: string): Buffer => Buffer.from(s);
const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

describe('scanPutRecordBatch', () => {
  test('decodes the body SDKs send, in order, including empty and padded records', () => {
    const datas = ['', 'a', 'ab', 'abc', '{"guid":"x","ts":1,"temp":71.53}'];
    const got = agrees(
      body(JSON.stringify({ DeliveryStreamName: 's-1_.x', Records: datas.map((d) => ({ Data: b64(d) })) })),
    );
    assert.ok(got);
    assert.deepEqual(
      got.records.map((r) => r.toString()),
      datas,
    );
    assert.equal(got.totalBytes, datas.join('').length);
  });

  test('takes either key order and any JSON whitespace', () => {
    const got = agrees(
      body(
        `\r\n{ "Records" :\t[ { "Data" : "${b64('hi')}" } ,{"Data":"${b64('yo')}"}\n] ,\n"DeliveryStreamName": "s" } \n`,
      ),
    );
    assert.equal(got?.streamName, 's');
    assert.deepEqual(
      got.records.map((r) => r.toString()),
      ['hi', 'yo'],
    );
  });

  test('leaves everything unusual to the full decoder', () => {
    const d = b64('x');
    const declined = [
      '',
      '{}',
      '[]',
      `{"DeliveryStreamName":"s","Records":[]}`,
      `{"DeliveryStreamName":"s"}`,
      `{"Records":[{"Data":"${d}"}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"${d}"}],"Extra":1}`,
      `{"DeliveryStreamName":"s","DeliveryStreamName":"t","Records":[{"Data":"${d}"}]}`,
      `{"DeliveryStreamName":"s\\u0041","Records":[{"Data":"${d}"}]}`,
      `{"DeliveryStreamName":"my stream","Records":[{"Data":"${d}"}]}`,
      `{"DeliveryStreamName":"${'s'.repeat(65)}","Records":[{"Data":"${d}"}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"${d}","PartitionKey":"k"}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":null}]}`,
      `{"DeliveryStreamName":"s","Records":[null]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"eA\\u003d\\u003d"}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"eA-_"}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"eA="}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"e==="}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"e=A="}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"eA=A"}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"${d}"}]} x`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"${d}"},]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"${d}"}]`,
      `{"DeliveryStreamName":"s","Records":[${new Array(501).fill(`{"Data":"${d}"}`).join(',')}]}`,
      `{"DeliveryStreamName":"s","Records":[{"Data":"${Buffer.alloc(1_024_001).toString('base64')}"}]}`,
    ];
    for (const text of declined) assert.equal(scanPutRecordBatch(body(text)), undefined, text);
  });

  test('accepts 500 records and a record of exactly 1,024,000 bytes', () => {
    const many = agrees(
      body(JSON.stringify({ DeliveryStreamName: 's', Records: new Array(500).fill({ Data: b64('r') }) })),
    );
    assert.equal(many?.records.length, 500);
    const big = agrees(
      body(
        JSON.stringify({
          DeliveryStreamName: 's',
          Records: [{ Data: Buffer.alloc(1_024_000, 7).toString('base64') }],
        }),
      ),
    );
    assert.equal(big?.totalBytes, 1_024_000);
  });

  test('never accepts a body the full decoder refuses, and decodes the same bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\\" ';
    const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 12 });
    const data = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((b) => b64(Buffer.from(b))),
      text,
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.constant('s'), fc.string({ maxLength: 5 })),
        fc.array(data, { minLength: 0, maxLength: 6 }),
        fc.boolean(),
        (name, datas, reversed) => {
          const records = `"Records":[${datas.map((d) => `{"Data":"${d}"}`).join(',')}]`;
          const stream = `"DeliveryStreamName":${JSON.stringify(name)}`;
          agrees(body(`{${reversed ? `${records},${stream}` : `${stream},${records}`}}`));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('decodes random binary records exactly as the full decoder', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 20 }), (datas) => {
        const text = JSON.stringify({
          DeliveryStreamName: 's',
          Records: datas.map((d) => ({ Data: b64(Buffer.from(d)) })),
        });
        const got = agrees(body(text));
        assert.ok(got, 'strict base64 from Buffer#toString is always taken');
      }),
      { numRuns: 300 },
    );
  });
});
