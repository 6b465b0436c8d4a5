/**
 * The Redshift constructs the warehouse supports, as a table: each row gives the Redshift
 * input, what runs on DuckDB, and (where it makes sense) the rows a follow-up query returns.
 * dialect.test.ts walks the rows in order, in one session, against a real DuckDB; a row
 * with `sqlstate` must fail with it (0A000 for what is not supported).
 *
 * @see https://docs.aws.amazon.com/redshift/latest/dg/c_SQL_commands.html
 */

/** One supported (or deliberately refused) construct. */
export interface DialectCase {
  /** What the row shows. */
  readonly title: string;
  /** The Redshift statement. */
  readonly redshift: string;
  /** What runs on DuckDB (dialect.describePlan). */
  readonly duckdb?: string;
  /** A Redshift query run after the statement; its rows must equal `rows`. */
  readonly check?: string;
  /** Expected rows of `check`, or of the statement itself when there is no check. */
  readonly rows?: readonly (readonly unknown[])[];
  /** The statement must fail with this SQLSTATE. */
  readonly sqlstate?: string;
}

/** The table, in the order the test runs it (later rows use what earlier rows created). */
export const DIALECT_CASES: readonly DialectCase[] = [
  {
    title: 'CREATE SCHEMA IF NOT EXISTS',
    redshift: 'CREATE SCHEMA IF NOT EXISTS sensor',
    duckdb: 'CREATE SCHEMA IF NOT EXISTS "sensor"',
    check: "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'sensor'",
    rows: [[1]],
  },
  {
    title: 'CREATE SCHEMA with AUTHORIZATION and QUOTA (accepted, dropped)',
    redshift: 'CREATE SCHEMA analytics AUTHORIZATION awsuser QUOTA UNLIMITED',
    duckdb: 'CREATE SCHEMA "analytics"',
  },
  {
    title: 'the scenario streaming table: IDENTITY, DISTKEY SORTKEY, the now default',
    redshift:
      "CREATE TABLE IF NOT EXISTS sensor.message (id BIGINT IDENTITY(1,1), guid VARCHAR(36) NOT NULL, ts BIGINT NOT NULL DISTKEY SORTKEY, temp NUMERIC(5,2) NOT NULL, created TIMESTAMP DEFAULT ('now'::text)::timestamp with time zone)",
    duckdb:
      'CREATE OR REPLACE SEQUENCE "sensor"."message_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1;\n' +
      'CREATE TABLE IF NOT EXISTS "sensor"."message" ("id" BIGINT DEFAULT nextval(\'"sensor"."message_id_seq"\'), "guid" VARCHAR NOT NULL, "ts" BIGINT NOT NULL, "temp" DECIMAL(5,2) NOT NULL, "created" TIMESTAMP DEFAULT (now())::timestamp with time zone)',
    check:
      "INSERT INTO sensor.message (guid, ts, temp) VALUES ('a', 1700000000, 71.53), ('b', 1700000001, 65.5); SELECT id, guid, temp, created IS NOT NULL FROM sensor.message ORDER BY id",
    rows: [
      [1, 'a', '71.53', true],
      [2, 'b', '65.50', true],
    ],
  },
  {
    title: 'the scenario dimension: location',
    redshift:
      'CREATE TABLE IF NOT EXISTS sensor.location (id INTEGER, long NUMERIC(10,7), lat NUMERIC(10,7), description VARCHAR(256))',
    duckdb:
      'CREATE TABLE IF NOT EXISTS "sensor"."location" ("id" INTEGER, "long" DECIMAL(10,7), "lat" DECIMAL(10,7), "description" VARCHAR)',
  },
  {
    title: 'the scenario dimension: history',
    redshift:
      'CREATE TABLE IF NOT EXISTS sensor.history (id INTEGER, serviced BIGINT, action VARCHAR(20), technician_id INTEGER, notes VARCHAR(256))',
    duckdb:
      'CREATE TABLE IF NOT EXISTS "sensor"."history" ("id" INTEGER, "serviced" BIGINT, "action" VARCHAR, "technician_id" INTEGER, "notes" VARCHAR)',
  },
  {
    title: 'the scenario dimension: sensor, with DEFAULT TRUE',
    redshift:
      'CREATE TABLE IF NOT EXISTS sensor.sensor (id INTEGER, guid VARCHAR(36), mac VARCHAR(18), sku VARCHAR(18), upc VARCHAR(12), active BOOLEAN DEFAULT TRUE, notes VARCHAR(256))',
    duckdb:
      'CREATE TABLE IF NOT EXISTS "sensor"."sensor" ("id" INTEGER, "guid" VARCHAR, "mac" VARCHAR, "sku" VARCHAR, "upc" VARCHAR, "active" BOOLEAN DEFAULT TRUE, "notes" VARCHAR)',
    check: 'INSERT INTO sensor.sensor (id) VALUES (1); SELECT active FROM sensor.sensor',
    rows: [[true]],
  },
  {
    title: 'the scenario dimension: manufacturer',
    redshift:
      'CREATE TABLE IF NOT EXISTS sensor.manufacturer (id INTEGER, name VARCHAR(100), website VARCHAR(100), notes VARCHAR(256))',
    duckdb:
      'CREATE TABLE IF NOT EXISTS "sensor"."manufacturer" ("id" INTEGER, "name" VARCHAR, "website" VARCHAR, "notes" VARCHAR)',
  },
  {
    title: 'the scenario fact table: sensors',
    redshift:
      'CREATE TABLE IF NOT EXISTS sensor.sensors (id BIGINT IDENTITY(1,1), sensor_id INTEGER, manufacturer_id INTEGER, location_id INTEGER, history_id INTEGER, message_guid VARCHAR(36))',
    duckdb:
      'CREATE OR REPLACE SEQUENCE "sensor"."sensors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1;\n' +
      'CREATE TABLE IF NOT EXISTS "sensor"."sensors" ("id" BIGINT DEFAULT nextval(\'"sensor"."sensors_id_seq"\'), "sensor_id" INTEGER, "manufacturer_id" INTEGER, "location_id" INTEGER, "history_id" INTEGER, "message_guid" VARCHAR)',
  },
  {
    title: 'SET search_path TO a, b (per session)',
    redshift: 'SET search_path TO sensor, public',
    duckdb: 'SET search_path = \'dev."sensor",dev."public"\'',
    check: 'SELECT count(*) FROM message',
    rows: [[2]],
  },
  {
    title:
      'column ENCODE, informational PRIMARY KEY, DISTSTYLE KEY, DISTKEY(col), COMPOUND SORTKEY, BACKUP NO',
    redshift:
      'CREATE TABLE public.events (event_id INTEGER NOT NULL ENCODE az64, kind CHAR(4) ENCODE lzo, amount DECIMAL(12,2), PRIMARY KEY (event_id)) DISTSTYLE KEY DISTKEY (event_id) COMPOUND SORTKEY (event_id, kind) BACKUP NO',
    duckdb:
      'CREATE TABLE "public"."events" ("event_id" INTEGER NOT NULL, "kind" VARCHAR, "amount" DECIMAL(12,2))',
    check:
      "INSERT INTO public.events VALUES (1, 'a', 1.5), (1, 'b', 2); SELECT count(*), sum(amount) FROM public.events",
    rows: [[2, '3.50']],
  },
  {
    title:
      "GENERATED BY DEFAULT AS IDENTITY(seed, step); DEFAULT GETDATE(), SYSDATE, 'now'; DISTSTYLE EVEN; INTERLEAVED SORTKEY",
    redshift:
      "CREATE TABLE public.tickets (ticket_id BIGINT GENERATED BY DEFAULT AS IDENTITY(10, 5), title TEXT, opened TIMESTAMP DEFAULT GETDATE(), seen TIMESTAMP DEFAULT SYSDATE, touched TIMESTAMPTZ DEFAULT 'now') DISTSTYLE EVEN INTERLEAVED SORTKEY (ticket_id)",
    duckdb:
      'CREATE OR REPLACE SEQUENCE "public"."tickets_ticket_id_seq" INCREMENT BY 5 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 10;\n' +
      'CREATE TABLE "public"."tickets" ("ticket_id" BIGINT DEFAULT nextval(\'"public"."tickets_ticket_id_seq"\'), "title" VARCHAR, "opened" TIMESTAMP DEFAULT date_trunc(\'second\', timezone(\'UTC\', now())), "seen" TIMESTAMP DEFAULT timezone(\'UTC\', now()), "touched" TIMESTAMPTZ DEFAULT now())',
    check:
      "INSERT INTO public.tickets (title) VALUES ('x'), ('y'); SELECT ticket_id, opened <= seen, opened > '2020-01-01', touched IS NOT NULL FROM public.tickets ORDER BY 1",
    rows: [
      [10, true, true, true],
      [15, true, true, true],
    ],
  },
  {
    title: 'the Redshift column types',
    redshift:
      'CREATE TABLE public.typed (a SMALLINT, b INTEGER, c BIGINT, d BOOLEAN, e REAL, f DOUBLE PRECISION, g FLOAT8, h DATE, i TIMESTAMP, j TIMESTAMPTZ, k TEXT, l CHAR(3), m VARCHAR(MAX), n NUMERIC(38,10))',
    duckdb:
      'CREATE TABLE "public"."typed" ("a" SMALLINT, "b" INTEGER, "c" BIGINT, "d" BOOLEAN, "e" REAL, "f" DOUBLE, "g" DOUBLE, "h" DATE, "i" TIMESTAMP, "j" TIMESTAMPTZ, "k" VARCHAR, "l" VARCHAR, "m" VARCHAR, "n" DECIMAL(38,10))',
    check:
      "INSERT INTO public.typed VALUES (1, 2, 9007199254740993, true, 1.5, 2.25, 3.5, '2024-02-29', '2024-02-29 10:11:12.5', '2024-02-29 10:11:12+02', 'text', 'abc', 'max', 12345678901234567890.0123456789); SELECT * FROM public.typed",
    rows: [
      [
        1,
        2,
        '9007199254740993',
        true,
        1.5,
        2.25,
        3.5,
        '2024-02-29',
        '2024-02-29 10:11:12.5',
        '2024-02-29 08:11:12+00',
        'text',
        'abc',
        'max',
        '12345678901234567890.0123456789',
      ],
    ],
  },
  {
    title: 'GETDATE() (whole seconds) and SYSDATE in queries',
    redshift:
      "SELECT GETDATE() <= SYSDATE + interval '1 second', date_trunc('second', GETDATE()) = GETDATE()",
    duckdb:
      "SELECT date_trunc('second', timezone('UTC', now())) <= timezone('UTC', now()) + interval '1 second', date_trunc('second', date_trunc('second', timezone('UTC', now()))) = date_trunc('second', timezone('UTC', now()))",
    rows: [[true, true]],
  },
  {
    title: 'VERSION() names PostgreSQL, Redshift and Sluice',
    redshift:
      "SELECT version() LIKE 'PostgreSQL 15.0 %', version() LIKE '%Redshift%', version() LIKE '%Sluice%'",
    rows: [[true, true, true]],
  },
  {
    title: "'now' as a timestamp literal and in a comparison",
    redshift:
      "SELECT 'now'::timestamp > '2020-01-01'::timestamp, count(*) FROM message WHERE created <= 'now'",
    duckdb: "SELECT now()::timestamp > '2020-01-01'::timestamp, count(*) FROM message WHERE created <= now()",
    rows: [[true, 2]],
  },
  {
    title: 'integer division truncates, as in Redshift',
    redshift: 'SELECT 7 / 2, 7.0 / 2',
    duckdb: 'SELECT 7 / 2, 7.0 / 2',
    rows: [[3, 3.5]],
  },
  {
    title: 'INSERT ... SELECT passthrough',
    redshift:
      "INSERT INTO sensor.sensors (sensor_id, message_guid) SELECT 1, guid FROM sensor.message WHERE guid = 'a'",
    duckdb:
      "INSERT INTO sensor.sensors (sensor_id, message_guid) SELECT 1, guid FROM sensor.message WHERE guid = 'a'",
    check: 'SELECT id, sensor_id, message_guid FROM sensor.sensors',
    rows: [[1, 1, 'a']],
  },
  {
    title: 'UPDATE passthrough',
    redshift: 'UPDATE sensor.sensors SET location_id = 7 WHERE sensor_id = 1',
    duckdb: 'UPDATE sensor.sensors SET location_id = 7 WHERE sensor_id = 1',
    check: 'SELECT location_id FROM sensor.sensors',
    rows: [[7]],
  },
  {
    title: 'DELETE without FROM',
    redshift: 'DELETE public.tickets WHERE ticket_id = 10',
    duckdb: 'DELETE FROM public.tickets WHERE ticket_id = 10',
    check: 'SELECT ticket_id FROM public.tickets',
    rows: [[15]],
  },
  {
    title: 'TRUNCATE TABLE',
    redshift: 'TRUNCATE TABLE public.events',
    duckdb: 'TRUNCATE "public"."events"',
    check: 'SELECT count(*) FROM public.events',
    rows: [[0]],
  },
  {
    title: 'TRUNCATE without TABLE',
    redshift: 'TRUNCATE public.tickets',
    duckdb: 'TRUNCATE "public"."tickets"',
    check: 'SELECT count(*) FROM public.tickets',
    rows: [[0]],
  },
  {
    title: 'stl_load_errors is a table Sluice keeps',
    redshift: 'SELECT count(*) FROM stl_load_errors',
    duckdb: 'SELECT count(*) FROM _sluice.stl_load_errors',
    rows: [[0]],
  },
  {
    title: 'pg_catalog.stl_load_errors and stl_loaderror_detail',
    redshift:
      'SELECT count(*) FROM pg_catalog.stl_load_errors e JOIN stl_loaderror_detail d ON e.query = d.query',
    duckdb:
      'SELECT count(*) FROM _sluice.stl_load_errors e JOIN _sluice.stl_loaderror_detail d ON e.query = d.query',
    rows: [[0]],
  },
  {
    title: 'late-binding view (WITH NO SCHEMA BINDING dropped)',
    redshift:
      'CREATE VIEW sensor.latest AS SELECT guid, max(ts) AS ts FROM sensor.message GROUP BY guid WITH NO SCHEMA BINDING',
    duckdb: 'CREATE VIEW sensor.latest AS SELECT guid, max(ts) AS ts FROM sensor.message GROUP BY guid',
    check: 'SELECT guid, ts FROM sensor.latest ORDER BY guid',
    rows: [
      ['a', 1700000000],
      ['b', 1700000001],
    ],
  },
  {
    title: 'DROP TABLE IF EXISTS of several tables (one missing)',
    redshift: 'DROP TABLE IF EXISTS public.typed, public.nosuch',
    duckdb: 'DROP TABLE IF EXISTS "public"."typed";\nDROP TABLE IF EXISTS "public"."nosuch"',
    check: "SELECT count(*) FROM information_schema.tables WHERE table_name = 'typed'",
    rows: [[0]],
  },
  {
    title: 'DROP SCHEMA IF EXISTS ... CASCADE',
    redshift: 'DROP SCHEMA IF EXISTS analytics CASCADE',
    duckdb: 'DROP SCHEMA IF EXISTS "analytics" CASCADE',
    check: "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'analytics'",
    rows: [[0]],
  },
  {
    title: 'BEGIN / END',
    redshift: 'BEGIN',
    duckdb: 'BEGIN',
    check:
      "INSERT INTO public.tickets (title) VALUES ('in a transaction'); END; SELECT count(*) FROM public.tickets",
    rows: [[1]],
  },
  {
    title: 'ANALYZE and VACUUM are accepted (DuckDB maintains itself)',
    redshift: 'VACUUM DELETE ONLY sensor.message',
    duckdb: '-- VACUUM: nothing to do on DuckDB',
  },
  {
    title: 'CREATE EXTERNAL TABLE is not supported',
    redshift: "CREATE EXTERNAL TABLE spectrum.t (a int) LOCATION 's3://b/t/'",
    sqlstate: '0A000',
  },
  {
    title: 'CREATE EXTERNAL SCHEMA is not supported',
    redshift: "CREATE EXTERNAL SCHEMA spectrum FROM DATA CATALOG DATABASE 'db' IAM_ROLE default",
    sqlstate: '0A000',
  },
  {
    title: 'UNLOAD is not supported yet',
    redshift: "UNLOAD ('select 1') TO 's3://b/x' IAM_ROLE default",
    sqlstate: '0A000',
  },
  {
    title: 'CREATE LIBRARY is not supported',
    redshift: "CREATE LIBRARY f LANGUAGE plpythonu FROM 's3://b/f.zip'",
    sqlstate: '0A000',
  },
  {
    title: 'CREATE MATERIALIZED VIEW is not supported yet',
    redshift: 'CREATE MATERIALIZED VIEW mv AS SELECT 1',
    sqlstate: '0A000',
  },
  {
    title: 'GRANT arrives in a later stage',
    redshift: 'GRANT SELECT ON sensor.message TO bob',
    sqlstate: '0A000',
  },
  {
    title: 'COPY of Parquet is not supported',
    redshift: "COPY sensor.message FROM 's3://b/p/' IAM_ROLE default FORMAT AS PARQUET",
    sqlstate: '0A000',
  },
  {
    title: 'COPY with a JSONPaths file is not supported',
    redshift: "COPY sensor.message FROM 's3://b/p/' IAM_ROLE default JSON 's3://b/paths.json'",
    sqlstate: '0A000',
  },
  {
    title: 'COPY from DynamoDB is not supported',
    redshift: "COPY sensor.message FROM 'dynamodb://t' IAM_ROLE default READRATIO 50",
    sqlstate: '0A000',
  },
  { title: 'DuckDB-only statements are refused', redshift: "ATTACH '/etc/passwd' AS x", sqlstate: '0A000' },
  { title: 'PRAGMA is refused', redshift: 'PRAGMA database_list', sqlstate: '0A000' },
  {
    title: "Sluice's metadata can be read but not changed",
    redshift: 'DELETE FROM _sluice.load_ledger',
    sqlstate: '42501',
  },
  {
    title: 'a SUPER column is not supported yet',
    redshift: 'CREATE TABLE public.docs (d SUPER)',
    sqlstate: '0A000',
  },
];
