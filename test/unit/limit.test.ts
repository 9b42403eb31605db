import { createLimiter } from '../../src/util/limit';

describe('createLimiter', () => {
	it('never runs more than the limit at once and runs everything in call order', async () => {
		const limit = createLimiter(3);
		let active = 0;
		let peak = 0;
		const started: number[] = [];
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				limit(async () => {
					started.push(i);
					active++;
					peak = Math.max(peak, active);
					await new Promise((resolve) => setTimeout(resolve, 5 + (i % 3)));
					active--;
					return i * 2;
				}),
			),
		);
		expect(peak).toBe(3);
		expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
		expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
	});

	it('frees a slot when a task fails', async () => {
		const limit = createLimiter(1);
		await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
		await expect(limit(async () => 'next')).resolves.toBe('next');
	});

	it.each([0, -1, 1.5, Number.NaN])('rejects a concurrency of %p', (n) => {
		expect(() => createLimiter(n)).toThrow(RangeError);
	});
});
