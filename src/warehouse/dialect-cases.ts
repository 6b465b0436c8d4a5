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
  /** PostgreSQL 15 accepts the statement as written and returns the same `rows`. */
  readonly postgres?: true;
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
    title: 'pg_table_def reports the declared DISTKEY, compound SORTKEY positions and ENCODE',
    redshift: `SELECT "column", encoding, distkey, sortkey FROM pg_table_def WHERE tablename = 'events'`,
    rows: [
      ['event_id', 'az64', true, 1],
      ['kind', 'lzo', false, 2],
      ['amount', 'az64', false, 0],
    ],
  },
  {
    title: 'svv_table_info reports DISTSTYLE EVEN and the INTERLEAVED SORTKEY',
    redshift: `SELECT diststyle, sortkey1, sortkey_num, encoded FROM svv_table_info WHERE "table" = 'tickets'`,
    rows: [['EVEN', 'ticket_id', 1, 'Y, AUTO(ENCODE)']],
  },
  {
    title: 'pg_table_def gives an INTERLEAVED SORTKEY column a negative position',
    redshift: `SELECT "column", sortkey FROM pg_table_def WHERE tablename = 'tickets' AND sortkey <> 0`,
    rows: [['ticket_id', -1]],
  },
  {
    title: 'the informational PRIMARY KEY is in pg_constraint, though the duplicate id loaded',
    redshift: `SELECT conname, contype, conkey, pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE conrelid = 'public.events'::regclass`,
    rows: [['events_pkey', 'p', '{1}', 'PRIMARY KEY (event_id)']],
  },
  {
    title: 'ALTER TABLE ... ALTER DISTSTYLE, ALTER SORTKEY (recorded)',
    redshift: 'ALTER TABLE public.events ALTER SORTKEY (kind)',
    duckdb: '-- ALTER TABLE "public"."events": sortkey recorded in the warehouse\'s metadata',
    check: `ALTER TABLE public.events ALTER DISTSTYLE EVEN; SELECT "column", distkey, sortkey FROM pg_table_def WHERE tablename = 'events'`,
    rows: [
      ['event_id', false, 0],
      ['kind', false, 1],
      ['amount', false, 0],
    ],
  },
  {
    title: 'ALTER TABLE ... ALTER COLUMN ... ENCODE (recorded)',
    redshift: 'ALTER TABLE public.events ALTER COLUMN amount ENCODE zstd',
    check: `SELECT encoding FROM pg_table_def WHERE tablename = 'events' AND "column" = 'amount'`,
    rows: [['zstd']],
  },
  {
    title: 'ALTER TABLE ... RENAME COLUMN: the sort key and the key follow the column',
    redshift: 'ALTER TABLE public.events RENAME COLUMN event_id TO id',
    duckdb:
      'ALTER TABLE "public"."events" RENAME COLUMN "event_id" TO "id";\n-- and the column\'s recorded design follows it',
    check: `SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE conrelid = 'public.events'::regclass`,
    rows: [['PRIMARY KEY (id)']],
  },
  {
    title: 'ALTER TABLE ... ADD CONSTRAINT UNIQUE is recorded, not enforced',
    redshift: 'ALTER TABLE public.events ADD CONSTRAINT events_kind UNIQUE (kind)',
    check: `SELECT conname, contype FROM pg_constraint WHERE conrelid = 'public.events'::regclass ORDER BY 1`,
    rows: [
      ['events_kind', 'u'],
      ['events_pkey', 'p'],
    ],
  },
  {
    title: 'ALTER TABLE ... ADD COLUMN with NOT NULL, DEFAULT and ENCODE keeps the declared type',
    redshift: "ALTER TABLE public.events ADD COLUMN note VARCHAR(20) NOT NULL DEFAULT '-' ENCODE zstd",
    duckdb:
      'ALTER TABLE "public"."events" ADD COLUMN "note" VARCHAR DEFAULT \'-\';\n' +
      'ALTER TABLE "public"."events" ALTER COLUMN "note" SET NOT NULL;\n' +
      "-- and the column's declared type and encoding are recorded",
    check: `SELECT type, encoding, "notnull" FROM pg_table_def WHERE tablename = 'events' AND "column" = 'note'`,
    rows: [['character varying(20)', 'zstd', true]],
  },
  {
    title: 'an unknown ENCODE is refused',
    redshift: 'CREATE TABLE public.badenc (a INT ENCODE snappy)',
    sqlstate: '42704',
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
    title: 'pg_catalog.version() is the same banner (SQLAlchemy reads the version from it)',
    redshift: "SELECT pg_catalog.version() LIKE 'PostgreSQL 15.0 %'",
    rows: [[true]],
  },
  {
    title: 'SHOW TRANSACTION ISOLATION LEVEL (pgjdbc getTransactionIsolation)',
    redshift: 'SHOW TRANSACTION ISOLATION LEVEL',
    rows: [['serializable']],
  },
  {
    title:
      'SET SESSION CHARACTERISTICS AS TRANSACTION (pgjdbc setReadOnly, setTransactionIsolation) is accepted',
    redshift: 'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE',
    check: "SELECT current_setting('transaction_isolation')",
    rows: [['serializable']],
  },
  {
    title: "'{...}'::text[] array literals (pgjdbc's keyword query) and arrays in PostgreSQL's text format",
    redshift: "SELECT 'b' <> ALL ('{a,\"c d\"}'::text[]), ARRAY[1, 2], ARRAY['x y', NULL]",
    rows: [[true, '{1,2}', '{"x y",NULL}']],
  },
  {
    title: "'x'::regclass shows the relation's name; compared, it is the oid",
    redshift:
      "SELECT 'message'::regclass, c.oid::regclass, c.oid = 'message'::regclass FROM pg_class c WHERE c.relname = 'message'",
    rows: [['message', 'message', true]],
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
    title: 'a table for the date and aggregate rows',
    redshift:
      'CREATE TABLE public.readings (guid VARCHAR(36), ts BIGINT, temp NUMERIC(5,2), note VARCHAR(20)) DISTSTYLE KEY DISTKEY (ts) SORTKEY (ts)',
    duckdb:
      'CREATE TABLE "public"."readings" ("guid" VARCHAR, "ts" BIGINT, "temp" DECIMAL(5,2), "note" VARCHAR)',
    check:
      "INSERT INTO public.readings VALUES ('s1', 1609459199, 70.00, 'x'), ('s1', 1609459260, 72.50, NULL), ('s2', 1609459200, 65.25, 'y'), ('s2', 1609462800, 66.75, NULL); SELECT count(*) FROM public.readings",
    rows: [[4]],
  },
  {
    title: 'DATEDIFF counts year boundaries crossed, with the date part bare or abbreviated',
    redshift:
      "SELECT DATEDIFF(year, '2020-12-31', '2021-01-01'), DATEDIFF(yrs, '2020-01-01', '2020-12-31'), datediff(y, '2021-01-01'::date, '2020-12-31'::date)",
    duckdb:
      "SELECT date_diff('year', CAST('2020-12-31' AS TIMESTAMP), CAST('2021-01-01' AS TIMESTAMP)), date_diff('year', CAST('2020-01-01' AS TIMESTAMP), CAST('2020-12-31' AS TIMESTAMP)), date_diff('year', '2021-01-01'::date, '2020-12-31'::date)",
    rows: [[1, 0, -1]],
  },
  {
    title: 'DATEDIFF(week) counts Monday boundaries (Sunday to Monday is one week)',
    redshift:
      "SELECT DATEDIFF(week, '2020-01-05', '2020-01-06'), DATEDIFF(w, '2020-01-06', '2020-01-12'), DATEDIFF('weeks', '2009-01-01', '2009-12-31')",
    duckdb:
      "SELECT date_diff('week', date_trunc('week', CAST('2020-01-05' AS TIMESTAMP)), date_trunc('week', CAST('2020-01-06' AS TIMESTAMP))), date_diff('week', date_trunc('week', CAST('2020-01-06' AS TIMESTAMP)), date_trunc('week', CAST('2020-01-12' AS TIMESTAMP))), date_diff('week', date_trunc('week', CAST('2009-01-01' AS TIMESTAMP)), date_trunc('week', CAST('2009-12-31' AS TIMESTAMP)))",
    rows: [[1, 0, 52]],
  },
  {
    title: 'DATEDIFF in quarters, months, days, hours, minutes, seconds and milliseconds',
    redshift:
      "SELECT DATEDIFF(qtr, '2020-03-31', '2020-04-01'), DATEDIFF(mons, '2020-01-31', '2020-02-01'), DATEDIFF(d, '2020-01-01 23:59', '2020-01-02 00:01'), DATEDIFF(hour, '2020-01-01 08:30', '2020-01-01 10:00'), DATEDIFF(mins, '2020-01-01 08:30:59', '2020-01-01 08:31:00'), DATEDIFF(seconds, '2020-01-01 00:00:00.9', '2020-01-01 00:00:01'), DATEDIFF(ms, '2020-01-01 00:00:00.001', '2020-01-01 00:00:01')",
    rows: [[1, 1, 1, 2, 1, 1, 999]],
  },
  {
    title: 'the scenario idiom: DATEDIFF over epoch seconds and GETDATE()',
    redshift:
      "SELECT guid, DATEDIFF(seconds, '1970-01-01'::date + ts * interval '1 second', '2021-01-01 00:01:00'), DATEDIFF(minute, TIMESTAMP 'epoch' + ts * INTERVAL '1 second', GETDATE()) > 0 FROM public.readings ORDER BY ts",
    duckdb:
      "SELECT guid, date_diff('second', '1970-01-01'::date + ts * interval '1 second', CAST('2021-01-01 00:01:00' AS TIMESTAMP)), date_diff('minute', TIMESTAMP 'epoch' + ts * INTERVAL '1 second', date_trunc('second', timezone('UTC', now()))) > 0 FROM public.readings ORDER BY ts",
    rows: [
      ['s1', 61, true],
      ['s2', 60, true],
      ['s1', 0, true],
      ['s2', -3540, true],
    ],
  },
  {
    title: 'epoch arithmetic on a BIGINT column: date + n * interval, TIMESTAMP epoch + interval * n',
    redshift:
      "SELECT '1970-01-01'::date + ts * interval '1 second', TIMESTAMP 'epoch' + interval '1 second' * ts, ts * interval '1 second' FROM public.readings WHERE guid = 's2' ORDER BY ts",
    duckdb:
      "SELECT '1970-01-01'::date + ts * interval '1 second', TIMESTAMP 'epoch' + interval '1 second' * ts, ts * interval '1 second' FROM public.readings WHERE guid = 's2' ORDER BY ts",
    rows: [
      ['2021-01-01 00:00:00', '2021-01-01 00:00:00', '447072:00:00'],
      ['2021-01-01 01:00:00', '2021-01-01 01:00:00', '447073:00:00'],
    ],
  },
  {
    title: 'epoch arithmetic on literals, as PostgreSQL computes it',
    redshift:
      "SELECT '1970-01-01'::date + 1609459200 * interval '1 second', TIMESTAMP 'epoch' + 1609462800::bigint * INTERVAL '1 second', 86400::bigint * interval '1 second', interval '1 second' * 90061",
    rows: [['2021-01-01 00:00:00', '2021-01-01 01:00:00', '24:00:00', '25:01:01']],
    postgres: true,
  },
  {
    title: 'DATEADD with every kind of date part; month ends clamp',
    redshift:
      "SELECT DATEADD(month, 1, '2008-01-31'), DATEADD(d, -1, '2020-03-01'::date), DATEADD(hrs, 2, '2020-01-01'), DATEADD(s, 90, TIMESTAMP '2020-01-01 00:00:00'), DATEADD(week, 1, '2020-01-01'), DATEADD('qtr', 1, '2020-01-01'), DATEADD(day, 1, 'now') > GETDATE()",
    duckdb:
      "SELECT date_add(CAST('2008-01-31' AS TIMESTAMP), to_months(1)), date_add('2020-03-01'::date, to_days(-1)), date_add(CAST('2020-01-01' AS TIMESTAMP), to_hours(2)), date_add(TIMESTAMP '2020-01-01 00:00:00', to_seconds(90)), date_add(CAST('2020-01-01' AS TIMESTAMP), to_weeks(1)), date_add(CAST('2020-01-01' AS TIMESTAMP), to_quarters(1)), date_add(CAST(now() AS TIMESTAMP), to_days(1)) > date_trunc('second', timezone('UTC', now()))",
    rows: [
      [
        '2008-02-29 00:00:00',
        '2020-02-29 00:00:00',
        '2020-01-01 02:00:00',
        '2020-01-01 00:01:30',
        '2020-01-08 00:00:00',
        '2020-04-01 00:00:00',
        true,
      ],
    ],
  },
  {
    title: 'DATE_TRUNC with Redshift spellings of the date part',
    redshift:
      "SELECT DATE_TRUNC('qtr', '2020-05-17 10:00'), date_trunc('w', '2020-01-08'::date), date_trunc('hrs', TIMESTAMP '2020-01-01 10:59:59'), date_trunc('mon', '2020-05-17')",
    rows: [['2020-04-01 00:00:00', '2020-01-06 00:00:00', '2020-01-01 10:00:00', '2020-05-01 00:00:00']],
  },
  {
    title: 'DATE_PART and EXTRACT with bare, quoted and abbreviated date parts',
    redshift:
      "SELECT DATE_PART(dow, '2020-01-05'::date), date_part('doy', '2020-02-01'), DATE_PART(dayofweek, '2020-01-06'), EXTRACT(hrs FROM TIMESTAMP '2020-01-01 05:00'), EXTRACT('mins' FROM TIMESTAMP '2020-01-01 05:07'), EXTRACT(epoch FROM TIMESTAMP '2020-01-01'), EXTRACT(yr FROM '2020-01-01'::date), DATE_PART(epoch, TIMESTAMP '1970-01-02')",
    duckdb:
      "SELECT date_part('dow', '2020-01-05'::date), date_part('doy', CAST('2020-02-01' AS TIMESTAMP)), date_part('dow', CAST('2020-01-06' AS TIMESTAMP)), EXTRACT(hour FROM TIMESTAMP '2020-01-01 05:00'), EXTRACT(minute FROM TIMESTAMP '2020-01-01 05:07'), EXTRACT(epoch FROM TIMESTAMP '2020-01-01'), EXTRACT(year FROM '2020-01-01'::date), date_part('epoch', TIMESTAMP '1970-01-02')",
    rows: [[0, 32, 1, 5, 7, 1577836800, 2020, 86400]],
  },
  {
    title: 'an unknown date part fails naming it',
    redshift: "SELECT DATEDIFF(fortnight, '2020-01-01', '2020-02-01')",
    sqlstate: '0A000',
  },
  {
    title: 'NVL, NVL2, ISNULL and DECODE',
    redshift:
      "SELECT guid, NVL(note, 'none'), NVL2(note, 'has', 'lacks'), ISNULL(note, '-'), DECODE(guid, 's1', 'one', 's2', 'two', 'other'), DECODE(guid, 's9', 'nine') FROM public.readings ORDER BY ts",
    duckdb:
      "SELECT guid, coalesce(note, 'none'), CASE WHEN (note) IS NOT NULL THEN 'has' ELSE 'lacks' END, coalesce(note, '-'), CASE guid WHEN 's1' THEN 'one' WHEN 's2' THEN 'two' ELSE 'other' END, CASE guid WHEN 's9' THEN 'nine' END FROM public.readings ORDER BY ts",
    rows: [
      ['s1', 'x', 'has', 'x', 'one', null],
      ['s2', 'y', 'has', 'y', 'two', null],
      ['s1', 'none', 'lacks', '-', 'one', null],
      ['s2', 'none', 'lacks', '-', 'two', null],
    ],
  },
  {
    title: 'DECODE with a NULL search value matches NULL',
    redshift: "SELECT guid, DECODE(note, NULL, 'n/a', 'x', 'ex', note) FROM public.readings ORDER BY ts",
    duckdb:
      "SELECT guid, CASE WHEN (note) IS NULL THEN 'n/a' WHEN (note) = 'x' THEN 'ex' ELSE note END FROM public.readings ORDER BY ts",
    rows: [
      ['s1', 'ex'],
      ['s2', 'y'],
      ['s1', 'n/a'],
      ['s2', 'n/a'],
    ],
  },
  {
    title:
      'LISTAGG with a delimiter and WITHIN GROUP (ORDER BY), also DISTINCT; the default delimiter is empty',
    redshift:
      "SELECT LISTAGG(guid, ',') WITHIN GROUP (ORDER BY ts DESC), LISTAGG(DISTINCT guid, '|') WITHIN GROUP (ORDER BY guid), LISTAGG(temp) FROM public.readings WHERE ts < 1609462800",
    duckdb:
      "SELECT string_agg(CAST(guid AS VARCHAR), ',' ORDER BY ts DESC), string_agg(DISTINCT CAST(guid AS VARCHAR), '|' ORDER BY CAST(guid AS VARCHAR)), string_agg(CAST(temp AS VARCHAR), '') FROM public.readings WHERE ts < 1609462800",
    rows: [['s1,s2,s1', 's1|s2', '70.0072.5065.25']],
  },
  {
    title: 'LISTAGG ... WITHIN GROUP ... OVER (PARTITION BY) and MEDIAN as a window',
    redshift:
      "SELECT guid, LISTAGG(temp, ';') WITHIN GROUP (ORDER BY ts) OVER (PARTITION BY guid), MEDIAN(temp) OVER (PARTITION BY guid) FROM public.readings ORDER BY ts",
    rows: [
      ['s1', '70.00;72.50', '71.25'],
      ['s2', '65.25;66.75', '66.00'],
      ['s1', '70.00;72.50', '71.25'],
      ['s2', '65.25;66.75', '66.00'],
    ],
  },
  {
    title: 'MEDIAN, PERCENTILE_CONT / PERCENTILE_DISC WITHIN GROUP, APPROXIMATE COUNT(DISTINCT)',
    redshift:
      'SELECT MEDIAN(temp), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY temp), PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY temp DESC), APPROXIMATE COUNT(DISTINCT guid) FROM public.readings',
    duckdb:
      'SELECT MEDIAN(temp), quantile_cont(temp, 0.5), (-quantile_disc(-(temp), 0.25)), approx_count_distinct( guid) FROM public.readings',
    rows: [['68.37', '68.37', '72.50', 2]],
  },
  {
    title: 'PERCENTILE_CONT and PERCENTILE_DISC ascending and descending, as PostgreSQL computes them',
    redshift:
      'SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY x), PERCENTILE_DISC(0.25) WITHIN GROUP (ORDER BY x DESC), PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY x DESC), PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1), (2), (4), (10)) AS t(x)',
    duckdb:
      'SELECT quantile_cont(x, 0.5), (-quantile_disc(-(x), 0.25)), quantile_cont(x, 1 - (0.25)), quantile_disc(x, 0.5) FROM (VALUES (1), (2), (4), (10)) AS t(x)',
    rows: [[3, 10, 5.5, 2]],
    postgres: true,
  },
  {
    title: 'PERCENTILE_CONT ... WITHIN GROUP ... OVER (PARTITION BY) and MEDIAN per group',
    redshift:
      'SELECT DISTINCT guid, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY temp) OVER (PARTITION BY guid) FROM public.readings ORDER BY guid',
    rows: [
      ['s1', '71.25'],
      ['s2', '66.00'],
    ],
  },
  {
    title: 'CONVERT_TIMEZONE with two and three arguments',
    redshift:
      "SELECT CONVERT_TIMEZONE('America/New_York', '2020-01-01 12:00'), CONVERT_TIMEZONE('America/New_York', 'UTC', TIMESTAMP '2020-07-01 08:00')",
    duckdb:
      "SELECT timezone('America/New_York', timezone('UTC', CAST('2020-01-01 12:00' AS TIMESTAMP))), timezone('UTC', timezone('America/New_York', TIMESTAMP '2020-07-01 08:00'))",
    rows: [['2020-01-01 07:00:00', '2020-07-01 12:00:00']],
  },
  {
    title: 'TO_CHAR with datetime and numeric templates',
    redshift:
      "SELECT TO_CHAR(TIMESTAMP '2020-01-02 15:04:05.123', 'YYYY-MM-DD HH24:MI:SS'), TO_CHAR('2020-01-02'::date, 'Mon DD, YYYY'), TO_CHAR(TIMESTAMP '2020-01-02 15:04:05', 'Day FMDD Month HH12:MI AM'), TO_CHAR(TIMESTAMP '2020-01-02 03:04:05.123', 'YYYY\"T\"HH24:MI:SS.MS'), TO_CHAR(1234.5, '9999D99'), TO_CHAR(1234.5, 'FM9,999.00')",
    duckdb:
      "SELECT strftime(TIMESTAMP '2020-01-02 15:04:05.123', '%Y-%m-%d %H:%M:%S'), strftime('2020-01-02'::date, '%b %d, %Y'), (rpad(strftime(TIMESTAMP '2020-01-02 15:04:05', '%A'), 9, ' ') || strftime(TIMESTAMP '2020-01-02 15:04:05', ' %-d ') || rpad(strftime(TIMESTAMP '2020-01-02 15:04:05', '%B'), 9, ' ') || strftime(TIMESTAMP '2020-01-02 15:04:05', ' %I:%M %p')), strftime(TIMESTAMP '2020-01-02 03:04:05.123', '%YT%H:%M:%S.%g'), lpad(format('{:.2f}', CAST(1234.5 AS DOUBLE)), 8, ' '), format('{:,.2f}', CAST(1234.5 AS DOUBLE))",
    rows: [
      [
        '2020-01-02 15:04:05',
        'Jan 02, 2020',
        'Thursday  2 January   03:04 PM',
        '2020T03:04:05.123',
        ' 1234.50',
        '1,234.50',
      ],
    ],
    postgres: true,
  },
  {
    title: 'TO_CHAR with a template pattern strftime lacks fails naming it',
    redshift: "SELECT TO_CHAR('2020-01-02'::date, 'YYYY Q')",
    sqlstate: '0A000',
  },
  {
    title: 'TO_DATE and TO_TIMESTAMP with templates; TO_TIMESTAMP of epoch seconds',
    redshift:
      "SELECT TO_DATE('2020-01-02', 'YYYY-MM-DD'), TO_DATE('02 Jan 2020', 'DD Mon YYYY'), TO_TIMESTAMP('2020-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS'), TO_TIMESTAMP(1577836800)",
    rows: [['2020-01-02', '2020-01-02', '2020-01-02 03:04:05+00', '2020-01-01 00:00:00+00']],
    postgres: true,
  },
  {
    title: 'TO_CHAR names: DY, MON and lower-case numeric patterns',
    redshift: "SELECT TO_CHAR('2020-05-02'::date, 'DY MON dd FMMonth yyyy-mm-dd hh24:mi:ss am')",
    rows: [['SAT MAY 02 May 2020-05-02 00:00:00 am']],
    postgres: true,
  },
  {
    title: 'LEN, CHARINDEX, STRTOL and TIMEOFDAY()',
    redshift:
      "SELECT LEN('sensor'), CHARINDEX('so', 'sensor'), CHARINDEX('z', 'sensor'), STRTOL('ff', 16), STRTOL('-101', 2), STRTOL('0x1A', 16), TIMEOFDAY() LIKE '% UTC'",
    rows: [[6, 4, 0, 255, -5, 26, true]],
  },
  {
    title:
      'REGEXP_REPLACE replaces every match; REGEXP_SUBSTR, REGEXP_COUNT, BTRIM, REPLICATE, SPACE, CONVERT',
    redshift:
      "SELECT REGEXP_REPLACE('a-b-c', '-', '+'), REGEXP_SUBSTR('sensor-42x', '[0-9]+'), REGEXP_COUNT('a1b22c333', '[0-9]+'), BTRIM('  x  '), REPLICATE('ab', 2) || SPACE(1) || '|', CONVERT(integer, '12') + 1",
    duckdb:
      "SELECT regexp_replace('a-b-c', '-', '+', 'g'), regexp_extract('sensor-42x', '[0-9]+'), len(regexp_extract_all('a1b22c333', '[0-9]+')), trim('  x  '), repeat('ab', 2) || repeat(' ', 1) || '|', CAST('12' AS integer) + 1",
    rows: [['a+b+c', '42', 3, 'x', 'abab |', 13]],
  },
  {
    title: 'TRUNC of GETDATE(), SYSDATE or a timestamp is the date; TRUNC of a number stays numeric',
    redshift:
      "SELECT TRUNC(GETDATE()) = CURRENT_DATE, TRUNC(SYSDATE) = CURRENT_DATE, TRUNC(TIMESTAMP '2020-01-02 03:04:05'), TRUNC('2020-01-02 03:04:05'::timestamp), TRUNC(3.7)",
    duckdb:
      "SELECT CAST(date_trunc('second', timezone('UTC', now())) AS DATE) = CURRENT_DATE, CAST(timezone('UTC', now()) AS DATE) = CURRENT_DATE, CAST(TIMESTAMP '2020-01-02 03:04:05' AS DATE), CAST('2020-01-02 03:04:05'::timestamp AS DATE), TRUNC(3.7)",
    rows: [[true, true, '2020-01-02', '2020-01-02', '3']],
  },
  {
    title: 'lateral column aliases in the SELECT list (a FROM column of the same name wins)',
    redshift:
      'SELECT temp * 2 AS doubled, doubled + 1 AS plus, guid AS ts, ts AS original FROM public.readings ORDER BY original LIMIT 1',
    duckdb:
      'SELECT temp * 2 AS doubled, doubled + 1 AS plus, guid AS ts, ts AS original FROM public.readings ORDER BY original LIMIT 1',
    rows: [['140.00', '141.00', 's1', 1609459199]],
  },
  {
    title: 'lateral column aliases inside a subquery in FROM and in WHERE',
    redshift:
      "SELECT guid, latency FROM (SELECT guid, '1970-01-01'::date + ts * interval '1 second' AS sent, DATEDIFF(seconds, sent, '2021-01-01 01:00:00') AS latency FROM public.readings) AS r WHERE latency > 0 ORDER BY latency",
    rows: [
      ['s1', 3540],
      ['s2', 3600],
      ['s1', 3601],
    ],
  },
  {
    title: 'SET search_path with $user, quoted names and a missing schema',
    redshift: 'SET search_path TO $user, "Sensor", nosuch, public',
    duckdb: 'SET search_path = \'dev."sensor",dev."nosuch",dev."public"\'',
    check: 'SELECT count(*) FROM message; SHOW search_path',
    rows: [['$user, sensor, nosuch, public']],
  },
  {
    title: "SET search_path TO '$user', public",
    redshift: "SET search_path TO '$user', public",
    check: 'SELECT count(*) FROM readings',
    rows: [[4]],
  },
  {
    title: 'SET search_path back to sensor, public',
    redshift: "SET search_path = 'sensor, public'",
    check: 'SELECT count(*) FROM message',
    rows: [[2]],
  },
  {
    title: 'CREATE OR REPLACE VIEW with ORDER BY and lateral aliases',
    redshift:
      "CREATE OR REPLACE VIEW public.reading_times AS SELECT guid, TIMESTAMP 'epoch' + ts * INTERVAL '1 second' AS sent, DATEDIFF(minute, sent, '2021-01-01 02:00') AS age FROM public.readings ORDER BY sent",
    check: 'SELECT guid, sent, age FROM public.reading_times',
    rows: [
      ['s1', '2020-12-31 23:59:59', 121],
      ['s2', '2021-01-01 00:00:00', 120],
      ['s1', '2021-01-01 00:01:00', 119],
      ['s2', '2021-01-01 01:00:00', 60],
    ],
  },
  {
    title: 'the scenario latency view: epoch arithmetic, a lateral alias, DATEDIFF(seconds, ...), ORDER BY',
    redshift:
      "CREATE OR REPLACE VIEW sensor.message_latency AS SELECT guid, '1970-01-01'::date + ts * interval '1 second' AS ts_time, created, DATEDIFF(seconds, ts_time, created) AS latency FROM sensor.message ORDER BY latency DESC",
    duckdb:
      "CREATE OR REPLACE VIEW sensor.message_latency AS SELECT guid, '1970-01-01'::date + ts * interval '1 second' AS ts_time, created, date_diff('second', ts_time, created) AS latency FROM sensor.message ORDER BY latency DESC",
    check:
      'SELECT guid, ts_time, latency > 0 FROM sensor.message_latency WHERE DATEDIFF(minute, ts_time, GETDATE()) > 30 ORDER BY guid',
    rows: [
      ['a', '2023-11-14 22:13:20', true],
      ['b', '2023-11-14 22:13:21', true],
    ],
  },
  {
    title: 'a view on a table that keeps receiving rows shows the new rows',
    redshift: "INSERT INTO public.readings VALUES ('s3', 1609466400, 80.00, NULL)",
    check: 'SELECT count(*), max(sent) FROM public.reading_times',
    rows: [[5, '2021-01-01 02:00:00']],
  },
  {
    title: 'CREATE OR REPLACE VIEW replaces, WITH NO SCHEMA BINDING',
    redshift:
      'CREATE OR REPLACE VIEW public.reading_times AS SELECT guid FROM public.readings WITH NO SCHEMA BINDING',
    duckdb: 'CREATE OR REPLACE VIEW public.reading_times AS SELECT guid FROM public.readings',
    check: 'SELECT count(*) FROM public.reading_times',
    rows: [[5]],
  },
  {
    title: 'DROP VIEW IF EXISTS, twice',
    redshift: 'DROP VIEW IF EXISTS public.reading_times',
    duckdb: 'DROP VIEW IF EXISTS "public"."reading_times"',
    check:
      "DROP VIEW IF EXISTS public.reading_times; SELECT count(*) FROM information_schema.tables WHERE table_name = 'reading_times'",
    rows: [[0]],
  },
  {
    title: 'CREATE TABLE ... AS SELECT with table attributes',
    redshift:
      'CREATE TABLE public.hot BACKUP NO DISTSTYLE EVEN SORTKEY (ts) AS SELECT guid, ts, temp FROM public.readings WHERE temp > 70',
    duckdb: 'CREATE TABLE "public"."hot" AS SELECT guid, ts, temp FROM public.readings WHERE temp > 70',
    check: 'SELECT guid, temp FROM public.hot ORDER BY ts',
    rows: [
      ['s1', '72.50'],
      ['s3', '80.00'],
    ],
  },
  {
    title: 'CREATE TABLE (column names) ... AS SELECT renames the columns',
    redshift:
      'CREATE TABLE public.hot_names (who, reading) DISTKEY (who) AS SELECT guid, temp FROM public.readings WHERE temp > 70 ORDER BY guid',
    duckdb:
      'CREATE TABLE "public"."hot_names" AS SELECT * FROM (SELECT guid, temp FROM public.readings WHERE temp > 70 ORDER BY guid) AS ctas("who", "reading")',
    check: 'SELECT who, reading FROM public.hot_names ORDER BY who',
    rows: [
      ['s1', '72.50'],
      ['s3', '80.00'],
    ],
  },
  {
    title: 'SELECT ... INTO a new table',
    redshift:
      "SELECT guid, NVL(note, '-') AS note INTO public.notes FROM public.readings WHERE ts < 1609459300",
    duckdb:
      'CREATE TABLE "public"."notes" AS SELECT guid, coalesce(note, \'-\') AS note  FROM public.readings WHERE ts < 1609459300',
    check: 'SELECT guid, note FROM public.notes ORDER BY note',
    rows: [
      ['s1', '-'],
      ['s1', 'x'],
      ['s2', 'y'],
    ],
  },
  {
    title: 'CREATE TEMP TABLE ... AS and CREATE TEMPORARY TABLE with DISTKEY / SORTKEY / ENCODE',
    redshift:
      'CREATE TEMPORARY TABLE scratch (a INT ENCODE raw DISTKEY, b VARCHAR(10) SORTKEY ENCODE zstd) DISTSTYLE ALL BACKUP YES',
    duckdb: 'CREATE TEMP TABLE "scratch" ("a" INTEGER, "b" VARCHAR)',
    check:
      "INSERT INTO scratch VALUES (1, 'x'); CREATE TEMP TABLE t2 AS SELECT a + 1 AS a FROM scratch; SELECT a FROM t2",
    rows: [[2]],
  },
  {
    title: 'DISTSTYLE AUTO, SORTKEY AUTO, ENCODE AUTO and BACKUP YES in any order',
    redshift:
      'CREATE TABLE public.autos (a BIGINT SORTKEY DISTKEY ENCODE delta, b VARCHAR(5) ENCODE bytedict NOT NULL) ENCODE AUTO SORTKEY AUTO BACKUP YES DISTSTYLE AUTO',
    duckdb: 'CREATE TABLE "public"."autos" ("a" BIGINT, "b" VARCHAR NOT NULL)',
    check: "INSERT INTO public.autos VALUES (1, 'x'); SELECT a, b FROM public.autos",
    rows: [[1, 'x']],
  },
  {
    title: 'CREATE TABLE (LIKE parent) keeps NOT NULL, not the defaults',
    redshift: 'CREATE TABLE public.message_copy (LIKE sensor.message)',
    duckdb: '-- the columns of "sensor"."message", then\nCREATE TABLE "public"."message_copy" (...)',
    check:
      "INSERT INTO public.message_copy (guid, ts, temp) VALUES ('z', 1, 1.5); SELECT id, guid, temp, created FROM public.message_copy",
    rows: [[null, 'z', '1.50', null]],
  },
  {
    title: 'CREATE TABLE (LIKE parent INCLUDING DEFAULTS)',
    redshift: 'CREATE TABLE public.sensor_copy (LIKE sensor.sensor INCLUDING DEFAULTS) DISTSTYLE EVEN',
    check: 'INSERT INTO public.sensor_copy (id) VALUES (5); SELECT id, active FROM public.sensor_copy',
    rows: [[5, true]],
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
    title: 'UNLOAD with ENCRYPTED is not supported',
    redshift: "UNLOAD ('select 1') TO 's3://b/x' IAM_ROLE default ENCRYPTED",
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
    title: 'GRANT to a user that does not exist',
    redshift: 'GRANT SELECT ON sensor.message TO nosuchuser',
    sqlstate: '42704',
  },
  {
    title: 'AVG of integers is a truncated BIGINT, of DECIMAL(p,s) a DECIMAL(38,s), of DOUBLE a DOUBLE',
    redshift:
      'CREATE TABLE public.sales_avg (qtysold SMALLINT, pricepaid NUMERIC(8,2), ratio DOUBLE PRECISION, seller BIGINT)',
    check:
      'INSERT INTO public.sales_avg VALUES (1, 100.00, 0.5, -1), (2, 107.05, 0.25, -2), (2, 115.73, 0.75, NULL); ' +
      'SELECT avg(qtysold), avg(pricepaid), avg(ratio), avg(seller), AVG(DISTINCT qtysold), avg(qtysold * 2) FROM public.sales_avg',
    rows: [[1, '107.59', 0.5, -1, 1, 3]],
  },
  {
    title: 'AVG as a window function keeps its type, over a named or written-out window',
    redshift:
      'SELECT qtysold, avg(pricepaid) OVER (PARTITION BY qtysold), avg(qtysold) OVER w FROM public.sales_avg WINDOW w AS (ORDER BY pricepaid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY pricepaid',
    duckdb:
      'SELECT qtysold, cast_to_type(sum(pricepaid) OVER (PARTITION BY qtysold) // count(pricepaid) OVER (PARTITION BY qtysold), (min(pricepaid) OVER (PARTITION BY qtysold) + count(pricepaid) OVER (PARTITION BY qtysold)) * count(pricepaid) OVER (PARTITION BY qtysold)), ' +
      'cast_to_type(sum(qtysold) OVER w // count(qtysold) OVER w, (min(qtysold) OVER w + count(qtysold) OVER w) * count(qtysold) OVER w) FROM public.sales_avg WINDOW w AS (ORDER BY pricepaid ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY pricepaid',
    rows: [
      [1, '100.00', 1],
      [2, '111.39', 1],
      [2, '111.39', 2],
    ],
  },
  {
    title: 'AVG of nothing is NULL',
    redshift: 'SELECT avg(qtysold), avg(pricepaid) FROM public.sales_avg WHERE qtysold > 5',
    rows: [[null, null]],
  },
  {
    title: "a bare NUMERIC or DECIMAL cast is Redshift's NUMERIC(18,0), rounding to whole numbers",
    redshift:
      "SELECT 1.5::numeric, CAST(2.4 AS DECIMAL), '12345678901234567'::numeric, CONVERT(numeric, 7.5), 1.25::numeric(5,1), CAST(-2.5 AS numeric)",
    duckdb:
      "SELECT 1.5::DECIMAL(18,0), CAST(2.4 AS DECIMAL(18,0)), '12345678901234567'::DECIMAL(18,0), CAST(7.5 AS DECIMAL(18,0)), 1.25::numeric(5,1), CAST(-2.5 AS DECIMAL(18,0))",
    rows: [['2', '2', '12345678901234567', '8', '1.3', '-3']],
  },
  {
    title: 'a number too wide for the bare NUMERIC(18,0) is numeric field overflow',
    redshift: 'SELECT 12345678901234567890::numeric',
    sqlstate: '22003',
  },
  {
    title: 'a bare NUMERIC column is NUMERIC(18,0), as in a cast',
    redshift: 'CREATE TABLE public.bare_numeric (n NUMERIC, d DECIMAL)',
    duckdb: 'CREATE TABLE "public"."bare_numeric" ("n" DECIMAL(18,0), "d" DECIMAL(18,0))',
    check:
      'INSERT INTO public.bare_numeric VALUES (2.5, 123456789012345678); SELECT n, d FROM public.bare_numeric',
    rows: [['3', '123456789012345678']],
  },
  {
    title: 'COPY of Avro is not supported',
    redshift: "COPY sensor.message FROM 's3://b/p/' IAM_ROLE default FORMAT AS AVRO 'auto'",
    sqlstate: '0A000',
  },
  {
    title: "COPY JSON 'noshred' is not supported",
    redshift: "COPY sensor.message FROM 's3://b/p/' IAM_ROLE default JSON 'noshred'",
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
