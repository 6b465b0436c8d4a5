import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlError, type Warehouse, type WarehouseSession } from './index.ts';
import { openTestWarehouse } from './test-support.ts';
import { md5PasswordHash } from './users.ts';

function denied(message: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof SqlError, `expected SqlError, got ${String(e)}`);
    assert.equal(e.sqlstate, '42501', e.message);
    assert.match(e.message, message);
    return true;
  };
}

describe('users and grants', () => {
  let warehouse: Warehouse;
  let admin: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
    admin = await warehouse.openSession('awsuser');
    await admin.execute(`
      CREATE SCHEMA sensor;
      CREATE TABLE sensor.message (id INTEGER, temp NUMERIC(5,2));
      CREATE TABLE sensor.secret (id INTEGER);
      INSERT INTO sensor.message VALUES (1, 70.5), (2, 71.25);
      CREATE USER analyst PASSWORD 'Analyst1pass';
    `);
  });
  after(async () => cleanup());

  test('CREATE USER stores a password that signs in, and the md5 hash PostgreSQL expects', async () => {
    assert.equal(await warehouse.authenticate('analyst', 'Analyst1pass'), true);
    assert.equal(await warehouse.authenticate('analyst', 'wrong'), false);
    const secrets = await warehouse.getPasswordSecrets('analyst');
    assert.equal(secrets?.md5, md5PasswordHash('Analyst1pass', 'analyst'));
    assert.ok(secrets?.scram);
  });

  test('a read-only analyst reads what was granted and cannot write', async () => {
    const analyst = await warehouse.openSession('analyst');
    try {
      await assert.rejects(
        analyst.execute('SELECT count(*) FROM sensor.message'),
        denied(/permission denied for schema sensor/),
      );
      await admin.execute('GRANT USAGE ON SCHEMA sensor TO analyst');
      await assert.rejects(
        analyst.execute('SELECT count(*) FROM sensor.message'),
        denied(/permission denied for relation message/),
      );
      await admin.execute(
        'GRANT SELECT ON ALL TABLES IN SCHEMA sensor TO analyst; REVOKE SELECT ON sensor.secret FROM analyst',
      );
      const [r] = await analyst.execute('SELECT count(*) AS n, current_user AS u FROM sensor.message');
      assert.deepEqual(r?.rows, [[2, 'analyst']]);
      await assert.rejects(analyst.execute('SELECT * FROM sensor.secret'), denied(/relation secret/));
      await assert.rejects(
        analyst.execute('INSERT INTO sensor.message VALUES (3, 1)'),
        denied(/relation message/),
      );
      await assert.rejects(analyst.execute('UPDATE sensor.message SET temp = 0'), denied(/relation message/));
      await assert.rejects(analyst.execute('DELETE FROM sensor.message'), denied(/relation message/));
      await assert.rejects(analyst.execute('TRUNCATE sensor.message'), denied(/relation message/));
      await assert.rejects(analyst.execute('DROP TABLE sensor.message'), denied(/relation message/));
      await assert.rejects(analyst.execute('CREATE TABLE sensor.mine (id INT)'), denied(/schema sensor/));
      await assert.rejects(analyst.execute("CREATE USER other PASSWORD 'Other1pass'"), denied(/superuser/));
      await assert.rejects(
        analyst.execute("COPY sensor.message FROM 's3://b/p' IAM_ROLE 'arn:aws:iam::1:role/r' CSV"),
        denied(/relation message/),
      );
      // Tables of one's own in public are the owner's to use.
      await analyst.execute(
        'CREATE TABLE scratch (id INT); INSERT INTO scratch VALUES (1); DROP TABLE scratch',
      );
      const [rows] = await admin.execute('SELECT count(*) FROM sensor.message');
      assert.deepEqual(rows?.rows, [[2]]);
    } finally {
      await analyst.close();
    }
  });

  test('a group grant reaches its members; PUBLIC reaches everyone', async () => {
    await admin.execute(`
      CREATE USER g1 PASSWORD 'Group1pass';
      CREATE GROUP readers WITH USER g1;
      GRANT USAGE ON SCHEMA sensor TO GROUP readers;
      GRANT SELECT ON sensor.secret TO GROUP readers;
    `);
    const g1 = await warehouse.openSession('g1');
    try {
      await g1.execute('SELECT * FROM sensor.secret');
      await assert.rejects(g1.execute('SELECT * FROM sensor.message'), denied(/relation message/));
      await admin.execute('GRANT SELECT ON TABLE sensor.message TO PUBLIC');
      await g1.execute('SELECT * FROM sensor.message');
    } finally {
      await g1.close();
    }
  });

  test('ALTER USER changes the password; DROP USER IF EXISTS on a missing user is a notice', async () => {
    await admin.execute("ALTER USER analyst PASSWORD 'Changed1pass'");
    assert.equal(await warehouse.authenticate('analyst', 'Analyst1pass'), false);
    assert.equal(await warehouse.authenticate('analyst', 'Changed1pass'), true);
    const [r] = await admin.execute('DROP USER IF EXISTS nobody');
    assert.deepEqual(r?.notices, ['user "nobody" does not exist, skipping']);
    await assert.rejects(
      admin.execute('DROP USER nobody'),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '42704',
    );
    await admin.execute(
      "CREATE USER legacy PASSWORD 'md5" + md5PasswordHash('Legacy1pass', 'legacy').slice(3) + "'",
    );
    assert.equal(await warehouse.authenticate('legacy', 'Legacy1pass'), true);
    await admin.execute('ALTER USER legacy PASSWORD DISABLE');
    assert.equal(await warehouse.authenticate('legacy', 'Legacy1pass'), false);
  });
});

describe('result column names', () => {
  let warehouse: Warehouse;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
  });
  after(async () => cleanup());

  test('function calls and SQL value functions are named as PostgreSQL names them', async () => {
    const s = await warehouse.openSession('awsuser');
    const [r] = await s.execute(
      'SELECT version(), current_user, session_user, user, current_database(), now()::date, 1 + 1, version() AS v',
    );
    await s.close();
    assert.deepEqual(
      r?.columns.map((c) => c.name),
      ['version', 'current_user', 'session_user', 'user', 'current_database', 'now', '?column?', 'v'],
    );
    assert.match(String(r?.rows[0]?.[0]), /^PostgreSQL .*Redshift.*Sluice/);
    assert.equal(r?.rows[0]?.[1], 'awsuser');
  });
});

describe('user statements', () => {
  let warehouse: Warehouse;
  let admin: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
    admin = await warehouse.openSession('awsuser');
  });
  after(async () => cleanup());

  test("PASSWORD 'sha256|clear' sets the clear password; the digest form is 0A000", async () => {
    await admin.execute("CREATE USER shauser PASSWORD 'sha256|Sha256pass1'");
    assert.equal(await warehouse.authenticate('shauser', 'Sha256pass1'), true);
    await assert.rejects(
      admin.execute("CREATE USER other PASSWORD 'sha256|abcd|salt'"),
      (e: unknown) => e instanceof SqlError && e.sqlstate === '0A000',
    );
  });

  test('users change their own password but no one else’s; CREATEUSER makes a superuser', async () => {
    await admin.execute("CREATE USER pat PASSWORD 'Pat1pass'; CREATE USER sam PASSWORD 'Sam1pass'");
    const pat = await warehouse.openSession('pat');
    try {
      await pat.execute("ALTER USER pat PASSWORD 'Pat2pass'");
      assert.equal(await warehouse.authenticate('pat', 'Pat2pass'), true);
      await assert.rejects(pat.execute("ALTER USER sam PASSWORD 'x'"), denied(/superuser/));
      await assert.rejects(pat.execute('ALTER USER pat CREATEUSER'), denied(/superuser/));
    } finally {
      await pat.close();
    }
    await admin.execute('ALTER USER sam CREATEUSER');
    assert.equal((await warehouse.getPasswordSecrets('sam'))?.superuser, true);
    const sam = await warehouse.openSession('sam');
    await sam.execute("CREATE USER made_by_sam PASSWORD 'Made1pass'");
    await sam.close();
  });

  test('REVOKE CREATE ON SCHEMA public FROM PUBLIC stops users creating tables there', async () => {
    await admin.execute("CREATE USER lockedout PASSWORD 'Locked1pass'");
    const u = await warehouse.openSession('lockedout');
    try {
      await u.execute('CREATE TABLE before_revoke (id INT); DROP TABLE before_revoke');
      await admin.execute('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
      await assert.rejects(u.execute('CREATE TABLE after_revoke (id INT)'), denied(/schema public/));
      await u.execute('CREATE TEMP TABLE scratch (id INT)');
      await admin.execute('GRANT CREATE ON SCHEMA public TO PUBLIC');
      await u.execute('CREATE TABLE after_grant (id INT)');
    } finally {
      await u.close();
    }
  });

  test('ALTER USER RENAME TO keeps the password (SCRAM), grants and ownership under the new name', async () => {
    await admin.execute(`
      CREATE USER oldname PASSWORD 'Rename1pass';
      CREATE TABLE renamed_t (id INT);
      GRANT SELECT ON renamed_t TO oldname;
    `);
    const [r] = await admin.execute('ALTER USER oldname RENAME TO newname');
    assert.deepEqual(r?.notices, ['MD5 password cleared because of user rename']);
    assert.equal(await warehouse.getPasswordSecrets('oldname'), undefined);
    const secrets = await warehouse.getPasswordSecrets('newname');
    assert.ok(secrets?.scram);
    assert.equal(secrets.md5, undefined);
    assert.equal(await warehouse.authenticate('newname', 'Rename1pass'), true);
    const s = await warehouse.openSession('newname');
    try {
      await s.execute('SELECT * FROM renamed_t');
      await assert.rejects(s.execute('ALTER USER newname RENAME TO other'), denied(/superuser/));
    } finally {
      await s.close();
    }
  });

  test('a user who owns a table cannot be dropped until the table is', async () => {
    await admin.execute("CREATE USER owner1 PASSWORD 'Owner1pass'");
    const o = await warehouse.openSession('owner1');
    await o.execute('CREATE TABLE owned (id INT)');
    await o.close();
    await assert.rejects(admin.execute('DROP USER owner1'), (e: unknown) => {
      assert.ok(e instanceof SqlError);
      assert.equal(e.sqlstate, '2BP01');
      return true;
    });
    await admin.execute('DROP TABLE owned; DROP USER owner1');
    assert.equal(await warehouse.getPasswordSecrets('owner1'), undefined);
  });
});

describe('what a statement reads', () => {
  let warehouse: Warehouse;
  let admin: WarehouseSession;
  let reader: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
    admin = await warehouse.openSession('awsuser');
    await admin.execute(`
      CREATE SCHEMA s;
      CREATE TABLE s.open (id INTEGER, v INTEGER);
      CREATE TABLE s.secret (id INTEGER, pin VARCHAR(4));
      INSERT INTO s.open VALUES (1, 0); INSERT INTO s.secret VALUES (1, '1234');
      CREATE USER peeker PASSWORD 'Peeker1pass';
      GRANT USAGE ON SCHEMA s TO peeker;
      GRANT SELECT, INSERT, UPDATE, DELETE ON s.open TO peeker;
    `);
    reader = await warehouse.openSession('peeker');
  });
  after(async () => {
    await reader.close();
    await cleanup();
  });

  for (const sql of [
    'SELECT * FROM s.open JOIN s.secret USING (id)',
    'SELECT * FROM s.open WHERE id IN (SELECT id FROM s.secret)',
    'WITH x AS (SELECT * FROM s.secret) SELECT * FROM x',
    'SELECT (SELECT max(pin) FROM s.secret)',
    "SELECT * FROM query_table('s.secret')",
    'SELECT * FROM s.open, LATERAL (SELECT pin FROM s.secret WHERE secret.id = open.id) l',
    'UPDATE s.open SET v = (SELECT count(*) FROM s.secret)',
    'DELETE FROM s.open WHERE id IN (SELECT id FROM s.secret)',
    'UPDATE s.open SET v = 1 FROM s.secret WHERE s.secret.id = s.open.id',
    'INSERT INTO s.open VALUES ((SELECT 1 FROM s.secret), 2)',
  ])
    test(`reading the secret table through: ${sql}`, async () => {
      await assert.rejects(reader.execute(sql), denied(/relation secret/));
    });

  test('the granted table alone is readable and writable', async () => {
    await reader.execute('SELECT * FROM s.open JOIN s.open o2 USING (id)');
    await reader.execute('UPDATE s.open SET v = v + 1 WHERE id = 1');
    await reader.execute('DELETE FROM s.open WHERE id = 99');
    await reader.execute('INSERT INTO s.open (id, v) SELECT id + 10, v FROM s.open');
  });
});

describe('reading through views', () => {
  let warehouse: Warehouse;
  let admin: WarehouseSession;
  let analyst: WarehouseSession;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ warehouse, cleanup } = await openTestWarehouse());
    admin = await warehouse.openSession('awsuser');
    await admin.execute(`
      CREATE SCHEMA sensor;
      CREATE SCHEMA hidden;
      CREATE TABLE sensor.message (id INTEGER, temp NUMERIC(5,2));
      INSERT INTO sensor.message VALUES (1, 70.5), (2, 71.25);
      CREATE TABLE public.message (id INTEGER);
      CREATE VIEW sensor.hot AS SELECT id, temp FROM sensor.message WHERE temp > 71;
      CREATE VIEW sensor.hot_ids AS SELECT id FROM sensor.hot;
      CREATE VIEW hidden.all_messages AS SELECT * FROM sensor.message;
      CREATE USER analyst PASSWORD 'Analyst1pass';
      CREATE USER maker PASSWORD 'Maker1pass';
      GRANT USAGE ON SCHEMA sensor TO analyst;
      GRANT SELECT ON sensor.hot TO analyst;
      GRANT SELECT ON hidden.all_messages TO analyst;
    `);
    analyst = await warehouse.openSession('analyst');
  });
  after(async () => {
    await analyst.close();
    await cleanup();
  });

  test('SELECT on a view is enough to read it; its base table stays closed', async () => {
    const [r] = await analyst.execute('SELECT id, temp FROM sensor.hot');
    assert.deepEqual(r?.rows, [[2, '71.25']]);
    const [n] = await analyst.execute('SELECT count(*) FROM sensor.hot h JOIN sensor.hot USING (id)');
    assert.deepEqual(n?.rows, [[1]]);
    await analyst.execute('EXPLAIN SELECT * FROM sensor.hot');
    await analyst.execute("SELECT * FROM query_table('sensor.hot')");
    await assert.rejects(analyst.execute('EXPLAIN SELECT * FROM sensor.message'), denied(/relation message/));
    for (const sql of [
      'SELECT * FROM sensor.message',
      'SELECT * FROM sensor.hot JOIN sensor.message USING (id)',
      'SELECT * FROM sensor.hot WHERE id IN (SELECT id FROM sensor.message)',
      "SELECT * FROM query_table('sensor.message')",
      'WITH hot AS (SELECT * FROM sensor.message) SELECT * FROM hot',
    ])
      await assert.rejects(analyst.execute(sql), denied(/relation message/), sql);
  });

  test('a view over a view needs SELECT on the outer view only', async () => {
    await assert.rejects(analyst.execute('SELECT * FROM sensor.hot_ids'), denied(/relation hot_ids/));
    await admin.execute(
      'GRANT SELECT ON sensor.hot_ids TO analyst; REVOKE SELECT ON sensor.hot FROM analyst',
    );
    try {
      const [r] = await analyst.execute('SELECT id FROM sensor.hot_ids');
      assert.deepEqual(r?.rows, [[2]]);
      await assert.rejects(analyst.execute('SELECT * FROM sensor.hot'), denied(/relation hot/));
    } finally {
      await admin.execute(
        'GRANT SELECT ON sensor.hot TO analyst; REVOKE SELECT ON sensor.hot_ids FROM analyst',
      );
    }
  });

  test('REVOKE on the view takes effect at once', async () => {
    await admin.execute('REVOKE SELECT ON sensor.hot FROM analyst');
    try {
      await assert.rejects(analyst.execute('SELECT * FROM sensor.hot'), denied(/relation hot/));
    } finally {
      await admin.execute('GRANT SELECT ON sensor.hot TO analyst');
    }
    await analyst.execute('SELECT * FROM sensor.hot');
  });

  test("a view in a schema without USAGE stays closed, whatever the view's grant", async () => {
    await assert.rejects(analyst.execute('SELECT * FROM hidden.all_messages'), denied(/schema hidden/));
    await admin.execute('GRANT USAGE ON SCHEMA hidden TO analyst');
    try {
      const [r] = await analyst.execute('SELECT count(*) FROM hidden.all_messages');
      assert.deepEqual(r?.rows, [[2]]);
    } finally {
      await admin.execute('REVOKE USAGE ON SCHEMA hidden FROM analyst');
    }
  });

  test("what a view reads is checked against its owner's privileges", async () => {
    await admin.execute(`
      GRANT USAGE, CREATE ON SCHEMA sensor TO maker;
      GRANT SELECT ON sensor.message, sensor.hot TO maker;
    `);
    const maker = await warehouse.openSession('maker');
    try {
      await maker.execute(`
        CREATE VIEW sensor.maker_view AS SELECT id FROM sensor.message;
        CREATE VIEW sensor.maker_hot AS SELECT id FROM sensor.hot;
        GRANT SELECT ON sensor.maker_view, sensor.maker_hot TO analyst;
      `);
      const [r] = await analyst.execute('SELECT count(*) FROM sensor.maker_view');
      assert.deepEqual(r?.rows, [[2]]);
      await analyst.execute('SELECT * FROM sensor.maker_hot');
      // Once maker may not read sensor.hot, neither may anyone through maker's view of it,
      // though sensor.hot's own owner may still read sensor.message.
      await admin.execute('REVOKE SELECT ON sensor.hot FROM maker');
      await assert.rejects(analyst.execute('SELECT * FROM sensor.maker_hot'), denied(/relation hot/));
      await analyst.execute('SELECT * FROM sensor.hot');
      await admin.execute('REVOKE SELECT ON sensor.message FROM maker');
      await assert.rejects(analyst.execute('SELECT * FROM sensor.maker_view'), denied(/relation message/));
      await assert.rejects(maker.execute('SELECT * FROM sensor.maker_view'), denied(/relation message/));
      await admin.execute('GRANT SELECT ON sensor.message TO maker');
      await analyst.execute('SELECT * FROM sensor.maker_view');
      // A view dropped and made again starts over: no grants, its new creator's.
      await maker.execute('DROP VIEW sensor.maker_view');
      await admin.execute('CREATE VIEW sensor.maker_view AS SELECT id FROM sensor.message');
      await assert.rejects(analyst.execute('SELECT * FROM sensor.maker_view'), denied(/relation maker_view/));
      await assert.rejects(maker.execute('DROP VIEW sensor.maker_view'), denied(/relation maker_view/));
    } finally {
      await maker.close();
    }
  });

  test('views with column lists and quoted names are followed; a cycle of views ends in an error', async () => {
    await admin.execute(`
      CREATE VIEW sensor."Hot List" (ident, reading) AS SELECT id, temp FROM sensor.hot;
      GRANT SELECT ON sensor."Hot List" TO analyst;
      CREATE VIEW sensor.loop_a AS SELECT 1 AS x;
      CREATE VIEW sensor.loop_b AS SELECT * FROM sensor.loop_a;
      CREATE OR REPLACE VIEW sensor.loop_a AS SELECT * FROM sensor.loop_b;
      GRANT SELECT ON sensor.loop_a TO analyst;
    `);
    const [r] = await analyst.execute('SELECT ident FROM sensor."Hot List"');
    assert.deepEqual(r?.rows, [[2]]);
    await assert.rejects(analyst.execute('SELECT * FROM sensor.loop_a'), (e: unknown) => {
      assert.ok(e instanceof SqlError);
      assert.match(e.message, /recursi/);
      return true;
    });
  });

  test('temporary views are refused, as Redshift has none', async () => {
    for (const session of [analyst, admin])
      await assert.rejects(
        session.execute('CREATE TEMP VIEW peek AS SELECT * FROM sensor.message'),
        (e: unknown) => {
          assert.ok(e instanceof SqlError);
          assert.equal(e.sqlstate, '0A000');
          return true;
        },
      );
    await assert.rejects(
      analyst.execute('CREATE TEMP TABLE peek AS SELECT * FROM sensor.message'),
      denied(/relation message/),
    );
    await analyst.execute('CREATE TEMP TABLE mine AS SELECT id FROM sensor.hot');
    const [r] = await analyst.execute('SELECT * FROM mine');
    assert.deepEqual(r?.rows, [[2]]);
  });

  test('a CTE named like a table reads no table', async () => {
    const [r] = await analyst.execute('WITH message AS (SELECT 7 AS id) SELECT id FROM message');
    assert.deepEqual(r?.rows, [[7]]);
    await assert.rejects(
      analyst.execute('WITH message AS (SELECT * FROM message) SELECT * FROM message'),
      denied(/relation message/),
    );
    await assert.rejects(
      analyst.execute('SELECT * FROM (WITH message AS (SELECT 7 AS id) SELECT id FROM message) a, message'),
      denied(/relation message/),
    );
  });

  test('writes read views with the same rules', async () => {
    await analyst.execute('CREATE TABLE scratch (id INTEGER)');
    await analyst.execute('INSERT INTO scratch SELECT id FROM sensor.hot');
    await analyst.execute('UPDATE scratch SET id = (SELECT max(id) FROM sensor.hot)');
    await assert.rejects(
      analyst.execute('INSERT INTO scratch SELECT id FROM sensor.hot_ids'),
      denied(/relation hot_ids/),
    );
    await assert.rejects(
      analyst.execute('DELETE FROM scratch WHERE id IN (SELECT id FROM sensor.message)'),
      denied(/relation message/),
    );
    const [r] = await analyst.execute('SELECT id FROM scratch');
    assert.deepEqual(r?.rows, [[2]]);
  });

  test("DuckDB's file readers are for superusers", async () => {
    for (const [sql, what] of [
      ["SELECT * FROM read_csv('/etc/passwd')", /function read_csv/],
      ["SELECT * FROM glob('*')", /function glob/],
      ["SELECT * FROM query('SELECT * FROM sensor.message')", /function query/],
      ["SELECT * FROM 'data.parquet'", /relation data.parquet/],
      ["UPDATE scratch SET id = (SELECT count(*) FROM glob('*'))", /function glob/],
      ["DELETE FROM scratch WHERE id IN (SELECT 1 FROM read_parquet('x.parquet'))", /function read_parquet/],
    ] as const)
      await assert.rejects(analyst.execute(sql), denied(what), sql);
  });
});
