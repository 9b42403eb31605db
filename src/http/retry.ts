// When to retry a request and how long to wait, as data (one policy per platform). The server's
// own timing wins: Retry-After (seconds or an HTTP date), then RateLimit-Reset / X-RateLimit-Reset
// (seconds from now or an epoch time); otherwise exponential back-off with jitter.
import type { HttpMethod, HttpResponse } from './types';

export interface RetryPolicy {
	/** Retries after the first attempt. */
	limit: number;
	/** Methods that may be repeated. A write is listed only when its platform makes it idempotent. */
	methods: readonly HttpMethod[];
	/** Statuses worth another attempt. */
	statusCodes: readonly number[];
	/** Longest server-named wait we accept; a longer one fails the request instead of hanging the run. */
	maxRetryAfterMs: number;
	/** First back-off step and the cap of the exponential back-off. */
	backoffMs: number;
	backoffLimitMs: number;
	/** A platform's quirk: decide for a response the generic rules would not retry (or would). */
	shouldRetry?: (response: HttpResponse) => boolean | undefined;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	limit: 4,
	methods: ['GET', 'PUT', 'DELETE'],
	statusCodes: [408, 429, 500, 502, 503, 504],
	maxRetryAfterMs: 120_000,
	backoffMs: 500,
	backoffLimitMs: 30_000,
};

function header(response: HttpResponse, name: string): string | undefined {
	return response.headers[name.toLowerCase()];
}

/** Milliseconds the server asked us to wait, or undefined when it named no (valid) time. */
export function serverDelayMs(response: HttpResponse, now: number = Date.now()): number | undefined {
	const retryAfter = header(response, 'retry-after');
	if (retryAfter !== undefined) {
		const seconds = Number(retryAfter);
		if (retryAfter.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
		const date = Date.parse(retryAfter);
		if (!Number.isNaN(date)) return Math.max(0, date - now);
	}
	for (const name of ['ratelimit-reset', 'x-ratelimit-reset']) {
		const value = header(response, name);
		if (value === undefined || value.trim() === '') continue;
		const number = Number(value);
		if (!Number.isFinite(number) || number < 0) continue;
		// Large values are epoch times (seconds); small ones are seconds from now.
		return number > 1e9 ? Math.max(0, number * 1000 - now) : number * 1000;
	}
	return undefined;
}

/** Exponential back-off with full jitter: a random wait up to the capped step. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
	const step = Math.min(policy.backoffLimitMs, policy.backoffMs * 2 ** attempt);
	return Math.round(step / 2 + (random() * step) / 2);
}

export type RetryDecision = { retry: false } | { retry: true; delayMs: number };

/** Whether attempt number `attempt` (0 = the first retry) should happen after this response. */
export function retryAfterResponse(
	policy: RetryPolicy,
	method: HttpMethod,
	response: HttpResponse,
	attempt: number,
	random?: () => number,
): RetryDecision {
	if (attempt >= policy.limit) return { retry: false };
	const quirk = policy.shouldRetry?.(response);
	const wanted = quirk ?? (policy.methods.includes(method) && policy.statusCodes.includes(response.status));
	// A 429 means the request was not processed: repeating it is safe whatever the method.
	if (!wanted && !(quirk === undefined && response.status === 429)) return { retry: false };
	const named = serverDelayMs(response);
	if (named !== undefined) {
		return named > policy.maxRetryAfterMs ? { retry: false } : { retry: true, delayMs: named };
	}
	return { retry: true, delayMs: backoffMs(policy, attempt, random) };
}

/** Whether to retry after a request that got no response (timeout, network failure). */
export function retryAfterFailure(policy: RetryPolicy, method: HttpMethod, attempt: number, random?: () => number): RetryDecision {
	if (attempt >= policy.limit || !policy.methods.includes(method)) return { retry: false };
	return { retry: true, delayMs: backoffMs(policy, attempt, random) };
}
