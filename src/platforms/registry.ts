// Platform id -> module. Adding a platform is one module, one credential, one line here, and its tests.
import { ApiClient, type ApiClientOptions } from '../http/client';
import type { Transport } from '../http/types';
import { constantcontact } from './constantcontact';
import { hubspot } from './hubspot';
import { mailchimp } from './mailchimp';
import { sendgrid } from './sendgrid';
import type { CredentialFields, Platform, PlatformId } from './types';

const platforms = new Map<PlatformId, Platform>([constantcontact, hubspot, mailchimp, sendgrid].map((platform) => [platform.id, platform]));

export function listPlatforms(): Platform[] {
	return [...platforms.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export class UnknownPlatformError extends Error {
	override name = 'UnknownPlatformError';
}

export function getPlatform(id: string): Platform {
	const platform = platforms.get(id as PlatformId);
	if (!platform) {
		const known = listPlatforms().map((p) => p.id).join(', ') || 'none yet';
		throw new UnknownPlatformError(`Unknown platform "${id}". Platforms: ${known}.`);
	}
	return platform;
}

/** An API client for a platform, signed by `transport`, with the platform's retry policy and rate limit. */
export async function createApiClient(
	platform: Platform,
	credentials: CredentialFields,
	transport: Transport,
	extra: Partial<ApiClientOptions> = {},
): Promise<ApiClient> {
	return new ApiClient({
		platform: platform.name,
		baseUrl: await platform.baseUrl(credentials, transport),
		transport,
		retry: platform.retry,
		rateLimit: platform.limits.rateLimit,
		hint: platform.hint?.bind(platform),
		...extra,
	});
}
