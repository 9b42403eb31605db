// The n8n side of the Transport seam: requests go through httpRequestWithAuthentication, so n8n
// signs them with the chosen credential and refreshes OAuth2 tokens; the core never sees a secret.
import type { IDataObject, IExecuteFunctions, IHttpRequestOptions, ILoadOptionsFunctions, IPollFunctions } from 'n8n-workflow';

import { TransportError, type HttpRequest, type HttpResponse, type Transport } from '../../src/http/types';

type Context = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

type RawResponse = { statusCode?: number; status?: number; headers?: unknown; body?: unknown };

function statusOf(response: RawResponse): number {
	return response.statusCode ?? response.status ?? 0;
}

/** The response an n8n request error carries (status and body), for the core to read like any other. */
function responseOfError(error: unknown): RawResponse {
	const e = error as { httpCode?: string; cause?: { response?: { status?: number; headers?: unknown; data?: unknown } }; description?: string; message?: string };
	const response = e.cause?.response;
	const status = response?.status ?? Number(e.httpCode);
	if (!Number.isInteger(status) || status <= 0) throw error;
	return { status, headers: response?.headers, body: response?.data ?? e.description ?? e.message };
}

function lowerCaseHeaders(headers: unknown): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [key, value] of Object.entries((headers as Record<string, unknown>) ?? {})) {
		if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
	}
	return out;
}

export class N8nTransport implements Transport {
	constructor(
		private readonly context: Context,
		private readonly credentialType: string,
	) {}

	async request(request: HttpRequest): Promise<HttpResponse> {
		const options: IHttpRequestOptions = {
			method: request.method,
			url: request.url,
			qs: request.query as IDataObject | undefined,
			arrayFormat: 'repeat',
			headers: { accept: 'application/json', ...request.headers },
			body: request.body as IDataObject | undefined,
			json: !request.binary && typeof request.body !== 'string',
			encoding: request.binary ? 'arraybuffer' : undefined,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: request.timeoutMs,
		};
		let response: RawResponse;
		try {
			response = request.unsigned
				? await this.context.helpers.httpRequest(options)
				: await this.context.helpers.httpRequestWithAuthentication.call(this.context, this.credentialType, options);
			// n8n refreshes an OAuth2 token only when the request throws its 401; asked to return every
			// status, it never does. So a 401 on an OAuth2 credential is asked once more the throwing way.
			if (!request.unsigned && statusOf(response) === 401 && /OAuth2Api$/.test(this.credentialType)) {
				response = await this.context.helpers.httpRequestWithAuthentication
					.call(this.context, this.credentialType, { ...options, ignoreHttpStatusErrors: false })
					.catch((error: unknown) => responseOfError(error));
			}
		} catch (error) {
			const message = (error as Error).message ?? String(error);
			// The core's retry layer decides on TransportError; the node reports final failures as NodeApiError.
			// eslint-disable-next-line @n8n/community-nodes/require-node-api-error
			throw new TransportError(message, /timeout|ETIMEDOUT|ECONNABORTED/i.test(message) ? 'ETIMEDOUT' : 'ENETWORK');
		}
		let body = response.body;
		if (request.binary && body !== undefined && !Buffer.isBuffer(body)) body = Buffer.from(body as ArrayBuffer);
		if (typeof body === 'string' && body !== '' && !request.binary) {
			try {
				body = JSON.parse(body);
			} catch {
				// not JSON: the adapter reports it
			}
		}
		return { status: statusOf(response), headers: lowerCaseHeaders(response.headers), body: body === '' ? undefined : body };
	}
}
