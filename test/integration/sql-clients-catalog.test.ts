/**
 * Real SQL clients introspect a running `sluice up` on its SQL port: psql 15's backslash
 * commands, pgjdbc's DatabaseMetaData (a small Java program compiled at test time) and
 * psycopg2; and the Redshift system tables record those connections and queries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const run = promisify(execFile);
const PSQL = '/usr/bin/psql';
const PYTHON = '/usr/bin/python3';
const JDBC_JAR = '/usr/share/java/postgresql.jar';

const SETUP = `
  CREATE SCHEMA sensor;
  CREATE TABLE sensor.message (id BIGINT IDENTITY(1,1), guid VARCHAR(36) NOT NULL, ts BIGINT DISTKEY SORTKEY,
    temp NUMERIC(5,2), created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone);
  CREATE TABLE sensor.location (id INTEGER, long NUMERIC(10,7), lat NUMERIC(10,7), description VARCHAR(256));
  CREATE VIEW sensor.message_latency AS SELECT guid, ts FROM sensor.message;
  INSERT INTO sensor.message (guid, ts, temp) VALUES ('a', 1, 70.5), ('b', 2, 71.25);
`;

const JAVA = `
import java.sql.*;
import java.util.Properties;

public class Meta {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "awsuser");
    props.setProperty("password", args[1]);
    try (Connection conn = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/dev", props)) {
      DatabaseMetaData md = conn.getMetaData();
      try (ResultSet rs = md.getSchemas()) {
        while (rs.next()) System.out.println("schema\\t" + rs.getString("TABLE_SCHEM"));
      }
      try (ResultSet rs = md.getTables(null, "sensor", "%", null)) {
        while (rs.next()) System.out.println("table\\t" + rs.getString("TABLE_NAME") + "\\t" + rs.getString("TABLE_TYPE"));
      }
      try (ResultSet rs = md.getColumns(null, "sensor", "message", "%")) {
        while (rs.next())
          System.out.println("column\\t" + rs.getString("COLUMN_NAME") + "\\t" + rs.getString("TYPE_NAME") + "\\t"
            + rs.getInt("COLUMN_SIZE") + "\\t" + rs.getInt("DECIMAL_DIGITS") + "\\t" + rs.getString("IS_NULLABLE"));
      }
      try (ResultSet rs = md.getPrimaryKeys(null, "sensor", "message")) {
        while (rs.next()) System.out.println("pk\\t" + rs.getString("COLUMN_NAME"));
      }
      try (PreparedStatement ps = conn.prepareStatement("SELECT guid, temp FROM sensor.message WHERE ts > ? ORDER BY ts")) {
        ps.setLong(1, 0);
        try (ResultSet rs = ps.executeQuery()) {
          ResultSetMetaData rmd = rs.getMetaData();
          System.out.println("rsmeta\\t" + rmd.getColumnTypeName(1) + "\\t" + rmd.getPrecision(1) + "\\t"
            + rmd.getColumnTypeName(2) + "\\t" + rmd.getPrecision(2) + "\\t" + rmd.getScale(2));
          while (rs.next()) System.out.println("row\\t" + rs.getString(1) + "\\t" + rs.getBigDecimal(2));
        }
      }
    }
  }
}
`;

const PYTHON_SCRIPT = `
import sys, psycopg2
conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), dbname='dev', user='awsuser', password=sys.argv[2])
cur = conn.cursor()
cur.execute("SELECT guid, temp, created FROM sensor.message WHERE ts = %s", (2,))
row = cur.fetchone()
print("row", row[0], row[1], type(row[2]).__name__)
for d in cur.description:
    print("desc", d.name, d.type_code, d.internal_size, d.precision, d.scale)
cur.execute("SELECT table_name, column_name, data_type, character_maximum_length FROM information_schema.columns WHERE table_schema = 'sensor' AND table_name = 'message' ORDER BY ordinal_position")
for r in cur.fetchall():
    print("col", *r)
conn.close()
`;

describe('SQL clients introspect the catalog', () => {
  let sluice: SluiceProcess;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    sluice = await startSluice();
    env = { ...process.env, PGPASSWORD: sluice.password, PGCONNECT_TIMEOUT: '10' };
    const client = new pg.Client({
      host: '127.0.0.1',
      port: sluice.sqlPort,
      user: 'awsuser',
      password: sluice.password,
      database: 'dev',
    });
    await client.connect();
    await client.query(SETUP);
    await client.end();
  });
  after(async () => {
    await sluice?.stop();
    if (sluice) await removeDataDir(sluice.dataDir);
  });

  const psql = async (command: string): Promise<string> => {
    const { stdout } = await run(
      PSQL,
      [
        '-X',
        '-h',
        '127.0.0.1',
        '-p',
        String(sluice.sqlPort),
        '-U',
        'awsuser',
        '-d',
        'dev',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        command,
      ],
      { env, timeout: 20_000 },
    );
    return stdout;
  };

  test('psql \\dn lists public and sensor, and nothing internal', async () => {
    const out = await psql('\\dn');
    assert.match(out, /^\s*public\s*\|\s*awsuser\s*$/m);
    assert.match(out, /^\s*sensor\s*\|\s*awsuser\s*$/m);
    assert.doesNotMatch(out, /_sluice|\bmain\b|pg_catalog|information_schema/);
  });

  test('psql \\dt sensor.* and \\dv sensor.* list the tables and the view', async () => {
    const tables = await psql('\\dt sensor.*');
    assert.match(tables, /sensor\s*\|\s*location\s*\|\s*table\s*\|\s*awsuser/);
    assert.match(tables, /sensor\s*\|\s*message\s*\|\s*table\s*\|\s*awsuser/);
    assert.match(tables, /\(2 rows\)/);
    const views = await psql('\\dv sensor.*');
    assert.match(views, /sensor\s*\|\s*message_latency\s*\|\s*view\s*\|\s*awsuser/);
  });

  test('psql \\d sensor.message shows Redshift column types, NOT NULL and defaults', async () => {
    const out = await psql('\\d sensor.message');
    assert.match(out, /Table "sensor\.message"/);
    // IDENTITY(1,1) takes no explicit values: psql shows PostgreSQL's GENERATED ALWAYS.
    assert.match(out, /^\s*id\s*\|\s*bigint\s*\|\s*\|\s*not null\s*\|\s*generated always as identity/m);
    assert.match(out, /^\s*guid\s*\|\s*character varying\(36\)\s*\|\s*\|\s*not null\s*\|/m);
    assert.match(out, /^\s*ts\s*\|\s*bigint\s*\|/m);
    assert.match(out, /^\s*temp\s*\|\s*numeric\(5,2\)\s*\|/m);
    assert.match(
      out,
      /^\s*created\s*\|\s*timestamp without time zone\s*\|\s*\|\s*\|\s*\('now'::text\)::timestamp with time zone/m,
    );
  });

  test('psql \\l lists the database dev', async () => {
    const out = await psql('\\l');
    assert.match(out, /^\s*dev\s*\|\s*awsuser\s*\|\s*UTF8/m);
  });

  test('pgjdbc DatabaseMetaData: getSchemas, getTables, getColumns, and a prepared SELECT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-jdbc-'));
    try {
      await writeFile(join(dir, 'Meta.java'), JAVA);
      await run('javac', ['-cp', JDBC_JAR, '-d', dir, join(dir, 'Meta.java')], { timeout: 60_000 });
      const { stdout } = await run(
        'java',
        ['-cp', `${JDBC_JAR}:${dir}`, 'Meta', String(sluice.sqlPort), sluice.password],
        { timeout: 60_000 },
      );
      const lines = stdout.trim().split('\n');
      const of = (kind: string): string[][] =>
        lines.filter((l) => l.startsWith(`${kind}\t`)).map((l) => l.split('\t').slice(1));
      assert.deepEqual(of('schema').flat(), ['information_schema', 'pg_catalog', 'public', 'sensor']);
      assert.deepEqual(of('table'), [
        ['location', 'TABLE'],
        ['message', 'TABLE'],
        ['message_latency', 'VIEW'],
      ]);
      assert.deepEqual(of('column'), [
        ['id', 'int8', '19', '0', 'NO'],
        ['guid', 'varchar', '36', '0', 'NO'],
        ['ts', 'int8', '19', '0', 'YES'],
        ['temp', 'numeric', '5', '2', 'YES'],
        ['created', 'timestamp', '29', '6', 'YES'],
      ]);
      assert.deepEqual(of('pk'), []);
      assert.deepEqual(of('rsmeta'), [['varchar', '36', 'numeric', '5', '2']]);
      assert.deepEqual(of('row'), [
        ['a', '70.50'],
        ['b', '71.25'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('psycopg2: connect, query, cursor.description and information_schema', async () => {
    const { stdout } = await run(PYTHON, ['-c', PYTHON_SCRIPT, String(sluice.sqlPort), sluice.password], {
      timeout: 30_000,
    });
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'row b 71.25 datetime');
    // As PostgreSQL 15 describes the same columns.
    assert.deepEqual(
      lines.filter((l) => l.startsWith('desc')),
      ['desc guid 1043 36 None None', 'desc temp 1700 5 5 2', 'desc created 1114 8 None None'],
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith('col')),
      [
        'col message id bigint None',
        'col message guid character varying 36',
        'col message ts bigint None',
        'col message temp numeric None',
        'col message created timestamp without time zone None',
      ],
    );
  });

  test('stl_connection_log and stl_query record the clients, with remote host and query text', async () => {
    await psql("SELECT 'marker-' || 'query' AS m");
    const client = new pg.Client({
      host: '127.0.0.1',
      port: sluice.sqlPort,
      user: 'awsuser',
      password: sluice.password,
      database: 'dev',
    });
    await client.connect();
    try {
      const connections = await client.query(
        `SELECT trim(event) AS event, trim(remotehost) AS host, trim(username) AS username, trim(authmethod) AS method, pid
           FROM stl_connection_log WHERE trim(event) IN ('authenticated', 'disconnecting session') ORDER BY recordtime`,
      );
      const events = connections.rows as {
        event: string;
        host: string;
        username: string;
        method: string;
        pid: number;
      }[];
      assert.ok(events.filter((e) => e.event === 'authenticated').length >= 5, JSON.stringify(events));
      assert.ok(events.some((e) => e.event === 'disconnecting session'));
      for (const e of events) {
        assert.equal(e.host, '127.0.0.1');
        assert.equal(e.username, 'awsuser');
        assert.ok(e.pid > 0);
      }
      const queries = await client.query(
        `SELECT q.pid, q.aborted, trim(q.querytxt) AS txt FROM pg_catalog.stl_query q
          WHERE q.querytxt LIKE '%marker-%' AND q.querytxt NOT LIKE '%stl_query%'`,
      );
      assert.equal(queries.rows.length, 1);
      const marker = queries.rows[0] as { pid: number; aborted: number; txt: string };
      assert.equal(marker.aborted, 0);
      assert.equal(marker.txt, "SELECT 'marker-' || 'query' AS m");
      const sameSession = await client.query(
        `SELECT count(*)::int AS n FROM stl_connection_log WHERE pid = $1 AND trim(event) = 'authenticated'`,
        [marker.pid],
      );
      assert.equal((sameSession.rows[0] as { n: number }).n, 1);
    } finally {
      await client.end();
    }
  });
});
