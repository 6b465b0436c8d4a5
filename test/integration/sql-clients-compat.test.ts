/**
 * What analysts' tools do beyond a plain query, against a running `sluice up`: arrays in
 * PostgreSQL's format, regclass names, psql's less common backslash commands, pgjdbc's
 * DatabaseMetaData, binary parameters, batches, fetch sizes, getArray and transactions (as
 * DataGrip and DBeaver use them), psycopg2's named cursors (DECLARE / FETCH / CLOSE) and
 * bulk helpers, the catalog queries SQLAlchemy (Superset) sends, and node-postgres' type
 * parsing.
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
  CREATE TABLE sensor.location (id INTEGER PRIMARY KEY, long NUMERIC(10,7), lat NUMERIC(10,7), description VARCHAR(256));
  CREATE TABLE sensor.message (id BIGINT IDENTITY(1,1), guid VARCHAR(36) NOT NULL, ts BIGINT DISTKEY SORTKEY,
    temp NUMERIC(5,2), created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone, PRIMARY KEY (id));
  CREATE TABLE sensor.sensors (id BIGINT IDENTITY(1,1), location_id INTEGER REFERENCES sensor.location(id),
    message_guid VARCHAR(36), UNIQUE (message_guid));
  INSERT INTO sensor.message (guid, ts, temp) VALUES ('a', 1, 70.5), ('b', 2, 71.25), ('c', 3, 72);
`;

const JAVA = `
import java.math.BigDecimal;
import java.sql.*;
import java.util.Arrays;
import java.util.Properties;

public class Compat {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "awsuser");
    props.setProperty("password", args[1]);
    props.setProperty("reWriteBatchedInserts", "true");
    // Binary transfer from the first execution, as after prepareThreshold executions.
    props.setProperty("prepareThreshold", "-1");
    try (Connection conn = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/dev", props)) {
      DatabaseMetaData md = conn.getMetaData();
      try (ResultSet rs = md.getCatalogs()) { while (rs.next()) System.out.println("catalog\\t" + rs.getString(1)); }
      try (ResultSet rs = md.getColumns(null, "sensor", "message", "id")) {
        while (rs.next()) System.out.println("autoinc\\t" + rs.getString("COLUMN_NAME") + "\\t" + rs.getString("IS_AUTOINCREMENT"));
      }
      try (ResultSet rs = md.getIndexInfo(null, "sensor", "message", false, true)) {
        while (rs.next()) System.out.println("index\\t" + rs.getString("INDEX_NAME") + "\\t" + rs.getString("COLUMN_NAME"));
      }
      try (ResultSet rs = md.getImportedKeys(null, "sensor", "sensors")) {
        while (rs.next()) System.out.println("fk\\t" + rs.getString("PKTABLE_NAME") + "\\t" + rs.getString("FKCOLUMN_NAME"));
      }
      int types = 0;
      try (ResultSet rs = md.getTypeInfo()) { while (rs.next()) types++; }
      System.out.println("typeinfo\\t" + (types > 10));
      try (ResultSet rs = md.getFunctions(null, "sensor", "%")) { System.out.println("functions\\t" + rs.next()); }
      try (ResultSet rs = md.getProcedures(null, "sensor", "%")) { System.out.println("procedures\\t" + rs.next()); }
      try (ResultSet rs = md.getTableTypes()) { int n = 0; while (rs.next()) n++; System.out.println("tabletypes\\t" + (n > 0)); }
      try (ResultSet rs = md.getClientInfoProperties()) { System.out.println("clientinfo\\t" + rs.next()); }
      System.out.println("keywords\\t" + md.getSQLKeywords().contains(","));
      // Read-only mode with manual commit: pgjdbc begins each transaction READ ONLY.
      conn.setReadOnly(true);
      conn.setAutoCommit(false);
      try (Statement s = conn.createStatement()) {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sensor.message")) { rs.next(); System.out.println("readonly-select\\t" + rs.getLong(1)); }
        try { s.executeUpdate("INSERT INTO sensor.message (guid, ts) VALUES ('ro', 998)"); System.out.println("readonly-insert\\tallowed"); }
        catch (SQLException e) { System.out.println("readonly-insert\\t" + e.getSQLState()); }
      }
      conn.rollback();
      conn.setAutoCommit(true);
      conn.setReadOnly(false);
      conn.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
      System.out.println("isolation\\t" + conn.getTransactionIsolation());

      try (PreparedStatement ps = conn.prepareStatement(
          "INSERT INTO sensor.message (guid, ts, temp, created) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, "jdbc"); ps.setLong(2, 100); ps.setBigDecimal(3, new BigDecimal("-12.34"));
        ps.setTimestamp(4, Timestamp.valueOf("2024-01-02 03:04:05.123456"));
        ps.executeUpdate();
        ps.setString(1, "jdbc-null"); ps.setLong(2, 101); ps.setNull(3, Types.NUMERIC); ps.setNull(4, Types.TIMESTAMP);
        ps.executeUpdate();
      }
      try (PreparedStatement ps = conn.prepareStatement("SELECT guid, temp, created FROM sensor.message WHERE ts >= ? ORDER BY ts")) {
        ps.setLong(1, 100);
        try (ResultSet rs = ps.executeQuery()) {
          ResultSetMetaData m = rs.getMetaData();
          System.out.println("meta\\t" + m.getColumnTypeName(2) + "\\t" + m.getPrecision(2) + "\\t" + m.getScale(2));
          while (rs.next()) System.out.println("readback\\t" + rs.getString(1) + "\\t" + rs.getBigDecimal(2) + "\\t" + rs.getTimestamp(3));
        }
      }
      try (PreparedStatement ps = conn.prepareStatement("INSERT INTO sensor.message (guid, ts, temp) VALUES (?, ?, ?)")) {
        for (int i = 0; i < 10; i++) {
          ps.setString(1, "batch" + i); ps.setLong(2, 200 + i); ps.setBigDecimal(3, new BigDecimal(i + ".5")); ps.addBatch();
        }
        System.out.println("batch\\t" + ps.executeBatch().length);
      }
      conn.setAutoCommit(false);
      try (PreparedStatement ps = conn.prepareStatement("SELECT ts FROM sensor.message WHERE ts >= ? ORDER BY ts")) {
        ps.setFetchSize(3);
        ps.setLong(1, 200);
        int n = 0; long sum = 0;
        try (ResultSet rs = ps.executeQuery()) { while (rs.next()) { n++; sum += rs.getLong(1); } }
        System.out.println("fetched\\t" + n + "\\t" + sum);
      }
      try (Statement s = conn.createStatement()) {
        s.executeUpdate("INSERT INTO sensor.message (guid, ts) VALUES ('rolled-back', 999)");
      }
      conn.rollback();
      conn.setAutoCommit(true);
      try (Statement s = conn.createStatement();
           ResultSet rs = s.executeQuery("SELECT count(*) FROM sensor.message WHERE guid = 'rolled-back'")) {
        rs.next(); System.out.println("rolledback\\t" + rs.getLong(1));
      }
      try (PreparedStatement ps = conn.prepareStatement(
          "SELECT current_schemas(true) AS s, ARRAY[1, 2, 3] AS i, ARRAY['a,b', 'c\\"d', NULL] AS t, ARRAY[1.5, 2.25] AS n WHERE 1 = ?")) {
        ps.setInt(1, 1);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          ResultSetMetaData m = rs.getMetaData();
          System.out.println("arraytypes\\t" + m.getColumnTypeName(1) + "\\t" + m.getColumnTypeName(2) + "\\t" + m.getColumnTypeName(4));
          for (int c = 1; c <= 4; c++) System.out.println("array\\t" + Arrays.toString((Object[]) rs.getArray(c).getArray()));
        }
      }
      try (PreparedStatement ps = conn.prepareStatement("SELECT guid FROM sensor.message WHERE ts = ANY(?) ORDER BY ts")) {
        ps.setArray(1, conn.createArrayOf("int8", new Long[] {1L, 3L}));
        try (ResultSet rs = ps.executeQuery()) { while (rs.next()) System.out.println("any\\t" + rs.getString(1)); }
      }
    }
  }
}
`;

const PYTHON_SCRIPT = `
import sys, decimal, datetime
import psycopg2, psycopg2.extras
conn = psycopg2.connect(host='127.0.0.1', port=int(sys.argv[1]), dbname='dev', user='awsuser', password=sys.argv[2])
print("version", conn.server_version, conn.get_parameter_status('server_version'))
cur = conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
cur.execute("SELECT guid, temp, created, true AS ok, DATE '2024-01-02' AS d FROM sensor.message WHERE ts = 1")
row = cur.fetchone()
print("dict", row['guid'], repr(row['temp']), type(row['created']).__name__, row['ok'], repr(row['d']))
conn.commit()

named = conn.cursor(name='readings')
named.itersize = 2
named.execute("SELECT ts FROM sensor.message WHERE ts < 10 ORDER BY ts")
print("named", [r[0] for r in named])
named.close()
conn.commit()

held = conn.cursor(name='held', withhold=True)
held.execute("SELECT ts FROM sensor.message WHERE ts < 10 ORDER BY ts")
conn.commit()
print("held", held.fetchmany(2), held.fetchone(), held.fetchone())
held.scroll(0, mode='absolute')
print("scrolled", held.fetchone())
held.close()

cur = conn.cursor()
cur.executemany("INSERT INTO sensor.message (guid, ts, temp, created) VALUES (%s, %s, %s, %s)",
                [("py%d" % i, 400 + i, decimal.Decimal("1.25"), datetime.datetime(2024, 1, 2, 3, 4, 5)) for i in range(3)])
psycopg2.extras.execute_values(cur, "INSERT INTO sensor.message (guid, ts, temp) VALUES %s",
                               [("ev%d" % i, 500 + i, decimal.Decimal("2.5")) for i in range(4)])
conn.commit()
cur.execute("SELECT count(*) FROM sensor.message WHERE ts >= 400 AND ts < 600")
print("inserted", cur.fetchone()[0])
cur.execute("SELECT ARRAY[1, 2], ARRAY['x y', NULL], current_schemas(true), '{\\"a\\": 1}'::json")
print("arrays", cur.fetchone())
conn.commit()

conn.autocommit = True
cur.execute("INSERT INTO sensor.message (guid, ts) VALUES ('auto', 700)")
conn.autocommit = False
cur.execute("INSERT INTO sensor.message (guid, ts) VALUES ('undone', 701)")
conn.rollback()
cur.execute("SELECT guid FROM sensor.message WHERE ts >= 700 ORDER BY ts")
print("autocommit", [r[0] for r in cur.fetchall()])
conn.commit()

# The catalog queries SQLAlchemy's PostgreSQL dialect sends (Superset's table browser).
cur.execute("select pg_catalog.version()")
print("sqla-version", cur.fetchone()[0].split(' ')[0:2])
cur.execute("show transaction isolation level")
print("sqla-isolation", cur.fetchone()[0])
cur.execute("SELECT pg_catalog.pg_namespace.nspname FROM pg_catalog.pg_namespace WHERE pg_catalog.pg_namespace.nspname NOT LIKE %(p)s ORDER BY pg_catalog.pg_namespace.nspname", {"p": "pg_%"})
print("sqla-schemas", [r[0] for r in cur.fetchall()])
cur.execute("SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(schema)s AND c.relkind = ANY (ARRAY['r', 'p']) ORDER BY 1", {"schema": "sensor"})
print("sqla-tables", [r[0] for r in cur.fetchall()])
cur.execute("SELECT c.oid FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE (n.nspname = %(schema)s) AND c.relname = %(table_name)s AND c.relkind in ('r', 'v', 'm', 'f', 'p')", {"schema": "sensor", "table_name": "message"})
oid = cur.fetchone()[0]
cur.execute("""SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef) AS DEFAULT, a.attnotnull, a.attrelid as table_oid, pgd.description as comment, a.attgenerated as generated, (SELECT json_build_object('always', a.attidentity = 'a', 'start', s.seqstart, 'increment', s.seqincrement, 'minvalue', s.seqmin, 'maxvalue', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle) FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c on s.seqrelid = c."oid" WHERE c.relkind = 'S' AND a.attidentity != '' AND s.seqrelid = pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass::oid) as identity_options FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_description pgd ON (pgd.objoid = a.attrelid AND pgd.objsubid = a.attnum) WHERE a.attrelid = %(table_oid)s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum""", {"table_oid": oid})
print("sqla-columns", [(r[0], r[1]) for r in cur.fetchall()])
cur.execute("SELECT a.attname FROM pg_attribute a JOIN (SELECT unnest(ix.indkey) attnum, generate_subscripts(ix.indkey, 1) ord FROM pg_index ix WHERE ix.indrelid = %(table_oid)s AND ix.indisprimary) k ON a.attnum=k.attnum WHERE a.attrelid = %(table_oid)s ORDER BY k.ord", {"table_oid": oid})
print("sqla-pk", [r[0] for r in cur.fetchall()])
cur.execute("SELECT i.relname as relname, ix.indisunique, a.attname, am.amname FROM pg_class t join pg_index ix on t.oid = ix.indrelid join pg_class i on i.oid = ix.indexrelid left outer join pg_attribute a on t.oid = a.attrelid and a.attnum = ANY(ix.indkey) left outer join pg_am am on i.relam = am.oid WHERE t.relkind IN ('r', 'v', 'f', 'm', 'p') and t.oid = %(table_oid)s ORDER BY t.relname, i.relname", {"table_oid": oid})
print("sqla-indexes", cur.fetchall())
cur.execute("SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'sensor' AND c.relname = 'sensors'")
sensors = cur.fetchone()[0]
cur.execute("SELECT i.relname as relname, ix.indisunique, ix.indexprs, a.attname, a.attnum, c.conrelid, ix.indkey::varchar, ix.indoption::varchar, i.reloptions, am.amname, pg_get_expr(ix.indpred, ix.indrelid), ix.indnkeyatts as indnkeyatts FROM pg_class t join pg_index ix on t.oid = ix.indrelid join pg_class i on i.oid = ix.indexrelid left outer join pg_attribute a on t.oid = a.attrelid and a.attnum = ANY(ix.indkey) left outer join pg_constraint c on (ix.indrelid = c.conrelid and ix.indexrelid = c.conindid and c.contype in ('p', 'u', 'x')) left outer join pg_am am on i.relam = am.oid WHERE t.relkind IN ('r', 'v', 'f', 'm', 'p') and t.oid = %(table_oid)s and ix.indisprimary = 'f' ORDER BY t.relname, i.relname", {"table_oid": sensors})
print("sqla-unique", [(r[0], r[1], r[3], [int(k) for k in r[6].split()], r[9]) for r in cur.fetchall()])
cur.execute("SELECT t.typname as name, pg_catalog.pg_type_is_visible(t.oid) as visible, n.nspname as schema, e.enumlabel as label FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_catalog.pg_enum e ON t.oid = e.enumtypid WHERE t.typtype = 'e'")
print("sqla-enums", cur.fetchall())
cur.execute("SELECT c.oid::regclass, c.oid::regclass::text, 'sensor.message'::regclass = c.oid FROM pg_catalog.pg_class c WHERE c.oid = 'sensor.message'::regclass")
print("regclass", cur.fetchone())
conn.close()
`;

describe('SQL clients: compatibility beyond plain queries', () => {
  let sluice: SluiceProcess;
  let env: NodeJS.ProcessEnv;
  let client: pg.Client;
  before(async () => {
    sluice = await startSluice();
    env = { ...process.env, PGPASSWORD: sluice.password, PGCONNECT_TIMEOUT: '10' };
    client = new pg.Client({
      host: '127.0.0.1',
      port: sluice.sqlPort,
      user: 'awsuser',
      password: sluice.password,
      database: 'dev',
    });
    await client.connect();
    await client.query(SETUP);
  });
  after(async () => {
    await client?.end();
    await sluice?.stop();
    if (sluice) await removeDataDir(sluice.dataDir);
  });

  const psql = async (...commands: string[]): Promise<string> => {
    const args = ['-X', '-h', '127.0.0.1', '-p', String(sluice.sqlPort), '-U', 'awsuser', '-d', 'dev'];
    const { stdout } = await run(
      PSQL,
      [...args, '-v', 'ON_ERROR_STOP=1', ...commands.flatMap((c) => ['-c', c])],
      { env, timeout: 20_000 },
    );
    return stdout;
  };

  test('arrays reach psql in PostgreSQL array text, quoted where PostgreSQL quotes', async () => {
    const out = await psql(
      `SELECT current_schemas(true) AS s, ARRAY[1, NULL, 3] AS i, ARRAY['a b', '', 'x"y', 'NULL', 'c,d', 'e\\f'] AS t, ARRAY[[1, 2], [3, 4]] AS m, ARRAY[true, false] AS b`,
    );
    assert.match(out, /\{pg_catalog,public\}/);
    assert.match(out, /\{1,NULL,3\}/);
    assert.match(out, /\{"a b","","x\\"y","NULL","c,d","e\\\\f"\}/);
    assert.match(out, /\{\{1,2\},\{3,4\}\}/);
    assert.match(out, /\{t,f\}/);
    // psql's \du shows the empty membership list as PostgreSQL does.
    assert.match(await psql('\\du'), /^\s*awsuser\s*\|.*\|\s*\{\}\s*$/m);
  });

  test("psql's \\d names the referencing table (regclass shows names), and less common commands run", async () => {
    const location = await psql('\\d sensor.location');
    assert.match(
      location,
      /Referenced by:\s*\n\s*TABLE "sensor\.sensors" CONSTRAINT "sensors_location_id_fkey"/,
    );
    const message = await psql('\\d+ sensor.message');
    assert.match(message, /^\s*id\s*\|\s*bigint\s*\|\s*\|\s*not null\s*\|\s*generated always as identity/m);
    assert.match(message, /"message_pkey" PRIMARY KEY, btree \(id\)/);
    for (const command of [
      '\\dn+',
      '\\dt+ sensor.*',
      '\\di sensor.*',
      '\\df',
      '\\dT',
      '\\do',
      '\\dC',
      '\\des',
      '\\dx',
      '\\dy',
      '\\dL',
      '\\ddp',
      '\\drds',
      '\\db+',
    ])
      await psql(command);
    assert.match(await psql('\\l+'), /^\s*dev\s*\|\s*awsuser\s*\|\s*UTF8.*\|\s*pg_default\s*\|/m);
    await client.query('CREATE VIEW sensor.recent AS SELECT guid, ts FROM sensor.message WHERE ts > 1');
    assert.match(await psql('\\d+ sensor.recent'), /View definition:\s*\n.*sensor\.message/);
    assert.match(await psql('\\sv sensor.recent'), /CREATE OR REPLACE VIEW sensor\.recent AS/);
    const info = await psql('\\conninfo', '\\echo :SERVER_VERSION_NAME');
    assert.match(info, /You are connected to database "dev" as user "awsuser"/);
    assert.match(info, /^15\.0$/m);
    const expanded = await psql('\\x', '\\timing', 'SELECT guid, temp FROM sensor.message WHERE ts = 1');
    assert.match(expanded, /-\[ RECORD 1 \]-*\nguid\s*\| a\ntemp\s*\| 70\.50/);
    assert.match(expanded, /Time: [\d.]+ ms/);
  });

  test("psql's tab completion queries run", async () => {
    const out = await psql(
      `SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'me%' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
UNION ALL
SELECT NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'sen%' AND n.nspname NOT LIKE E'pg\\\\_%'
LIMIT 1000`,
      `SELECT c.relname, n.nspname FROM pg_catalog.pg_class c, pg_catalog.pg_namespace n WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'me%' AND n.nspname = 'sensor' LIMIT 1000`,
      `SELECT a.attname, NULL::pg_catalog.text FROM pg_catalog.pg_attribute a, pg_catalog.pg_class c, pg_catalog.pg_namespace nr WHERE c.oid = a.attrelid and a.attnum > 0 and not a.attisdropped AND (a.attname) LIKE 'gu%' AND c.relname = 'message' AND c.relnamespace = nr.oid AND nr.nspname = 'sensor' LIMIT 10`,
      `SELECT pg_catalog.lower(name) FROM pg_catalog.pg_settings WHERE context IN ('user', 'superuser') AND pg_catalog.lower(name) LIKE pg_catalog.lower('search%') LIMIT 1000`,
    );
    assert.match(out, /^\s*\|\s*sensor\s*$/m);
    assert.match(out, /^\s*message\s*\|\s*sensor\s*$/m);
    assert.match(out, /^\s*guid\s*\|/m);
    assert.match(out, /^\s*search_path\s*$/m);
  });

  test('pgjdbc as DataGrip and DBeaver use it: metadata, binary parameters, batches, fetch size, arrays, rollback', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-jdbc-'));
    try {
      await writeFile(join(dir, 'Compat.java'), JAVA);
      await run('javac', ['-cp', JDBC_JAR, '-d', dir, join(dir, 'Compat.java')], { timeout: 60_000 });
      const { stdout } = await run(
        'java',
        ['-cp', `${JDBC_JAR}:${dir}`, 'Compat', String(sluice.sqlPort), sluice.password],
        { timeout: 60_000 },
      );
      const lines = stdout.trim().split('\n');
      const of = (kind: string): string[][] =>
        lines.filter((l) => l.startsWith(`${kind}\t`)).map((l) => l.split('\t').slice(1));
      assert.deepEqual(of('catalog'), [['dev']]);
      assert.deepEqual(of('autoinc'), [['id', 'YES']]);
      assert.deepEqual(of('index'), [['message_pkey', 'id']]);
      assert.deepEqual(of('fk'), [['location', 'location_id']]);
      for (const kind of ['typeinfo', 'tabletypes', 'clientinfo', 'keywords'])
        assert.deepEqual(of(kind), [['true']]);
      assert.deepEqual(of('functions'), [['false']]);
      assert.deepEqual(of('procedures'), [['false']]);
      assert.deepEqual(of('isolation'), [['8']]);
      assert.deepEqual(of('readonly-select'), [['3']]);
      assert.deepEqual(of('readonly-insert'), [['25006']]);
      assert.deepEqual(of('meta'), [['numeric', '5', '2']]);
      assert.deepEqual(of('readback'), [
        ['jdbc', '-12.34', '2024-01-02 03:04:05.123456'],
        ['jdbc-null', 'null', 'null'],
      ]);
      assert.deepEqual(of('batch'), [['10']]);
      assert.deepEqual(of('fetched'), [['10', String(10 * 200 + 45)]]);
      assert.deepEqual(of('rolledback'), [['0']]);
      assert.deepEqual(of('arraytypes'), [['_varchar', '_int4', '_numeric']]);
      assert.deepEqual(of('array'), [
        ['[pg_catalog, public]'],
        ['[1, 2, 3]'],
        ['[a,b, c"d, null]'],
        ['[1.50, 2.25]'],
      ]);
      assert.deepEqual(of('any'), [['a'], ['c']]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('psycopg2: RealDictCursor, named cursors, executemany, execute_values, autocommit, SQLAlchemy introspection', async () => {
    const { stdout } = await run(PYTHON, ['-c', PYTHON_SCRIPT, String(sluice.sqlPort), sluice.password], {
      timeout: 30_000,
    });
    const line = (kind: string): string =>
      stdout
        .split('\n')
        .find((l) => l.startsWith(`${kind} `))
        ?.slice(kind.length + 1) ?? `(no ${kind} line in ${stdout})`;
    assert.equal(line('version'), '150000 15.0');
    assert.equal(line('dict'), "a Decimal('70.50') datetime True datetime.date(2024, 1, 2)");
    assert.equal(line('named'), '[1, 2, 3]');
    assert.equal(line('held'), '[(1,), (2,)] (3,) None');
    assert.equal(line('scrolled'), '(1,)');
    assert.equal(line('inserted'), '7');
    assert.equal(line('arrays'), "([1, 2], ['x y', None], ['pg_catalog', 'public'], {'a': 1})");
    assert.equal(line('autocommit'), "['auto']");
    assert.equal(line('sqla-version'), "['PostgreSQL', '15.0']");
    assert.equal(line('sqla-isolation'), 'serializable');
    assert.equal(line('sqla-schemas'), "['information_schema', 'public', 'sensor']");
    assert.equal(line('sqla-tables'), "['location', 'message', 'sensors']");
    assert.equal(
      line('sqla-columns'),
      "[('id', 'bigint'), ('guid', 'character varying(36)'), ('ts', 'bigint'), ('temp', 'numeric(5,2)'), ('created', 'timestamp without time zone')]",
    );
    assert.equal(line('sqla-pk'), "['id']");
    assert.equal(line('sqla-indexes'), "[('message_pkey', True, 'id', 'btree')]");
    assert.equal(line('sqla-unique'), "[('sensors_message_guid_key', True, 'message_guid', [3], 'btree')]");
    assert.equal(line('sqla-enums'), '[]');
    assert.equal(line('regclass'), "('sensor.message', 'sensor.message', True)");
  });

  test('a cursor WITHOUT HOLD needs a transaction and ends with it; FETCH, MOVE and CLOSE as in PostgreSQL', async () => {
    await assert.rejects(client.query('DECLARE c CURSOR FOR SELECT 1'), { code: '25P01' });
    await client.query('BEGIN');
    await client.query('DECLARE c CURSOR FOR SELECT ts FROM sensor.message WHERE ts < 10 ORDER BY ts');
    const first = await client.query('FETCH 2 FROM c');
    assert.deepEqual(
      first.rows.map((r: { ts: string }) => r.ts),
      ['1', '2'],
    );
    assert.equal(first.command, 'FETCH');
    const moved = await client.query('MOVE BACKWARD 1 IN c');
    assert.equal(moved.command, 'MOVE');
    assert.equal(moved.rowCount, 1);
    const rest = await client.query('FETCH ALL FROM c');
    assert.deepEqual(
      rest.rows.map((r: { ts: string }) => r.ts),
      ['2', '3'],
    );
    assert.equal((await client.query('FETCH NEXT FROM c')).rowCount, 0);
    await client.query('COMMIT');
    await assert.rejects(client.query('FETCH 1 FROM c'), { code: '34000' });
    await assert.rejects(client.query('CLOSE nosuch'), { code: '34000' });
  });

  test('node-postgres parses bigint and numeric as strings, timestamps as Date, json and arrays as values', async () => {
    const r = await client.query(
      `SELECT 9007199254740993::bigint AS b, 1.50::numeric(5,2) AS n, TIMESTAMP '2024-01-02 03:04:05' AS ts,
              '{"a": [1, 2]}'::json AS j, ARRAY[1, 2] AS a, ARRAY['x', 'y z', NULL] AS t, ARRAY[1.5] AS d`,
    );
    const row = r.rows[0] as Record<string, unknown>;
    assert.equal(row.b, '9007199254740993');
    assert.equal(row.n, '1.50');
    assert.ok(row.ts instanceof Date);
    assert.equal((row.ts as Date).toISOString(), '2024-01-02T03:04:05.000Z');
    assert.deepEqual(row.j, { a: [1, 2] });
    assert.deepEqual(row.a, [1, 2]);
    assert.deepEqual(row.t, ['x', 'y z', null]);
    assert.deepEqual(row.d, [1.5]);
    const arrays = await client.query({ text: 'SELECT 1 AS a, ARRAY[2] AS b', rowMode: 'array' });
    assert.deepEqual(arrays.rows, [[1, [2]]]);
    for (const ts of [1, 2]) {
      const named = await client.query({
        name: 'by-ts',
        text: 'SELECT guid FROM sensor.message WHERE ts = $1',
        values: [ts],
      });
      assert.equal(named.rows[0]?.guid, ts === 1 ? 'a' : 'b');
    }
    // JavaScript arrays as parameters of ANY, their type left to the server as PostgreSQL does.
    const byTs = await client.query('SELECT guid FROM sensor.message WHERE ts = ANY($1) ORDER BY ts', [
      [1, 3],
    ]);
    assert.deepEqual(
      byTs.rows.map((r: { guid: string }) => r.guid),
      ['a', 'c'],
    );
    const byGuid = await client.query('SELECT ts FROM sensor.message WHERE guid = ANY($1) ORDER BY ts', [
      ['b', 'c'],
    ]);
    assert.deepEqual(
      byGuid.rows.map((r: { ts: string }) => r.ts),
      ['2', '3'],
    );
    // PostgreSQL's limit of 65535 parameters in one statement; one more cannot be sent at all.
    const many = Array.from({ length: 65535 }, (_, i) => i);
    const wide = await client.query('SELECT $1::int AS first, $65535::int AS last', many);
    assert.deepEqual(wide.rows, [{ first: 0, last: 65534 }]);
    const tooMany = Array.from({ length: 70000 }, (_, i) => i);
    await assert.rejects(client.query(`SELECT ${tooMany.map((i) => `$${i + 1}`).join(', ')}`, tooMany), {
      code: '54000',
    });
    assert.deepEqual((await client.query('SELECT 1 AS still')).rows, [{ still: 1 }]);
  });
});
