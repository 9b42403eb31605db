// Core errors as n8n errors: a platform's refusal becomes a NodeApiError with its status and the
// adapter's advice; anything else a NodeOperationError. n8n errors pass through unchanged.
import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';

import { PlatformApiError } from '../../src/http/client';

export function toNodeError(node: INode, error: unknown): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	if (error instanceof PlatformApiError) {
		const { status, hint, body } = error.details;
		return new NodeApiError(node, { message: error.message, body } as JsonObject, {
			message: error.message,
			description: hint,
			httpCode: status === undefined ? undefined : String(status),
		});
	}
	return new NodeOperationError(node, error instanceof Error ? error : String(error));
}
