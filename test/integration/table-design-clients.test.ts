/**
 * What a Redshift user declared about a table's physical design and keys, as real clients
 * read it back from a running `sluice up`: psql 15's `\d` shows the primary key, unique and
 * foreign key constraints; pgjdbc's getPrimaryKeys and getImportedKeys return them; and
 * pg_table_def / svv_table_info report the DISTKEY, SORTKEY and encodings — across a restart.
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
const JDBC_JAR = '/usr/share/java/postgresql.jar';

const SETUP = `
  CREATE SCHEMA sensor;
  CREATE TABLE sensor.location (id INTEGER PRIMARY KEY, description VARCHAR(256)) DISTSTYLE ALL;
  CREATE TABLE sensor.message (id BIGINT NOT NULL, guid VARCHAR(36) UNIQUE ENCODE zstd, ts BIGINT NOT NULL,
    location_id INTEGER REFERENCES sensor.location(id), temp NUMERIC(5,2),
    PRIMARY KEY (id))
    DISTKEY (guid) COMPOUND SORTKEY (ts, location_id);
  -- Redshift does not enforce keys: the duplicate id is accepted.
  INSERT INTO sensor.message VALUES (1, 'a', 10, 1, 70.5), (1, 'b', 11, 2, 71.25);
`;

const JAVA = `
import java.sql.*;
import java.util.Properties;

public class Keys {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "awsuser");
    props.setProperty("password", args[1]);
    try (Connection conn = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/dev", props)) {
      DatabaseMetaData md = conn.getMetaData();
      try (ResultSet rs = md.getPrimaryKeys(null, "sensor", "message")) {
        while (rs.next())
          System.out.println("pk\\t" + rs.getString("COLUMN_NAME") + "\\t" + rs.getInt("KEY_SEQ") + "\\t" + rs.getString("PK_NAME"));
      }
      try (ResultSet rs = md.getImportedKeys(null, "sensor", "message")) {
        while (rs.next())
          System.out.println("fk\\t" + rs.getString("PKTABLE_NAME") + "\\t" + rs.getString("PKCOLUMN_NAME") + "\\t"
            + rs.getString("FKCOLUMN_NAME") + "\\t" + rs.getString("FK_NAME"));
      }
    }
  }
}
`;

describe('clients read back declared keys and physical design', () => {
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

  test('psql \\d shows the primary key, the unique constraint and the foreign key, as PostgreSQL does', async () => {
    const out = await psql('\\d sensor.message');
    assert.match(
      out,
      /Indexes:\n\s+"message_pkey" PRIMARY KEY, btree \(id\)\n\s+"message_guid_key" UNIQUE CONSTRAINT, btree \(guid\)/,
    );
    assert.match(
      out,
      /Foreign-key constraints:\n\s+"message_location_id_fkey" FOREIGN KEY \(location_id\) REFERENCES sensor\.location\(id\)/,
    );
    const parent = await psql('\\d sensor.location');
    assert.match(parent, /"location_pkey" PRIMARY KEY, btree \(id\)/);
    // The referencing table is named through a regclass cast, which the catalog shows as an oid.
    assert.match(
      parent,
      /Referenced by:\n\s+TABLE "[^"]+" CONSTRAINT "message_location_id_fkey" FOREIGN KEY \(location_id\) REFERENCES sensor\.location\(id\)/,
    );
  });

  test('pgjdbc getPrimaryKeys and getImportedKeys return the declared keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-jdbc-keys-'));
    try {
      await writeFile(join(dir, 'Keys.java'), JAVA);
      await run('javac', ['-cp', JDBC_JAR, '-d', dir, join(dir, 'Keys.java')], { timeout: 60_000 });
      const { stdout } = await run(
        'java',
        ['-cp', `${JDBC_JAR}:${dir}`, 'Keys', String(sluice.sqlPort), sluice.password],
        {
          timeout: 60_000,
        },
      );
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      assert.deepEqual(lines, [
        ['pk', 'id', '1', 'message_pkey'],
        ['fk', 'location', 'id', 'location_id', 'message_location_id_fkey'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('pg_table_def and svv_table_info report the design, also after a restart', async () => {
    const check = async (): Promise<void> => {
      const def = await psql(
        `SET search_path TO sensor; SELECT "column", encoding, distkey, sortkey FROM pg_table_def WHERE tablename = 'message'`,
      );
      assert.match(def, /^\s*id\s*\|\s*az64\s*\|\s*f\s*\|\s*0$/m);
      assert.match(def, /^\s*guid\s*\|\s*zstd\s*\|\s*t\s*\|\s*0$/m);
      assert.match(def, /^\s*ts\s*\|\s*none\s*\|\s*f\s*\|\s*1$/m);
      assert.match(def, /^\s*location_id\s*\|\s*none\s*\|\s*f\s*\|\s*2$/m);
      const info = await psql(
        `SELECT "table", diststyle, sortkey1, sortkey_num, encoded FROM svv_table_info WHERE "schema" = 'sensor' ORDER BY 1`,
      );
      assert.match(info, /^\s*message\s*\|\s*KEY\(guid\)\s*\|\s*ts\s*\|\s*2\s*\|\s*Y$/m);
    };
    await check();
    const dataDir = sluice.dataDir;
    await sluice.stop();
    sluice = await startSluice({ dataDir });
    env = { ...process.env, PGPASSWORD: sluice.password, PGCONNECT_TIMEOUT: '10' };
    await check();
  });
});
