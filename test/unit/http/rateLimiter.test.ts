import { RateLimiter } from '../../../src/http/rateLimiter';

describe('RateLimiter', () => {
	it('lets at most N requests start in any window, serving callers in order', async () => {
		let now = 0;
		const waits: number[] = [];
		const limiter = new RateLimiter({ requests: 3, perMs: 1000 }, () => now, async (ms) => {
			waits.push(ms);
			now += ms;
		});
		const starts: number[] = [];
		await Promise.all(Array.from({ length: 7 }, (_, i) => limiter.acquire().then(() => starts.push(now * 100 + i))));
		const times = starts.map((s) => Math.floor(s / 100));
		expect(times).toEqual([0, 0, 0, 1000, 1000, 1000, 2000]);
		expect(starts.map((s) => s % 100)).toEqual([0, 1, 2, 3, 4, 5, 6]);
		// In every window of 1000 ms, no more than 3 starts.
		for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(3);
		expect(waits).toEqual([1000, 1000]);
	});

	it.each([
		{ requests: 0, perMs: 1000 },
		{ requests: 1, perMs: 0 },
	])('rejects %j', (limit) => {
		expect(() => new RateLimiter(limit)).toThrow(RangeError);
	});
});
