// The HTTP seam between platform adapters and whoever carries their requests: n8n's
// httpRequestWithAuthentication in the nodes (so n8n signs requests and refreshes OAuth2 tokens),
// fetch in the CLI and the tests. Adapters never see a secret.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
	method: HttpMethod;
	/** Absolute URL (the client joins the platform's base URL and the path). */
	url: string;
	query?: Record<string, QueryValue | QueryValue[]>;
	headers?: Record<string, string>;
	/** Sent as JSON; a string is sent as it is (set its content-type in `headers`, e.g. a form body). */
	body?: unknown;
	timeoutMs?: number;
	/** Return the body as a Buffer, untouched (archives, gzipped exports). */
	binary?: boolean;
	/** Send without the credential: a pre-signed download URL carries its own signature, and the key must not leave for a third host. */
	unsigned?: boolean;
}

export interface HttpResponse {
	status: number;
	/** Header names lower-cased. */
	headers: Record<string, string>;
	/** Parsed JSON when the response is JSON, the text otherwise, undefined when empty; a Buffer when `binary` was asked. */
	body: unknown;
}

/**
 * Carries one request. Every HTTP status comes back as a response (the client decides what a 404
 * or a 429 means); only a request that got no response at all rejects, with a TransportError.
 */
export interface Transport {
	request(request: HttpRequest): Promise<HttpResponse>;
}

export class TransportError extends Error {
	override name = 'TransportError';

	constructor(
		message: string,
		readonly code: 'ETIMEDOUT' | 'ENETWORK',
	) {
		super(message);
	}
}
