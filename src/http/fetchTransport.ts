// The transport of the CLI and the tests: Node's built-in fetch, with the credential's headers
// added here (adapters never see them).
import { TransportError, type HttpRequest, type HttpResponse, type Transport } from './types';

export function buildUrl(request: HttpRequest): string {
	const url = new URL(request.url);
	for (const [key, value] of Object.entries(request.query ?? {})) {
		const values = Array.isArray(value) ? value : [value];
		for (const v of values) if (v !== undefined) url.searchParams.append(key, String(v));
	}
	return url.toString();
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
	return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

export class FetchTransport implements Transport {
	constructor(
		/** Headers that sign every request, e.g. { authorization: 'Bearer …' }. */
		private readonly authHeaders: Record<string, string> = {},
		private readonly defaultTimeoutMs = 60_000,
	) {}

	async request(request: HttpRequest): Promise<HttpResponse> {
		const raw = typeof request.body === 'string';
		const headers: Record<string, string> = { accept: 'application/json', ...lowerCased(request.headers), ...(request.unsigned ? {} : lowerCased(this.authHeaders)) };
		if (request.body !== undefined && !(raw && headers['content-type'])) headers['content-type'] = 'application/json';
		const timeoutMs = request.timeoutMs ?? this.defaultTimeoutMs;
		let response: Response;
		try {
			response = await fetch(buildUrl(request), {
				method: request.method,
				headers,
				body: request.body === undefined ? undefined : raw ? (request.body as string) : JSON.stringify(request.body),
				signal: AbortSignal.timeout(timeoutMs),
			});
		} catch (error) {
			const name = (error as Error).name;
			if (name === 'TimeoutError' || name === 'AbortError') throw new TransportError(`no response within ${timeoutMs} ms`, 'ETIMEDOUT');
			const cause = (error as { cause?: { code?: string; message?: string } }).cause;
			throw new TransportError(cause?.code ?? cause?.message ?? (error as Error).message, 'ENETWORK');
		}
		const headersOut: Record<string, string> = {};
		response.headers.forEach((value, key) => (headersOut[key.toLowerCase()] = value));
		if (request.binary) return { status: response.status, headers: headersOut, body: Buffer.from(await response.arrayBuffer()) };
		const text = await response.text();
		let body: unknown = text === '' ? undefined : text;
		if (text !== '' && /json/i.test(headersOut['content-type'] ?? '')) {
			try {
				body = JSON.parse(text);
			} catch {
				body = text; // the adapter reports a body that is not the JSON it expects
			}
		}
		return { status: response.status, headers: headersOut, body };
	}
}
