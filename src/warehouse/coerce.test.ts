import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadFailure, makeCoercer, normalizeDecimal, truncateUtf8, type CoerceOptions } from './coerce.ts';
import { ValueKind } from './json-scan.ts';
import { parseRedshiftType } from './types.ts';

const OPTS: CoerceOptions = {
  emptyAsNull: false,
  blanksAsNull: false,
  truncateColumns: false,
  roundDec: false,
  trimBlanks: false,
};

function coerce(
  type: string,
  args: string[],
  text: string,
  kind: number = ValueKind.string,
  opts: Partial<CoerceOptions> = {},
): unknown {
  return makeCoercer(parseRedshiftType(type.split(' '), args), { ...OPTS, ...opts })(kind, text);
}

function failure(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof LoadFailure) return e.code;
    throw e;
  }
  return 0;
}

test('integers are range checked and must be whole', () => {
  assert.equal(coerce('integer', [], ' 42 '), 42);
  assert.equal(coerce('smallint', [], '-32768'), -32768);
  assert.equal(
    failure(() => coerce('smallint', [], '32768')),
    1207,
  );
  assert.equal(
    failure(() => coerce('integer', [], '1.5')),
    1207,
  );
  assert.equal(coerce('bigint', [], '9223372036854775807'), 9223372036854775807n);
  assert.equal(
    failure(() => coerce('bigint', [], '9223372036854775808')),
    1207,
  );
  assert.equal(coerce('bigint', [], '1700000000', ValueKind.number), 1700000000n);
  assert.equal(coerce('integer', [], '', ValueKind.empty), null);
});

test('NUMERIC truncates extra scale, rounds with ROUNDEC, and rejects overflow', () => {
  assert.equal(normalizeDecimal('71.537', 5, 2, false), '71.53');
  assert.equal(normalizeDecimal('71.535', 5, 2, true), '71.54');
  assert.equal(normalizeDecimal('-0.004', 5, 2, false), '0.00');
  assert.equal(normalizeDecimal('9.995', 5, 2, true), '10.00');
  assert.equal(normalizeDecimal('1.5e2', 5, 2, false), '150.00');
  assert.equal(normalizeDecimal('+007', 5, 2, false), '7.00');
  assert.equal(
    failure(() => normalizeDecimal('999.995', 5, 2, true)),
    1207,
  );
  assert.equal(
    failure(() => normalizeDecimal('1234', 5, 2, false)),
    1207,
  );
  assert.equal(
    failure(() => normalizeDecimal('abc', 5, 2, false)),
    1207,
  );
  assert.equal(coerce('numeric', ['5', '2'], '71.5', ValueKind.number), 71.5);
  assert.equal(coerce('numeric', ['20', '2'], '123456789012345678.999'), '123456789012345678.99');
});

test('booleans accept Redshift literals case-insensitively, 1 and 0 included', () => {
  for (const t of ['t', 'TRUE', 'y', 'Yes', '1']) assert.equal(coerce('boolean', [], t), true, t);
  for (const f of ['f', 'false', 'N', 'no', '0']) assert.equal(coerce('boolean', [], f), false, f);
  assert.equal(coerce('boolean', [], '', ValueKind.true), true);
  assert.equal(
    failure(() => coerce('boolean', [], 'maybe')),
    1210,
  );
});

test('VARCHAR(n) counts UTF-8 bytes', () => {
  assert.equal(coerce('varchar', ['4'], 'abcd'), 'abcd');
  assert.equal(
    failure(() => coerce('varchar', ['4'], 'ééé')),
    1204,
  );
  assert.equal(coerce('varchar', ['4'], 'ééé', ValueKind.string, { truncateColumns: true }), 'éé');
  assert.equal(
    failure(() => coerce('char', ['4'], 'é')),
    1220,
  );
  assert.equal(coerce('varchar', ['4'], '', ValueKind.empty, { emptyAsNull: true }), null);
  assert.equal(coerce('varchar', ['4'], '  ', ValueKind.string, { blanksAsNull: true }), null);
  assert.equal(truncateUtf8('a€b', 3), 'a');
});

test('timestamps: auto formats, epochsecs, epochmillisecs, custom formats, invalid dates', () => {
  assert.equal(coerce('timestamp', [], '2024-02-29 10:11:12'), '2024-02-29 10:11:12');
  assert.equal(coerce('timestamp', [], '2024-02-29T10:11:12.5Z'), '2024-02-29 10:11:12.5');
  assert.equal(coerce('timestamptz', [], '2024-02-29T10:11:12+01:00'), '2024-02-29 09:11:12+00');
  assert.equal(
    coerce('timestamp', [], '1700000000', ValueKind.number, { timeFormat: 'epochsecs' }),
    '2023-11-14 22:13:20',
  );
  assert.equal(
    coerce('timestamp', [], '1700000000123', ValueKind.number, { timeFormat: 'epochmillisecs' }),
    '2023-11-14 22:13:20.123',
  );
  assert.equal(
    coerce('timestamp', [], '29/02/2024 01.02', ValueKind.string, { timeFormat: 'DD/MM/YYYY HH24.MI' }),
    '2024-02-29 01:02:00',
  );
  assert.equal(
    failure(() => coerce('timestamp', [], '2023-02-29 00:00:00')),
    1206,
  );
  assert.equal(
    failure(() => coerce('date', [], '2023-13-01')),
    1205,
  );
  assert.equal(coerce('date', [], '03/15/2024'), '2024-03-15');
});
