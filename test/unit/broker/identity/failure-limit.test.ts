// Failed authentications per address: the 11th attempt within 10 minutes is refused until the
// window passes; attempts still being checked count, so parallel guesses cannot slip through.
import { createFailureLimit } from '../../../../broker/identity/failure-limit.js';

describe('the failed authentication limit', () => {
  it('refuses an address after 10 failures in 10 minutes, until the oldest leaves the window', () => {
    let clock = 0;
    const limit = createFailureLimit({ now: () => clock });
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
    const limit = createFailureLimit({ maxAddresses: 2, maxFailures: 1, now: () => 0 });
    limit.failed('a');
    limit.failed('b');
    limit.failed('a');
    limit.failed('c');
    expect(['a', 'b', 'c'].map((ip) => limit.retryAfterSeconds(ip) !== undefined)).toEqual([true, false, true]);
    expect(limit.counters()).toMatchObject({ addresses: 2, forgotten: 1 });
  });

  it('counts attempts still being checked, so 10 admitted at once leave no room for an 11th', () => {
    const limit = createFailureLimit({ now: () => 0 });
    const inFlight = Array.from({ length: 10 }, () => limit.admit('10.0.0.1'));
    expect(inFlight.every((a) => 'failed' in a)).toBe(true);
    expect(limit.admit('10.0.0.1')).toEqual({ retryAfterSeconds: 1 });
    // a success frees its slot without clearing the failures; failures fill the window
    (inFlight[0] as { succeeded(): void }).succeeded();
    expect('failed' in limit.admit('10.0.0.2')).toBe(true);
    for (const a of inFlight.slice(1)) (a as { failed(): void }).failed();
    const next = limit.admit('10.0.0.1');
    expect('failed' in next).toBe(true);
    (next as { failed(): void }).failed();
    expect(limit.admit('10.0.0.1')).toEqual({ retryAfterSeconds: 600 });
    expect(limit.counters()).toMatchObject({ failures: 10, refused: 2 });
  });

  it('settles an attempt once: a second failed() after succeeded() records nothing', () => {
    const limit = createFailureLimit({ maxFailures: 1, now: () => 0 });
    const a = limit.admit('x') as { failed(): void; succeeded(): void };
    a.succeeded();
    a.failed();
    expect(limit.counters().failures).toBe(0);
    expect('failed' in limit.admit('x')).toBe(true);
  });
});
