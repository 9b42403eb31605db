// The one interface every email platform module implements (DESIGN.md §2 and §4). A module knows
// one platform and nothing about n8n: it talks through an ApiClient whose transport signs requests.
import type { ApiClient } from '../http/client';
import type { RateLimit } from '../http/rateLimiter';
import type { RetryPolicy } from '../http/retry';
import type { HttpResponse, Transport } from '../http/types';

export type PlatformId = 'mailchimp' | 'hubspot' | 'constantcontact' | 'sendgrid';

/** Subscription state, normalised across platforms; `raw` keeps the platform's own word. */
export type MemberStatus = 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived' | 'unknown';

export type ListKind = 'audience' | 'list' | 'static_list' | 'dynamic_list' | 'segment' | 'tag';

export interface PlatformList {
	id: string;
	name: string;
	kind: ListKind;
	/** Members as the platform counts them, when it says. */
	memberCount?: number;
}

/** A member item: `{ email, contactId, listId, platform, status }`, plus the platform's record. */
export interface Member {
	email: string;
	contactId: string;
	listId: string;
	platform: PlatformId;
	status: MemberStatus;
	/** When the contact joined the list (ISO 8601), where the platform records it. */
	joinedAt?: string;
	raw: unknown;
}

/** A contact to act on, from an input item: an ID, an email, or both. */
export interface ContactRef {
	/** The caller's position for this contact (its input item), echoed in the outcome. */
	index: number;
	contactId?: string;
	email?: string;
}

/** done: changed now; already: was unsubscribed/gone before (running twice is safe); failed; skipped. */
export type WriteOutcomeKind = 'done' | 'already' | 'failed' | 'skipped';

export interface WriteOutcome {
	index: number;
	outcome: WriteOutcomeKind;
	contactId?: string;
	email?: string;
	/** The platform's message for a failure, or why a contact was skipped or already done. */
	detail?: string;
}

export interface PlatformCapabilities {
	listKinds: readonly ListKind[];
	/** Unsubscribe removes consent for the chosen list only, or for every list of the account. */
	unsubscribeScope: 'list' | 'global';
	/** What Delete does by default: archive (restorable), permanent, or nothing (the platform cannot). */
	deleteKind: 'archive' | 'permanent' | 'none';
	/** A permanent delete exists as a separate, explicit option. */
	permanentDelete: boolean;
	/** Can write a tag (or a property standing in for one). */
	tag: boolean;
	/** Can list members added since a time, for the trigger. */
	newMemberPolling: boolean;
}

export interface PlatformLimits {
	/** Largest page a member read can ask for. */
	pageSize: number;
	/** Contacts per unsubscribe request (1 when the platform has no batch form). */
	unsubscribeBatch: number;
	/** Contacts per delete request. */
	deleteBatch: number;
	/** Stay under this before the server complains. */
	rateLimit: RateLimit;
}

export interface ListQuery {
	/** Case-insensitive substring of the list name. */
	filter?: string;
	/** From the previous call's `cursor`. */
	cursor?: string;
}

export interface MemberQuery {
	/** Only members in these states (all when absent). */
	status?: readonly MemberStatus[];
}

/** What a poll for new members asks: who joined since the previous poll. */
export interface NewMemberQuery {
	/** Members who joined the list at or after this instant (ISO 8601, UTC). */
	since: string;
	/** The resume point the previous poll returned, for platforms that page by a token rather than by time. */
	cursor?: string;
}

export interface NewMembers {
	/**
	 * Members who joined at or after `since` (or after `cursor`), each with `joinedAt`. Members the
	 * previous poll returned may come again (the platform's time filter has its own granularity):
	 * the caller drops the contact IDs it has seen.
	 */
	members: Member[];
	/** Where the next poll resumes, for platforms that page by a token; the caller stores it as it is. */
	cursor?: string;
}

/** The fields of the credential the user filled in, as a plain object. */
export type CredentialFields = Record<string, unknown>;

export interface CredentialChoice {
	/** n8n credential type name (prefixed: ours alone). */
	name: string;
	/** The node's "Authentication" option value. */
	authentication: 'apiKey' | 'accessToken' | 'oAuth2';
	displayName: string;
}

export interface Platform {
	id: PlatformId;
	/** As users know it: "Mailchimp". */
	name: string;
	capabilities: PlatformCapabilities;
	limits: PlatformLimits;
	retry?: RetryPolicy;
	/** The credential types that work with it; the first is the default. */
	credentials: readonly CredentialChoice[];
	/** Headers that sign a request in the CLI (n8n signs through the credential type instead). */
	cliAuth(credentials: CredentialFields): Record<string, string>;
	/** The API's base URL: the credential's override, or the platform's (which may need a request, e.g. Mailchimp's OAuth2 metadata). */
	baseUrl(credentials: CredentialFields, transport: Transport): Promise<string>;
	/** Advice for a failed response beyond the generic one (e.g. a scope the key lacks). */
	hint?(response: HttpResponse, operation: string): string | undefined;

	lists(api: ApiClient, query: ListQuery): Promise<{ lists: PlatformList[]; cursor?: string }>;
	members(api: ApiClient, listId: string, query: MemberQuery): AsyncIterable<Member[]>;
	unsubscribe(api: ApiClient, listId: string, contacts: readonly ContactRef[]): Promise<WriteOutcome[]>;
	delete(api: ApiClient, listId: string, contacts: readonly ContactRef[], options: { permanent?: boolean }): Promise<WriteOutcome[]>;
	/**
	 * Members who joined the list since a time, asked so that an idle poll costs one request (the
	 * platform filters by time or resumes from a cursor). Present exactly when
	 * `capabilities.newMemberPolling` is true.
	 */
	newMembers?(api: ApiClient, listId: string, query: NewMemberQuery): Promise<NewMembers>;
	/** The newest members of the list, newest first, at most `limit`: the trigger's sample when run by hand. */
	recentMembers?(api: ApiClient, listId: string, limit: number): Promise<Member[]>;
	/**
	 * Writes a tag naming a clean-up category (or, where the platform has no tags, a contact
	 * property standing in for one). Present only on platforms that implement it.
	 */
	tag?(api: ApiClient, listId: string, contacts: readonly ContactRef[], tag: string): Promise<WriteOutcome[]>;
}
