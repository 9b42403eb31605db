// A platform's HTTP client: joins its base URL, keeps to its rate limit, retries by its policy,
// counts requests, and turns failures into errors that name the platform, the operation and the fix.
import { maskSecrets, maskUrl } from './mask';
import { RateLimiter, type RateLimit } from './rateLimiter';
import { DEFAULT_RETRY_POLICY, retryAfterFailure, retryAfterResponse, type RetryPolicy } from './retry';
import { TransportError, type HttpMethod, type HttpRequest, type HttpResponse, type QueryValue, type Transport } from './types';

export interface ApiRequest {
	method: HttpMethod;
	/** Path below the base URL (or an absolute URL, e.g. a "next" link the platform returned). */
	path: string;
	query?: Record<string, QueryValue | QueryValue[]>;
	body?: unknown;
	headers?: Record<string, string>;
	/** Return the body as a Buffer (archives, gzipped exports). */
	binary?: boolean;
	/** Send without the credential (pre-signed URLs on other hosts). */
	unsigned?: boolean;
}

export interface ApiClientOptions {
	/** The platform's name as users know it, for messages ("Mailchimp"). */
	platform: string;
	baseUrl: string;
	transport: Transport;
	retry?: RetryPolicy;
	rateLimit?: RateLimit;
	timeoutMs?: number;
	/** Values to mask in every message (the CLI knows the keys; n8n's transport never shows them). */
	secrets?: readonly string[];
	/** Platform-specific advice for a failed response; the generic advice is used when it returns nothing. */
	hint?: (response: HttpResponse, operation: string) => string | undefined;
	sleep?: (ms: number) => Promise<void>;
	now?: () => number;
	random?: () => number;
}

export class PlatformApiError extends Error {
	override name = 'PlatformApiError';

	constructor(
		message: string,
		readonly details: {
			platform: string;
			operation: string;
			method: HttpMethod;
			/** With secrets masked. */
			url: string;
			status?: number;
			/** A short excerpt of the response body, masked. */
			body?: string;
			/** What to do about it. */
			hint: string;
		},
	) {
		super(message);
	}
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function genericHint(status: number | undefined, operation: string): string {
	if (status === undefined) return 'Check the network connection and the base URL, then try again.';
	if (status === 401) return 'The credential was rejected: check the API key, or reconnect the account.';
	if (status === 403) {
		return /unsubscribe|delete|archive|tag|write/i.test(operation)
			? 'The credential may read but not change contacts: give it write access to contacts, or use Verify only.'
			: 'The credential lacks a permission this operation needs: give it access, then try again.';
	}
	if (status === 404) return 'The platform does not know it (any more): pick the list again, or check the ID.';
	if (status === 429) return 'The platform’s rate limit is exhausted: try again later, or with a smaller batch.';
	if (status >= 500) return 'The platform failed on its side: try again later.';
	return 'Check the request’s input.';
}

function excerpt(body: unknown): string | undefined {
	if (body === undefined || body === '') return undefined;
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export class ApiClient {
	/** Requests sent, retries included: the figure DESIGN.md §4's table is checked against. */
	requests = 0;
	readonly platform: string;
	private readonly limiter?: RateLimiter;
	private readonly retry: RetryPolicy;
	private readonly sleep: (ms: number) => Promise<void>;

	constructor(private readonly options: ApiClientOptions) {
		this.platform = options.platform;
		this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
		// An injected sleep that does not really wait (tests) must move the limiter's clock, or a
		// full rate-limit window would never pass: time then runs on the sleeps.
		let slept = 0;
		const injected = options.sleep;
		this.sleep = injected ? (ms) => ((slept += ms), injected(ms)) : realSleep;
		const now = options.now ?? (injected ? () => Date.now() + slept : () => Date.now());
		if (options.rateLimit) this.limiter = new RateLimiter(options.rateLimit, now, this.sleep);
	}

	/** Waits (polling asynchronous jobs); tests inject a sleep that does not. */
	wait(ms: number): Promise<void> {
		return this.sleep(ms);
	}

	url(path: string): string {
		if (/^https?:\/\//i.test(path)) return path;
		return `${this.options.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
	}

	/** Sends a request, retrying as the policy allows; resolves with any final response, 2xx or not. */
	async send(operation: string, request: ApiRequest): Promise<HttpResponse> {
		const http: HttpRequest = {
			method: request.method,
			url: this.url(request.path),
			query: request.query,
			headers: request.headers,
			body: request.body,
			timeoutMs: this.options.timeoutMs,
			binary: request.binary,
			unsigned: request.unsigned,
		};
		for (let attempt = 0; ; attempt++) {
			await this.limiter?.acquire();
			this.requests++;
			let response: HttpResponse;
			try {
				response = await this.options.transport.request(http);
			} catch (error) {
				const decision = retryAfterFailure(this.retry, request.method, attempt, this.options.random);
				if (decision.retry) {
					await this.sleep(decision.delayMs);
					continue;
				}
				throw this.failure(operation, http, undefined, error instanceof TransportError ? error.message : String(error));
			}
			if (response.status >= 200 && response.status < 300) return response;
			const decision = retryAfterResponse(this.retry, request.method, response, attempt, this.options.random);
			if (!decision.retry) return response;
			await this.sleep(decision.delayMs);
		}
	}

	/** Sends a request and returns its body; any final non-2xx status is a PlatformApiError. */
	async request<T = unknown>(operation: string, request: ApiRequest): Promise<T> {
		const response = await this.send(operation, request);
		if (response.status < 200 || response.status >= 300) throw this.errorFor(operation, request, response);
		return response.body as T;
	}

	/** The error for a response the caller could not use. */
	errorFor(operation: string, request: ApiRequest, response: HttpResponse): PlatformApiError {
		const http = { method: request.method, url: this.url(request.path) } as HttpRequest;
		return this.failure(operation, http, response);
	}

	/** A response whose body is not what the platform documents. */
	malformed(operation: string, request: ApiRequest, what: string): PlatformApiError {
		const url = maskUrl(this.url(request.path));
		return new PlatformApiError(
			this.mask(`${this.platform}: ${operation} returned an unexpected response (${what}).`),
			{ platform: this.platform, operation, method: request.method, url, hint: 'The platform may have changed its API or be failing: try again later, and report it if it persists.' },
		);
	}

	private failure(operation: string, http: HttpRequest, response?: HttpResponse, networkMessage?: string): PlatformApiError {
		const status = response?.status;
		const hint = (response && this.options.hint?.(response, operation)) || genericHint(status, operation);
		const what = status === undefined ? `failed: ${networkMessage ?? 'no response'}` : `failed with HTTP ${status}`;
		const body = excerpt(response?.body);
		return new PlatformApiError(this.mask(`${this.platform}: ${operation} ${what}. ${hint}`), {
			platform: this.platform,
			operation,
			method: http.method,
			url: this.mask(maskUrl(http.url)),
			status,
			body: body === undefined ? undefined : this.mask(body),
			hint,
		});
	}

	private mask(text: string): string {
		return maskSecrets(text, this.options.secrets ?? []);
	}
}
