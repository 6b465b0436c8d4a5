import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryStreamError } from './errors.ts';
import { batchId, evaluatePrefix, manifestKey, objectKey, parsePrefix, rejectedRecordsKey } from './keys.ts';

const batch = {
  stream: 'redshift-delivery-stream',
  version: 1,
  firstOffset: 100,
  lastOffset: 199,
  oldestArrivalMs: Date.UTC(2026, 10, 25, 7, 5, 9, 123),
};

describe('lake keys', () => {
  test('objects follow Firehose default naming under the UTC hour of the oldest record', () => {
    assert.equal(
      objectKey(parsePrefix('message/', false), batch, true),
      'message/2026/11/25/07/redshift-delivery-stream-1-2026-11-25-07-05-09-00000000-0000-0064-0000-0000000000c7.gz',
    );
    assert.equal(
      objectKey(parsePrefix('', false), { ...batch, version: 3 }, false),
      '2026/11/25/07/redshift-delivery-stream-3-2026-11-25-07-05-09-00000000-0000-0064-0000-0000000000c7',
    );
  });

  test('the same batch always gets the same key, and another batch another key', () => {
    const prefix = parsePrefix('p/!{firehose:random-string}/', false);
    assert.equal(objectKey(prefix, batch, true), objectKey(prefix, batch, true));
    assert.notEqual(
      objectKey(prefix, batch, true),
      objectKey(prefix, { ...batch, firstOffset: 200, lastOffset: 250 }, true),
    );
    assert.notEqual(batchId(batch), batchId({ ...batch, lastOffset: 198 }));
  });

  test('manifests and rejected records sit in their folders under the prefix', () => {
    assert.equal(
      manifestKey('message/', batch, false),
      'message/manifests/2026/11/25/07/redshift-delivery-stream-2026-11-25-07-05-09-00000000-0000-0064-0000-0000000000c7',
    );
    assert.match(manifestKey('message/', batch, true), /^message\/errors\/manifests\/2026\/11\/25\/07\//);
    assert.match(
      rejectedRecordsKey('message/', batch),
      /^message\/errors\/records\/2026\/11\/25\/07\/redshift-delivery-stream-1-/,
    );
  });

  test('timestamp expressions use the oldest arrival time in UTC and quoted text is literal', () => {
    const prefix = parsePrefix(
      "year=!{timestamp:yyyy}/month=!{timestamp:MM}/'x'!{timestamp:'at'HH:mm}/",
      false,
    );
    assert.equal(evaluatePrefix(prefix, batch), "year=2026/month=11/'x'at07:05/");
  });

  test('a prefix without a timestamp expression gets yyyy/MM/dd/HH/ appended', () => {
    assert.equal(evaluatePrefix(parsePrefix('logs/', false), batch), 'logs/2026/11/25/07/');
  });

  test('random-string is 11 characters and error-output-type works only in the error prefix', () => {
    const value = evaluatePrefix(parsePrefix('!{firehose:random-string}!{timestamp:yyyy}', false), batch);
    assert.match(value, /^[0-9a-f]{6}-[0-9a-f]{4}2026$/);
    const errors = parsePrefix('err/!{firehose:error-output-type}/!{timestamp:yyyy}/', true);
    assert.equal(evaluatePrefix(errors, batch), 'err/processing-failed/2026/');
    assert.throws(() => parsePrefix('!{firehose:error-output-type}', false), DeliveryStreamError);
    assert.throws(() => parsePrefix('!{partitionKeyFromQuery:x}', false), DeliveryStreamError);
    assert.throws(() => parsePrefix('!{timestamp:yyyy', false), DeliveryStreamError);
  });
});
