import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStdioCopy, SqlError, type StdioCopy } from '../warehouse/index.ts';
import { CopyDecoder, encodeCopyRow } from './copy.ts';

function copyOf(sql: string): StdioCopy {
  const copy = parseStdioCopy(sql);
  assert.ok(copy);
  return copy;
}

/** Feeds `data` in chunks of `size` bytes, taking rows whenever a batch is ready. */
function decodeInChunks(copy: StdioCopy, columns: readonly string[], data: Buffer, size: number) {
  const d = new CopyDecoder(copy, columns, 't');
  const rows: (string | null)[][] = [];
  const lines: number[] = [];
  for (let i = 0; i < data.length; i += size) {
    d.push(data.subarray(i, i + size));
    const part = d.take(false);
    rows.push(...part.rows.map((r) => [...r]));
    lines.push(...part.lines);
  }
  const last = d.take(true);
  rows.push(...last.rows.map((r) => [...r]));
  lines.push(...last.lines);
  return { rows, lines };
}

describe('COPY data decoding', () => {
  const csv = copyOf('COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER)');
  const text = copyOf('COPY t (a, b) FROM STDIN');
  const csvData = Buffer.from('a,b\r\n"multi\nline, ""quoted""",ünï€ode\n,""\n"x",\n');
  const textData = Buffer.from('1\tünï€\\tcode\n\\N\t\\101\\x42\\\\\n\\.\nignored\tafter end\n');

  for (const size of [1, 2, 3, 7, 1000])
    test(`CSV split into ${size}-byte chunks decodes the same, with line numbers`, () => {
      assert.deepEqual(decodeInChunks(csv, ['a', 'b'], csvData, size), {
        rows: [
          ['multi\nline, "quoted"', 'ünï€ode'],
          [null, ''],
          ['x', null],
        ],
        lines: [2, 4, 5],
      });
    });

  for (const size of [1, 5, 1000])
    test(`text format split into ${size}-byte chunks: escapes, \\N and the end marker`, () => {
      assert.deepEqual(decodeInChunks(text, ['a', 'b'], textData, size), {
        rows: [
          ['1', 'ünï€\tcode'],
          [null, 'AB\\'],
        ],
        lines: [1, 2],
      });
    });

  test('a row with a missing column names it and its line', () => {
    const d = new CopyDecoder(text, ['a', 'b'], 'readings');
    d.push(Buffer.from('1\t2\n3\n'));
    assert.throws(
      () => d.take(true),
      (e: unknown) =>
        e instanceof SqlError &&
        e.sqlstate === '22P04' &&
        e.message === 'missing data for column "b"' &&
        e.options.where === 'COPY readings, line 2: "3"',
    );
  });

  test('an unterminated quoted field fails only at the end of the data', () => {
    const d = new CopyDecoder(csv, ['a', 'b'], 't');
    d.push(Buffer.from('a,b\n"open,\n'));
    assert.deepEqual(d.take(false).rows, []);
    assert.throws(
      () => d.take(true),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '22P04',
    );
  });

  test('encoded rows decode back to the same values', () => {
    const values = [['tab\there', null, 'back\\slash', 'new\nline', 'comma,"quote"', '']];
    for (const copy of [text, copyOf('COPY t (a, b) FROM STDIN CSV')]) {
      const columns = ['a', 'b', 'c', 'd', 'e', 'f'];
      const data = values.map((v) => encodeCopyRow(v, copy)).join('');
      const d = new CopyDecoder(copy, columns, 't');
      d.push(Buffer.from(data));
      assert.deepEqual(d.take(true).rows, values, copy.format);
    }
  });
});
