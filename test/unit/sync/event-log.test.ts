// The engine's event log lines: a deletion pause logs when the held count of a source changes, not on
// every pass that finds it still held, and again after an approval; idle runs stay below info.
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/log';
import { createEventLogger } from '../../../src/sync/event-log';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, events: createEventLogger(createLogger('info', sink)) };
}

const at = '2026-01-01T00:00:00.000Z';
const held = (sourceId: string, pending: number) => ({ type: 'deletions-held' as const, sourceId, pending, at });

test('a deletion pause logs once per held count and source, and again after an approval', () => {
  const { lines, events } = capture();
  events.log(held('okta', 3));
  events.log(held('okta', 3));
  events.log(held('entra', 3));
  events.log(held('okta', 5));
  events.approved(5);
  events.log(held('okta', 5));
  expect(lines.map((l) => [l.msg, l.sourceId ?? l.approved, l.pending])).toEqual([
    ['deprovisioning paused by the deletion threshold; approve with approve-deletions', 'okta', 3],
    ['deprovisioning paused by the deletion threshold; approve with approve-deletions', 'entra', 3],
    ['deprovisioning paused by the deletion threshold; approve with approve-deletions', 'okta', 5],
    ['held deprovisions approved', 5, undefined],
    ['deprovisioning paused by the deletion threshold; approve with approve-deletions', 'okta', 5],
  ]);
});

test('a run that did nothing is not logged at info; a busy one is, without startedAt', () => {
  const { lines, events } = capture();
  const idle = {
    startedAt: at,
    durationMs: 1,
    passes: 0,
    applied: 0,
    created: 0,
    matched: 0,
    failed: 0,
    retried: 0,
    deprovisioned: 0,
    writes: 0,
    requests: 0,
    throttled: 0,
    blocked: null,
    queueDepth: 0,
  };
  events.log({ type: 'run', summary: idle, at });
  events.log({ type: 'run', summary: { ...idle, created: 2, requests: 4, writes: 2 }, at });
  expect(lines).toEqual([
    expect.objectContaining({ level: 'info', msg: 'sync run', created: 2, requests: 4, writes: 2, durationMs: 1, passes: 0, queueDepth: 0 }),
  ]);
  expect(lines[0]).not.toHaveProperty('startedAt');
});
