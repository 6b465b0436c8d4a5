import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { DIALECT_CASES } from './dialect-cases.ts';
import { describePlan, sourceOffset, translate } from './dialect.ts';
import { SqlError, type WarehouseSession } from './index.ts';
import { openTestWarehouse } from './test-support.ts';

describe('the table of supported Redshift constructs, run on a real DuckDB', () => {
  let session: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    const opened = await openTestWarehouse();
    cleanup = opened.cleanup;
    session = await opened.warehouse.openSession('awsuser');
  });
  after(async () => cleanup());

  for (const c of DIALECT_CASES) {
    test(c.title, async () => {
      if (c.sqlstate) {
        await assert.rejects(
          session.execute(c.redshift),
          (e: unknown) => e instanceof SqlError && e.sqlstate === c.sqlstate,
        );
        return;
      }
      if (c.duckdb !== undefined) assert.equal(describePlan(translate(c.redshift)), c.duckdb);
      const results = await session.execute(c.redshift);
      if (c.rows) {
        const rows = c.check ? (await session.execute(c.check)).at(-1)?.rows : results.at(-1)?.rows;
        assert.deepEqual(rows, c.rows);
      }
    });
  }

  test('rewritten calls keep the column names Redshift gives them', async () => {
    const [result] = await session.execute(
      "SELECT DATEDIFF(day, '2020-01-01', '2020-01-03'), DATEDIFF(week, '2020-01-01', '2020-01-13'), DATEADD(day, 1, '2020-01-01'), DATE_PART(hour, '2020-01-01 05:00'), NVL(NULL, 1)",
    );
    assert.deepEqual(
      result?.columns.map((c) => c.name),
      ['date_diff', 'date_diff', 'date_add', 'date_part', 'coalesce'],
    );
  });
});

/** What a value looks like in PostgreSQL's text format, to compare with rows PostgreSQL returns. */
function pgText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return String(v);
}

describe('the same statements on PostgreSQL 15, where it accepts them', () => {
  let client: pg.Client | undefined;
  let reason = '';
  before(async () => {
    const c = new pg.Client({
      connectionString: process.env.SLUICE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      connectionTimeoutMillis: 3000,
      // Every value as PostgreSQL's text.
      types: { getTypeParser: () => (value: string) => value },
    });
    try {
      await c.connect();
      await c.query("SET TimeZone = 'UTC'");
      client = c;
    } catch (error) {
      reason = `PostgreSQL is not reachable: ${(error as Error).message}`;
    }
  });
  after(async () => client?.end());

  for (const c of DIALECT_CASES.filter((x) => x.postgres)) {
    test(c.title, async (t) => {
      if (!client) {
        t.skip(reason);
        return;
      }
      const result = await client.query({ text: c.redshift, rowMode: 'array' });
      assert.deepEqual(
        result.rows,
        (c.rows ?? []).map((row) => row.map(pgText)),
      );
    });
  }
});

describe('translation', () => {
  test('unsupported constructs name themselves', () => {
    assert.throws(
      () => translate("CREATE EXTERNAL TABLE s.t (a int) LOCATION 's3://b/'"),
      (e: unknown) =>
        e instanceof SqlError && e.sqlstate === '0A000' && /CREATE EXTERNAL TABLE/.test(e.message),
    );
    assert.throws(
      () => translate("UNLOAD ('select 1') TO 's3://b/' FIXEDWIDTH 'a:1'"),
      (e: unknown) =>
        e instanceof SqlError && e.sqlstate === '0A000' && /UNLOAD option FIXEDWIDTH/.test(e.message),
    );
  });

  test("UNLOAD reads its query with \\' and '' quotes, translates it, and names Redshift's files", () => {
    const plan = translate(
      "UNLOAD ('select NVL(note, \\'-\\'), ''x'' from t') TO 's3://b/p/r_' IAM_ROLE default CSV HEADER GZIP MANIFEST PARALLEL OFF",
    );
    assert.ok(plan.kind === 'unload');
    if (plan.kind !== 'unload') return;
    assert.equal(plan.unload.query, "select NVL(note, '-'), 'x' from t");
    assert.equal(plan.unload.sql, "select coalesce(note, '-'), 'x' from t");
    assert.equal(
      describePlan(plan),
      "COPY (select coalesce(note, '-'), 'x' from t) TO 'staging file' (FORMAT csv, DELIMITER ',', HEADER true, NULLSTR '', QUOTE '\"', COMPRESSION gzip);\n-- then PUT s3://b/p/r_000.gz and s3://b/p/r_manifest",
    );
  });

  test('a syntax error in Redshift DDL points at the token', () => {
    const sql = 'CREATE TABLE t (a INTEGER DISTKEY BOGUS)';
    assert.throws(
      () => translate(sql),
      (e: unknown) =>
        e instanceof SqlError && e.sqlstate === '42601' && e.options.position === sql.indexOf('BOGUS') + 1,
    );
  });

  test('COPY reads every option it documents', () => {
    const plan = translate(
      "COPY sensor.message (guid, ts, temp) FROM 's3://b/p' CREDENTIALS AS 'aws_access_key_id=a;aws_secret_access_key=b' CSV QUOTE AS '''' DELIMITER AS ';' IGNOREHEADER AS 2 GZIP MAXERROR AS 5 REGION AS 'eu-west-1' TIMEFORMAT AS 'epochsecs' DATEFORMAT 'auto' NULL AS 'NA' EMPTYASNULL BLANKSASNULL TRUNCATECOLUMNS ACCEPTINVCHARS ROUNDEC COMPUPDATE OFF STATUPDATE OFF",
    );
    assert.equal(plan.kind, 'copy');
    if (plan.kind !== 'copy') return;
    const c = plan.copy;
    assert.deepEqual(
      [
        c.table,
        c.columns,
        c.from,
        c.format,
        c.quote,
        c.delimiter,
        c.ignoreHeader,
        c.gzip,
        c.maxError,
        c.region,
        c.timeFormat,
        c.dateFormat,
        c.nullAs,
      ],
      [
        { schema: 'sensor', name: 'message' },
        ['guid', 'ts', 'temp'],
        's3://b/p',
        'csv',
        "'",
        ';',
        2,
        true,
        5,
        'eu-west-1',
        'epochsecs',
        'auto',
        'NA',
      ],
    );
    assert.deepEqual(
      [c.emptyAsNull, c.blanksAsNull, c.truncateColumns, c.acceptInvChars, c.roundDec],
      [true, true, true, '?', true],
    );
    const json = translate(
      "COPY t FROM 's3://b/m' IAM_ROLE default MANIFEST FORMAT AS JSON 'auto ignorecase' DELIMITER '\\t'".replace(
        " DELIMITER '\\t'",
        '',
      ),
    );
    assert.ok(
      json.kind === 'copy' && json.copy.manifest && json.copy.format === 'json' && json.copy.jsonIgnoreCase,
    );
    const tab = translate("COPY t FROM 's3://b/m' DELIMITER '\\t'");
    assert.ok(tab.kind === 'copy' && tab.copy.delimiter === '\t' && tab.copy.format === 'text');
  });

  test('COPY credentials cannot be combined with IAM_ROLE', () => {
    assert.throws(
      () => translate("COPY t FROM 's3://b/p' CREDENTIALS 'aws_iam_role=x' IAM_ROLE default"),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42601',
    );
  });

  test('positions in rewritten SQL map back to the Redshift text', () => {
    const sql = 'SELECT GETDATE(), nosuch FROM t';
    const plan = translate(sql);
    assert.ok(plan.kind === 'query');
    if (plan.kind !== 'query') return;
    const out = plan.sql.indexOf('nosuch');
    assert.equal(sourceOffset(plan.pieces, out), sql.indexOf('nosuch'));
  });

  test('quoted and unquoted identifiers fold to lower case in DDL, as Redshift does by default', () => {
    const plan = translate('CREATE TABLE "Sensor"."MixedCase" ("Col" INT)');
    assert.ok(plan.kind === 'create-table');
    if (plan.kind !== 'create-table') return;
    assert.deepEqual(
      [plan.table.schema, plan.table.name, plan.columns[0]?.name],
      ['sensor', 'mixedcase', 'col'],
    );
  });

  test('a date part given as a parameter is left to DuckDB', () => {
    const sql = 'SELECT date_trunc($1, ts), date_part($2, ts), date_diff($3, a, b) FROM t';
    const plan = translate(sql);
    assert.ok(plan.kind === 'query' && plan.sql === sql);
  });

  test('identifiers named like Redshift functions are left alone', () => {
    const plan = translate('SELECT t.sysdate, getdate FROM t');
    assert.ok(plan.kind === 'query' && plan.sql === 'SELECT t.sysdate, getdate FROM t');
  });
});
