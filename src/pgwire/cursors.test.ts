import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueryResult } from '../warehouse/index.ts';
import { CursorError, CursorSet, parseCursorCommand } from './cursors.ts';

const result: QueryResult = {
  command: 'SELECT',
  columns: [{ name: 'n', type: 'integer' }],
  rows: [[1], [2], [3], [4], [5]],
  rowCount: 5,
};

test('DECLARE, FETCH, MOVE and CLOSE as psycopg2 and psql write them', () => {
  assert.deepEqual(parseCursorCommand('DECLARE "c" CURSOR WITHOUT HOLD FOR SELECT 1'), {
    kind: 'declare',
    name: 'c',
    hold: false,
    query: 'SELECT 1',
    queryOffset: 'DECLARE "c" CURSOR WITHOUT HOLD FOR '.length,
  });
  const held = parseCursorCommand('declare Big no scroll cursor with hold for select * from t;');
  assert.equal(
    held?.kind === 'declare' && `${held.name} ${String(held.hold)} ${held.query}`,
    'big true select * from t',
  );
  assert.deepEqual(parseCursorCommand('FETCH FORWARD 2000 FROM "c"'), {
    kind: 'fetch',
    name: 'c',
    direction: { kind: 'forward', count: 2000 },
  });
  assert.deepEqual(parseCursorCommand('FETCH c'), {
    kind: 'fetch',
    name: 'c',
    direction: { kind: 'forward', count: 1 },
  });
  assert.deepEqual(parseCursorCommand('fetch all in c'), {
    kind: 'fetch',
    name: 'c',
    direction: { kind: 'forward', count: Infinity },
  });
  assert.deepEqual(parseCursorCommand('MOVE ABSOLUTE 0 FROM "c"'), {
    kind: 'move',
    name: 'c',
    direction: { kind: 'absolute', count: 0 },
  });
  assert.deepEqual(parseCursorCommand('FETCH -2 FROM c'), {
    kind: 'fetch',
    name: 'c',
    direction: { kind: 'backward', count: 2 },
  });
  assert.deepEqual(parseCursorCommand('CLOSE "C"'), { kind: 'close', name: 'C' });
  assert.deepEqual(parseCursorCommand('CLOSE ALL'), { kind: 'close', name: undefined });
  assert.equal(parseCursorCommand('SELECT 1'), undefined);
  assert.equal(parseCursorCommand('CLOSE'), undefined);
  assert.throws(() => parseCursorCommand('FETCH FORWARD lots FROM c'), CursorError);
});

test('FETCH returns the rows it moves over; the position stops before the first and after the last row', () => {
  const cursors = new CursorSet();
  cursors.declare('c', result, false);
  const fetch = (sql: string): unknown[] => {
    const command = parseCursorCommand(sql);
    assert.ok(command && (command.kind === 'fetch' || command.kind === 'move'));
    const r = cursors.move(command.kind, command.name, command.direction);
    return command.kind === 'fetch' ? r.rows.map((row) => row[0]) : [r.command, r.rowCount];
  };
  assert.deepEqual(fetch('FETCH 2 FROM c'), [1, 2]);
  assert.deepEqual(fetch('FETCH NEXT FROM c'), [3]);
  assert.deepEqual(fetch('FETCH PRIOR FROM c'), [2]);
  assert.deepEqual(fetch('MOVE FORWARD 10 IN c'), ['MOVE', 3]);
  assert.deepEqual(fetch('FETCH c'), []);
  assert.deepEqual(fetch('FETCH BACKWARD ALL FROM c'), [5, 4, 3, 2, 1]);
  assert.deepEqual(fetch('FETCH LAST FROM c'), [5]);
  assert.deepEqual(fetch('FETCH ABSOLUTE 2 FROM c'), [2]);
  assert.deepEqual(fetch('FETCH RELATIVE 0 FROM c'), [2]);
  assert.deepEqual(fetch('FETCH ABSOLUTE -2 FROM c'), [4]);
  assert.deepEqual(fetch('MOVE ABSOLUTE 0 FROM c'), ['MOVE', 0]);
  assert.deepEqual(fetch('FETCH ALL FROM c'), [1, 2, 3, 4, 5]);
});

test('a cursor WITHOUT HOLD closes with its transaction; WITH HOLD stays until CLOSE', () => {
  const cursors = new CursorSet();
  cursors.declare('plain', result, false);
  cursors.declare('held', result, true);
  assert.throws(() => cursors.declare('held', result, true), { sqlstate: '42P03' });
  cursors.endTransaction();
  assert.equal(cursors.has('plain'), false);
  assert.equal(cursors.has('held'), true);
  assert.throws(() => cursors.move('fetch', 'plain', { kind: 'forward', count: 1 }), { sqlstate: '34000' });
  cursors.close('held');
  assert.throws(() => cursors.close('held'), { sqlstate: '34000' });
  cursors.declare('a', result, true);
  cursors.close(undefined);
  assert.equal(cursors.has('a'), false);
});
