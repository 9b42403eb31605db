import { backoffMs, DEFAULT_RETRY_POLICY, retryAfterFailure, retryAfterResponse, serverDelayMs } from '../../../src/http/retry';
import type { HttpResponse } from '../../../src/http/types';

const response = (status: number, headers: Record<string, string> = {}): HttpResponse => ({ status, headers, body: undefined });
const NOW = Date.parse('2026-11-25T10:00:00Z');

describe('serverDelayMs', () => {
	it.each([
		[{ 'retry-after': '3' }, 3000],
		[{ 'retry-after': '0' }, 0],
		[{ 'retry-after': 'Wed, 25 Nov 2026 10:00:05 GMT' }, 5000],
		[{ 'retry-after': 'Wed, 25 Nov 2026 09:59:00 GMT' }, 0],
		[{ 'x-ratelimit-reset': '7' }, 7000],
		[{ 'ratelimit-reset': String(NOW / 1000 + 12) }, 12000],
		[{ 'retry-after': 'soon', 'x-ratelimit-reset': '2' }, 2000],
	])('reads %j as %i ms', (headers, expected) => {
		expect(serverDelayMs(response(429, headers), NOW)).toBe(expected);
	});

	it.each<Record<string, string>>([{}, { 'retry-after': 'soon' }, { 'x-ratelimit-reset': '-1' }, { 'retry-after': '' }])('finds no server time in %j', (headers) => {
		expect(serverDelayMs(response(429, headers), NOW)).toBeUndefined();
	});
});

describe('retry decisions', () => {
	const policy = { ...DEFAULT_RETRY_POLICY, limit: 2 };

	it('waits the time the server names, without jitter', () => {
		expect(retryAfterResponse(policy, 'GET', response(503, { 'retry-after': '2' }), 0)).toEqual({ retry: true, delayMs: 2000 });
	});

	it('backs off exponentially with jitter when the server names no time, up to the cap', () => {
		expect(backoffMs(policy, 0, () => 0)).toBe(250);
		expect(backoffMs(policy, 0, () => 1)).toBe(500);
		expect(backoffMs(policy, 3, () => 1)).toBe(4000);
		expect(backoffMs(policy, 20, () => 1)).toBe(policy.backoffLimitMs);
	});

	it('stops at the limit', () => {
		expect(retryAfterResponse(policy, 'GET', response(503), 2)).toEqual({ retry: false });
		expect(retryAfterFailure(policy, 'GET', 2)).toEqual({ retry: false });
	});

	it('repeats a write only after a 429 (not processed) unless the platform marks it idempotent', () => {
		expect(retryAfterResponse(policy, 'POST', response(503), 0)).toEqual({ retry: false });
		expect(retryAfterFailure(policy, 'POST', 0)).toEqual({ retry: false });
		expect(retryAfterResponse(policy, 'POST', response(429, { 'retry-after': '1' }), 0)).toEqual({ retry: true, delayMs: 1000 });
		expect(retryAfterResponse({ ...policy, methods: ['POST'] }, 'POST', response(503), 0, () => 1)).toEqual({ retry: true, delayMs: 500 });
	});

	it('gives up rather than wait longer than the policy allows', () => {
		expect(retryAfterResponse(policy, 'GET', response(429, { 'retry-after': '3600' }), 0)).toEqual({ retry: false });
	});

	it('never retries a client error', () => {
		for (const status of [400, 401, 403, 404, 422]) expect(retryAfterResponse(policy, 'GET', response(status), 0)).toEqual({ retry: false });
	});

	it('lets a platform quirk decide, e.g. a 403 that is really a rate limit', () => {
		const quirky = { ...policy, shouldRetry: (r: HttpResponse) => (r.status === 403 && r.headers['x-quirk'] === 'rate' ? true : undefined) };
		expect(retryAfterResponse(quirky, 'GET', response(403, { 'x-quirk': 'rate', 'retry-after': '1' }), 0)).toEqual({ retry: true, delayMs: 1000 });
		expect(retryAfterResponse(quirky, 'GET', response(403), 0)).toEqual({ retry: false });
	});
});
