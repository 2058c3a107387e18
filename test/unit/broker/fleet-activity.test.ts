import { createFleetActivity } from '../../../broker/fleet-activity.js';

function clock(start = 1_000_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('fleet activity', () => {
  it('tells when a client connected, was last seen and how many publishes it got accepted', () => {
    const c = clock();
    const fleet = createFleetActivity({ now: c.now });
    const conn = {};
    fleet.connected('d1', conn);
    const since = c.now();
    c.advance(500);
    fleet.published('d1');
    fleet.published('d1');
    expect(fleet.snapshot()).toEqual([{ clientId: 'd1', connected: true, connectedSince: since, lastSeen: since + 500, messages: 2, messagesPerMinute: 2 }]);
    c.advance(1000);
    fleet.disconnected('d1', conn);
    expect(fleet.snapshot()[0]).toEqual({ clientId: 'd1', connected: false, lastSeen: since + 1500, messages: 2, messagesPerMinute: 2 });
    expect(fleet.counters()).toMatchObject({ tracked: 1, connected: 0 });
  });

  it('estimates the rate over the last 60 seconds, forgetting older publishes', () => {
    const c = clock(60_000 * 1000); // at a minute boundary
    const fleet = createFleetActivity({ now: c.now });
    fleet.connected('d1', {});
    for (let i = 0; i < 60; i++) {
      fleet.published('d1');
      c.advance(1000); // one a second
    }
    // a steady 60 per minute reads as about 60
    expect(fleet.snapshot()[0].messagesPerMinute).toBeGreaterThanOrEqual(59);
    expect(fleet.snapshot()[0].messagesPerMinute).toBeLessThanOrEqual(61);
    c.advance(30_000);
    expect(fleet.snapshot()[0].messagesPerMinute).toBe(30); // half of the previous minute still in the window
    c.advance(60_000);
    expect(fleet.snapshot()[0]).toMatchObject({ messagesPerMinute: 0, messages: 60 });
  });

  it('ignores the disconnect of a connection another one with the same client id replaced', () => {
    const fleet = createFleetActivity();
    const first = {};
    const second = {};
    fleet.connected('d1', first);
    fleet.connected('d1', second);
    fleet.disconnected('d1', first);
    expect(fleet.snapshot()[0].connected).toBe(true);
    expect(fleet.counters().connected).toBe(1);
    fleet.disconnected('d1', second);
    expect(fleet.snapshot()[0].connected).toBe(false);
    expect(fleet.counters().connected).toBe(0);
  });

  it('remembers at most maxClients, forgetting the client disconnected the longest, and counts it', () => {
    const c = clock();
    const fleet = createFleetActivity({ maxClients: 2, now: c.now });
    const a = {};
    const b = {};
    fleet.connected('a', a);
    fleet.connected('b', b);
    fleet.disconnected('b', b);
    c.advance(10);
    fleet.disconnected('a', a);
    fleet.connected('c', {}); // b has been disconnected the longest
    expect(fleet.snapshot().map((x) => x.clientId).sort()).toEqual(['a', 'c']);
    fleet.connected('a', {});
    fleet.connected('d', {}); // everybody remembered is connected: d is not tracked
    expect(fleet.snapshot().map((x) => x.clientId).sort()).toEqual(['a', 'c']);
    fleet.published('d'); // harmless
    expect(fleet.counters()).toEqual({ tracked: 2, connected: 2, evicted: 1, untracked: 1 });
  });
});
