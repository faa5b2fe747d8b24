import { type ConcurrencyLeases, heldLease } from '../../lambdas/adapters/aws/concurrency-leases';

/** Leases counted in memory: how many are held now, and how many writes taking and giving back cost. */
const countedLeases = () => {
  const counts = { held: 0, taken: 0, givenBack: 0 };
  const leases: ConcurrencyLeases = {
    async acquire() {
      counts.held += 1;
      counts.taken += 1;
      let given = false;
      return async () => {
        if (given) return;
        given = true;
        counts.held -= 1;
        counts.givenBack += 1;
      };
    },
  };
  return { leases, counts };
};

describe('a lease kept across an invocation', () => {
  it('takes one lease for requests that follow each other and gives it back as the invocation ends', async () => {
    const { leases, counts } = countedLeases();
    const kept = heldLease(leases, { maxHoldMs: 3_000, now: () => 0 });
    for (let request = 0; request < 5; request += 1) {
      const release = await kept.acquire(1_000);
      expect(counts.held).toBe(1);
      await release();
    }
    expect(counts).toEqual({ held: 1, taken: 1, givenBack: 0 });
    await kept.releaseHeld();
    expect(counts).toEqual({ held: 0, taken: 1, givenBack: 1 });
    await kept.releaseHeld();
    expect(counts.givenBack).toBe(1);
  });

  it('gives the lease back once kept maxHoldMs, so other environments get their turn', async () => {
    const { leases, counts } = countedLeases();
    let clock = 0;
    const kept = heldLease(leases, { maxHoldMs: 3_000, now: () => clock });
    await (await kept.acquire(1_000))();
    clock = 2_000;
    const release = await kept.acquire(1_000);
    clock = 3_500;
    await release();
    // Past its hold as the request ended: given back then, not kept for the next one.
    expect(counts).toEqual({ held: 0, taken: 1, givenBack: 1 });
    await (await kept.acquire(1_000))();
    expect(counts).toEqual({ held: 1, taken: 2, givenBack: 1 });
  });

  it('gives a lease in use back when its request ends if the invocation ended first', async () => {
    const { leases, counts } = countedLeases();
    const kept = heldLease(leases, { maxHoldMs: 3_000, now: () => 0 });
    const release = await kept.acquire(1_000);
    await kept.releaseHeld();
    expect(counts.held).toBe(1);
    await release();
    await release();
    expect(counts).toEqual({ held: 0, taken: 1, givenBack: 1 });
  });

  it('takes a lease of its own for a second request while the kept one is in use, given back as it ends', async () => {
    const { leases, counts } = countedLeases();
    const kept = heldLease(leases, { maxHoldMs: 3_000, now: () => 0 });
    const first = await kept.acquire(1_000);
    const second = await kept.acquire(1_000);
    expect(counts.held).toBe(2);
    await second();
    expect(counts.held).toBe(1);
    await first();
    expect(counts).toEqual({ held: 1, taken: 2, givenBack: 1 });
  });
});
