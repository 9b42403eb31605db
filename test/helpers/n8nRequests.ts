// The request helpers n8n gives a node, for node tests run outside n8n: each sends through a real
// transport (to a fake on loopback) and returns n8n's full-response shape.
import type { IHttpRequestOptions } from 'n8n-workflow';

import type { HttpMethod, Transport } from '../../src/http/types';

function send(transport: Transport, options: IHttpRequestOptions) {
	return transport
		.request({
			method: (options.method ?? 'GET') as HttpMethod,
			url: options.url,
			query: options.qs as Record<string, string>,
			headers: options.headers as Record<string, string> | undefined,
			body: options.body,
			binary: options.encoding === 'arraybuffer',
		})
		.then((response) => ({ statusCode: response.status, headers: response.headers, body: response.body }));
}

/** `httpRequestWithAuthentication` signing through `signed`, and `httpRequest` through `unsigned`. */
export function n8nRequestHelpers(signed: Transport, unsigned?: Transport) {
	return {
		httpRequestWithAuthentication: (_type: string, options: IHttpRequestOptions) => send(signed, options),
		httpRequest: (options: IHttpRequestOptions) => send(unsigned ?? signed, options),
	};
}
