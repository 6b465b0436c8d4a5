import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStdioCopy, type StdioCopy } from './copy-stdio.ts';
import { SqlError } from './index.ts';

describe('COPY FROM STDIN / TO STDOUT statements', () => {
  const cases: [string, Partial<StdioCopy>][] = [
    // psql's \copy sends its options as written.
    [
      'COPY sensor.message (guid, ts) FROM STDIN with (format csv, header)',
      {
        direction: 'in',
        table: { schema: 'sensor', name: 'message' },
        columns: ['guid', 'ts'],
        format: 'csv',
        header: 1,
        delimiter: ',',
        null: '',
      },
    ],
    // psycopg2's copy_from.
    [
      `COPY "Message" FROM stdin WITH DELIMITER AS '\t' NULL AS '\\N'`,
      {
        direction: 'in',
        table: { name: 'message' },
        format: 'text',
        delimiter: '\t',
        null: '\\N',
        header: 0,
      },
    ],
    // Redshift's words.
    [
      "COPY t FROM STDIN CSV DELIMITER ';' IGNOREHEADER 2 NULL AS 'NA'",
      { format: 'csv', delimiter: ';', header: 2, null: 'NA' },
    ],
    ['COPY t FROM STDIN FORMAT AS CSV', { format: 'csv' }],
    [
      "COPY t FROM STDIN (FORMAT 'text', DELIMITER '|', HEADER false)",
      { format: 'text', delimiter: '|', header: 0 },
    ],
    ["COPY t FROM STDIN WITH CSV QUOTE AS '''' ESCAPE '\\'", { quote: "'", escape: '\\' }],
    ['COPY t TO STDOUT', { direction: 'out', query: 'SELECT * FROM "t"', format: 'text' }],
    [
      'COPY t (a, b) TO STDOUT WITH CSV HEADER',
      { direction: 'out', query: 'SELECT "a", "b" FROM "t"', header: 1 },
    ],
    [
      'COPY (SELECT a FROM t WHERE (b > 1)) TO STDOUT',
      { direction: 'out', query: 'SELECT a FROM t WHERE (b > 1)' },
    ],
  ];
  for (const [sql, expected] of cases)
    test(sql, () => {
      const copy = parseStdioCopy(sql);
      assert.ok(copy);
      for (const [k, v] of Object.entries(expected)) assert.deepEqual(copy[k as keyof typeof copy], v, k);
    });

  test('a COPY from S3 and other statements are not STDIN copies', () => {
    assert.equal(parseStdioCopy("COPY t FROM 's3://b/p' IAM_ROLE 'x' CSV"), undefined);
    assert.equal(parseStdioCopy('SELECT 1'), undefined);
  });

  test('binary format and unknown options fail with 0A000', () => {
    for (const sql of [
      'COPY t FROM STDIN (FORMAT binary)',
      'COPY t FROM STDIN BINARY',
      'COPY t FROM STDIN GZIP',
    ])
      assert.throws(
        () => parseStdioCopy(sql),
        (e: unknown) => e instanceof SqlError && e.sqlstate === '0A000',
        sql,
      );
  });
});
