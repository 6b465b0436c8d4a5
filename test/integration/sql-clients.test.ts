/**
 * Real SQL clients against `sluice up` with a TLS certificate configured: node-postgres
 * (pool, parameters, types, COPY through pg-copy-streams, TLS), psql (sslmode=require,
 * `\copy` both ways, a script with an error in the middle), psycopg2 (copy_expert,
 * parameters, a read-only user) and pgjdbc (a prepared statement with a parameter).
 * Sign-in is SCRAM-SHA-256, the default.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { removeDataDir, startSluice, type SluiceProcess } from '../support/sluice-process.ts';

const PSQL = '/usr/bin/psql';
const PYTHON = '/usr/bin/python3';
const JDBC_JAR = '/usr/share/java/postgresql.jar';
const ANALYST_PASSWORD = 'Analyst-Password-1';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: '/usr/bin:/bin', HOME: tmpdir(), ...env }, timeout: 60_000, ...(cwd ? { cwd } : {}) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('SQL clients against sluice up', () => {
  let s: SluiceProcess;
  let work: string;
  let admin: pg.Pool;

  const connection = (user = 'awsuser', password?: string): pg.ClientConfig => ({
    host: '127.0.0.1',
    port: s.sqlPort,
    database: 'dev',
    user,
    password: password ?? s.password,
  });

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-sql-clients-'));
    const openssl = await run('/usr/bin/openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(work, 'key.pem'),
      '-out',
      join(work, 'cert.pem'),
    ]);
    assert.equal(openssl.code, 0, openssl.stderr);
    const config = join(work, 'sluice.json');
    await writeFile(
      config,
      JSON.stringify({ tls: { certFile: join(work, 'cert.pem'), keyFile: join(work, 'key.pem') } }),
    );
    s = await startSluice({ args: ['up', '--config', config] });
    admin = new pg.Pool({ ...connection(), max: 4 });
    await admin.query(`
      CREATE SCHEMA sensor;
      CREATE TABLE sensor.message (id BIGINT IDENTITY(1,1), guid VARCHAR(36), ts BIGINT, temp NUMERIC(5,2), created TIMESTAMP DEFAULT GETDATE());
      CREATE TABLE public.message (guid VARCHAR(36));
      INSERT INTO public.message VALUES ('in-public');
      CREATE USER analyst PASSWORD '${ANALYST_PASSWORD}';
      GRANT USAGE ON SCHEMA sensor TO analyst;
      GRANT SELECT ON ALL TABLES IN SCHEMA sensor TO analyst;
    `);
  });

  after(async () => {
    await admin?.end();
    await s?.stop();
    if (s) await removeDataDir(s.dataDir);
    await rm(work, { recursive: true, force: true });
  });

  describe('node-postgres', () => {
    test('COPY FROM STDIN and TO STDOUT through pg-copy-streams', async () => {
      const c = await admin.connect();
      try {
        const load = c.query(
          copyFrom('COPY sensor.message (guid, ts, temp) FROM STDIN WITH (FORMAT csv, HEADER)'),
        );
        const lines = ['guid,ts,temp\n'];
        for (let i = 1; i <= 500; i++)
          lines.push(`g-${i},${1700000000 + i},${(60 + (i % 40) + 0.25).toFixed(2)}\n`);
        await pipeline(Readable.from(lines), load);
        assert.equal(load.rowCount, 500);
        const out: Buffer[] = [];
        for await (const chunk of c.query(
          copyTo(
            'COPY (SELECT guid, temp FROM sensor.message WHERE ts <= 1700000002 ORDER BY ts) TO STDOUT WITH (FORMAT csv)',
          ),
        ))
          out.push(chunk as Buffer);
        assert.equal(Buffer.concat(out).toString(), 'g-1,61.25\ng-2,62.25\n');
      } finally {
        c.release();
      }
    });

    test('parameters and types in the extended protocol', async () => {
      const r = await admin.query(
        'SELECT id, guid, ts, temp, created, temp > $2 AS warm FROM sensor.message WHERE guid = $1',
        ['g-7', 60],
      );
      assert.equal(r.rows.length, 1);
      const row = r.rows[0] as Record<string, unknown>;
      assert.equal(row['guid'], 'g-7');
      assert.equal(row['ts'], '1700000007'); // int8 arrives as text in node-postgres
      assert.equal(row['temp'], '67.25');
      assert.equal(row['warm'], true);
      assert.ok(row['created'] instanceof Date);
      const numeric = r.fields.find((f) => f.name === 'temp');
      assert.equal(numeric?.dataTypeID, 1700);
    });

    test('a pool of sessions each keeps its own search_path', async () => {
      const clients = await Promise.all([1, 2, 3, 4].map(() => admin.connect()));
      try {
        await Promise.all(
          clients.map((c, i) => c.query(`SET search_path TO ${i % 2 === 0 ? 'sensor' : 'public'}`)),
        );
        const answers = await Promise.all(
          clients.map((c) => c.query('SELECT count(*)::int AS n FROM message')),
        );
        assert.deepEqual(
          answers.map((a) => (a.rows[0] as { n: number }).n),
          [500, 1, 500, 1],
        );
      } finally {
        for (const c of clients) {
          await c.query('RESET search_path');
          c.release();
        }
      }
    });

    test('a multi-statement string stops at the error and rolls back as one transaction', async () => {
      const c = new pg.Client({ ...connection(), ssl: { rejectUnauthorized: false } });
      await c.connect();
      try {
        const stream = (c as unknown as { connection: { stream: { encrypted?: boolean } } }).connection
          .stream;
        assert.equal(stream.encrypted, true);
        await assert.rejects(
          c.query(
            "INSERT INTO public.message VALUES ('one'); SELECT * FROM nosuch; INSERT INTO public.message VALUES ('two')",
          ),
          (e: pg.DatabaseError) => e.code === '42P01',
        );
        // As in PostgreSQL, the statements of one Query form an implicit transaction.
        const seen = await c.query(
          "SELECT guid FROM public.message WHERE guid IN ('one', 'two') ORDER BY guid",
        );
        assert.deepEqual(seen.rows, []);
        const both = await c.query(
          "INSERT INTO public.message VALUES ('one'); INSERT INTO public.message VALUES ('two')",
        );
        assert.equal((both as unknown as pg.QueryResult[]).length, 2);
        const kept = await c.query(
          "SELECT guid FROM public.message WHERE guid IN ('one', 'two') ORDER BY guid",
        );
        assert.deepEqual(kept.rows, [{ guid: 'one' }, { guid: 'two' }]);
        await c.query('BEGIN');
        await c.query("INSERT INTO public.message VALUES ('rolled-back')");
        await assert.rejects(
          c.query('SELECT 1/0::int FROM nosuch'),
          (e: pg.DatabaseError) => e.code === '42P01',
        );
        await assert.rejects(c.query('SELECT 1'), (e: pg.DatabaseError) => e.code === '25P02');
        await c.query('ROLLBACK');
        const gone = await c.query(
          "SELECT count(*)::int AS n FROM public.message WHERE guid = 'rolled-back'",
        );
        assert.deepEqual(gone.rows, [{ n: 0 }]);
      } finally {
        await c.end();
      }
    });

    test('a read-only analyst reads and is refused writes, over the wire and in the console', async () => {
      const c = new pg.Client(connection('analyst', ANALYST_PASSWORD));
      await c.connect();
      try {
        const r = await c.query('SELECT count(*)::int AS n, current_user AS u FROM sensor.message');
        assert.deepEqual(r.rows, [{ n: 500, u: 'analyst' }]);
        for (const sql of [
          "INSERT INTO sensor.message (guid) VALUES ('x')",
          'UPDATE sensor.message SET temp = 0',
          'DELETE FROM sensor.message',
          'TRUNCATE sensor.message',
          'DROP TABLE sensor.message',
        ])
          await assert.rejects(c.query(sql), (e: pg.DatabaseError) => {
            assert.equal(e.code, '42501', sql);
            assert.equal(e.message, 'permission denied for relation message');
            return true;
          });
        await assert.rejects(
          pipeline(
            Readable.from(['a,1,1\n']),
            c.query(copyFrom('COPY sensor.message (guid, ts, temp) FROM STDIN CSV')),
          ),
          (e: pg.DatabaseError) => e.code === '42501',
        );
      } finally {
        await c.end();
      }
      // With a certificate configured the console speaks HTTPS too.
      const body = (await consolePost(
        s.consolePort,
        join(work, 'cert.pem'),
        `analyst:${ANALYST_PASSWORD}`,
        JSON.stringify({ sql: 'DELETE FROM sensor.message' }),
      )) as { error?: { sqlstate: string; message: string } };
      assert.equal(body.error?.sqlstate, '42501');
      assert.equal((await admin.query('SELECT count(*)::int AS n FROM sensor.message')).rows[0].n, 500);
    });
  });

  describe('psql', () => {
    const psqlEnv = (): Record<string, string> => ({ PGPASSWORD: s.password, PGCONNECT_TIMEOUT: '10' });
    const conninfo = (extra = ''): string =>
      `host=127.0.0.1 port=${s.sqlPort} dbname=dev user=awsuser ${extra}`.trim();

    test('sslmode=require connects over TLS', async () => {
      const r = await run(
        PSQL,
        ['-X', conninfo('sslmode=require'), '-c', '\\conninfo', '-c', 'SELECT version()'],
        psqlEnv(),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /SSL connection \(protocol: TLSv1\.[23]/);
      assert.match(r.stdout, /version\s*\n-+\n PostgreSQL 15.*Redshift.*Sluice/);
    });

    test('\\copy loads a CSV file and writes one', async () => {
      const input = join(work, 'in.csv');
      await writeFile(input, 'guid,ts,temp\r\npsql-1,1800000001,80.5\r\npsql-2,1800000002,81\r\n');
      const output = join(work, 'out.csv');
      const r = await run(
        PSQL,
        [
          '-X',
          conninfo('sslmode=require'),
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `\\copy sensor.message (guid, ts, temp) from '${input}' with (format csv, header)`,
          '-c',
          `\\copy (SELECT guid, temp FROM sensor.message WHERE ts > 1800000000 ORDER BY ts) to '${output}' with csv header`,
        ],
        psqlEnv(),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /COPY 2/);
      assert.equal(await readFile(output, 'utf8'), 'guid,temp\npsql-1,80.50\npsql-2,81.00\n');
    });

    test('a script with COPY FROM stdin and its data inline, as pg_dump writes them', async () => {
      const script = join(work, 'inline.sql');
      await writeFile(
        script,
        [
          'CREATE TABLE public.dumped (id INT, note VARCHAR(20));',
          'COPY public.dumped (id, note) FROM stdin;',
          '1\tfirst',
          '2\t\\N',
          '\\.',
          'SELECT count(*) AS n, count(note) AS notes FROM public.dumped;',
          '',
        ].join('\n'),
      );
      const r = await run(
        PSQL,
        ['-X', '-A', '-t', conninfo(), '-v', 'ON_ERROR_STOP=1', '-f', script],
        psqlEnv(),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^COPY 2$/m);
      assert.match(r.stdout, /^2\|1$/m);
    });

    test('a script with an error in the middle stops there with ON_ERROR_STOP', async () => {
      const script = join(work, 'script.sql');
      await writeFile(
        script,
        [
          'CREATE TABLE public.script_log (step INT);',
          'INSERT INTO public.script_log VALUES (1);',
          'SELECT * FROM public.no_such_table;',
          'INSERT INTO public.script_log VALUES (2);',
          '',
        ].join('\n'),
      );
      const r = await run(PSQL, ['-X', conninfo(), '-v', 'ON_ERROR_STOP=1', '-f', script], psqlEnv());
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        /script\.sql:3: ERROR: {2}relation "public\.no_such_table" does not exist|script\.sql:3: ERROR: {2}relation "no_such_table" does not exist/,
      );
      const rows = await admin.query('SELECT step FROM public.script_log ORDER BY step');
      assert.deepEqual(rows.rows, [{ step: 1 }]);
    });
  });

  describe('psycopg2', () => {
    test('parameters, types, copy_expert both ways and a refused write', async () => {
      const program = `
import io, sys, psycopg2
port, password, analyst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = psycopg2.connect(host='127.0.0.1', port=port, dbname='dev', user='awsuser', password=password, sslmode='require')
cur = conn.cursor()
cur.execute('SELECT guid, ts, temp, created FROM sensor.message WHERE guid = %s', ('g-9',))
guid, ts, temp, created = cur.fetchone()
print('row', guid, ts, type(ts).__name__, temp, type(temp).__name__, type(created).__name__)
cur.copy_expert("COPY public.message (guid) FROM STDIN WITH CSV", io.StringIO('py-1\\npy-2\\n'))
print('copied', cur.rowcount)
conn.commit()
out = io.StringIO()
cur.copy_expert("COPY (SELECT guid FROM public.message WHERE guid LIKE 'py-%' ORDER BY guid) TO STDOUT", out)
print('out', out.getvalue().split())
conn.close()
ro = psycopg2.connect(host='127.0.0.1', port=port, dbname='dev', user='analyst', password=analyst)
c2 = ro.cursor()
try:
    c2.execute("DELETE FROM sensor.message")
except psycopg2.Error as e:
    print('refused', e.pgcode, e.pgerror.splitlines()[0])
ro.close()
`;
      const file = join(work, 'client.py');
      await writeFile(file, program);
      const r = await run(PYTHON, [file, String(s.sqlPort), s.password, ANALYST_PASSWORD]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^row g-9 1700000009 int 69\.25 Decimal datetime$/m);
      assert.match(r.stdout, /^copied 2$/m);
      assert.match(r.stdout, /^out \['py-1', 'py-2'\]$/m);
      assert.match(r.stdout, /^refused 42501 ERROR: {2}permission denied for relation message$/m);
    });
  });

  describe('pgjdbc', () => {
    test('a prepared statement with a parameter over sslmode=require', async () => {
      const source = `
import java.sql.*;
import java.util.Properties;
public class Probe {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.setProperty("user", "awsuser");
    p.setProperty("password", args[1]);
    p.setProperty("sslmode", "require");
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/dev", p)) {
      System.out.println("product " + c.getMetaData().getDatabaseProductVersion());
      try (PreparedStatement ps = c.prepareStatement("SELECT guid, temp FROM sensor.message WHERE ts > ? ORDER BY ts LIMIT 2")) {
        for (int round = 0; round < 6; round++) {
          ps.setLong(1, 1700000490L + round);
          try (ResultSet rs = ps.executeQuery()) {
            StringBuilder sb = new StringBuilder("round " + round);
            while (rs.next()) sb.append(" ").append(rs.getString(1)).append("=").append(rs.getBigDecimal(2));
            System.out.println(sb);
          }
        }
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user")) {
        rs.next();
        System.out.println("user " + rs.getString(1) + " column " + rs.getMetaData().getColumnName(1));
      }
    }
  }
}
`;
      const dir = join(work, 'java');
      await run('/usr/bin/mkdir', ['-p', dir]);
      await writeFile(join(dir, 'Probe.java'), source);
      const compiled = await run('/usr/bin/javac', ['-cp', JDBC_JAR, '-d', dir, join(dir, 'Probe.java')]);
      assert.equal(compiled.code, 0, compiled.stderr);
      const r = await run('/usr/bin/java', [
        '-cp',
        `${JDBC_JAR}:${dir}`,
        'Probe',
        String(s.sqlPort),
        s.password,
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /^product 15\./m);
      assert.match(r.stdout, /^round 0 g-491=71\.25 g-492=72\.25$/m);
      // Past pgjdbc's prepareThreshold (5) it switches to a named server-side statement.
      assert.match(r.stdout, /^round 5 g-496=76\.25 g-497=77\.25$/m);
      assert.match(r.stdout, /^user awsuser column current_user$/m);
    });
  });
});

/** POSTs to the console's /api/sql over HTTPS, trusting the test's own certificate. */
async function consolePost(
  port: number,
  caFile: string,
  userPassword: string,
  body: string,
): Promise<unknown> {
  const ca = await readFile(caFile);
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/api/sql',
        method: 'POST',
        ca,
        // The certificate names localhost; the test connects to 127.0.0.1.
        checkServerIdentity: () => undefined,
        headers: {
          authorization: `Basic ${Buffer.from(userPassword).toString('base64')}`,
          'content-type': 'application/json',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
