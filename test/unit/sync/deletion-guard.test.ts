import { manualClock } from '../../../src/sync/clock';
import { createDeletionGuard } from '../../../src/sync/deletion-guard';

const ids = (n: number, p = 'u') => Array.from({ length: n }, (_, i) => `${p}${i}`);

describe('deletion guard', () => {
  it('lets through up to the threshold from one source within an hour', () => {
    const clock = manualClock(0);
    const g = createDeletionGuard({ threshold: 3, clock });
    expect(g.decide('okta', ids(3))).toEqual({ allowed: ids(3), held: [] });
    ids(3).forEach((id) => g.record('okta', id));
    expect(g.decide('okta', ['u9'])).toEqual({ allowed: [], held: ['u9'] });
    expect(g.held()).toEqual([{ sourceId: 'okta', pending: 1, recent: 3 }]);
    expect(g.decide('entra', ['e1'])).toEqual({ allowed: ['e1'], held: [] });
  });

  it('holds a mass delete until an operator approves it', () => {
    const clock = manualClock(0);
    const g = createDeletionGuard({ threshold: 3, clock });
    expect(g.decide('okta', ids(4))).toEqual({ allowed: [], held: ids(4) });
    expect(g.approve()).toEqual(ids(4));
    expect(g.decide('okta', ids(4))).toEqual({ allowed: ids(4), held: [] });
    ids(4).forEach((id) => g.record('okta', id));
    expect(g.held()).toEqual([]);
  });

  it('forgets deprovisions older than the hour', async () => {
    const clock = manualClock(0);
    const g = createDeletionGuard({ threshold: 2, clock });
    ids(2).forEach((id) => g.record('okta', id));
    expect(g.decide('okta', ['x']).held).toEqual(['x']);
    await clock.advance(60 * 60 * 1000);
    expect(g.decide('okta', ['x'])).toEqual({ allowed: ['x'], held: [] });
  });
});
