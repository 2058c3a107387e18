// Failed sign-ins per address: the 11th attempt within 10 minutes is refused until the window passes.
import { createSignInLimit } from '../../../../broker/identity/sign-in-limit.js';

describe('the failed sign-in limit', () => {
  it('refuses an address after 10 failures in 10 minutes, until the oldest leaves the window', () => {
    let clock = 0;
    const limit = createSignInLimit({ now: () => clock });
    for (let i = 0; i < 10; i++) {
      expect(limit.retryAfterSeconds('10.0.0.1')).toBeUndefined();
      limit.failed('10.0.0.1');
      clock += 1000;
    }
    expect(limit.retryAfterSeconds('10.0.0.1')).toBe(590);
    expect(limit.retryAfterSeconds('10.0.0.2')).toBeUndefined();
    clock = 600_000;
    expect(limit.retryAfterSeconds('10.0.0.1')).toBeUndefined();
    expect(limit.counters()).toMatchObject({ failures: 10, refused: 1 });
  });

  it('remembers a bounded number of addresses, forgetting the least recently failed', () => {
    const limit = createSignInLimit({ maxAddresses: 2, maxFailures: 1, now: () => 0 });
    limit.failed('a');
    limit.failed('b');
    limit.failed('a');
    limit.failed('c');
    expect(['a', 'b', 'c'].map((ip) => limit.retryAfterSeconds(ip) !== undefined)).toEqual([true, false, true]);
    expect(limit.counters()).toMatchObject({ addresses: 2, forgotten: 1 });
  });
});
