// What an SMTP reply says about a mailbox. Checked in a fixed order: the basic code, then the
// enhanced status code (RFC 3463), then the text. Blocks on our own IP and greylisting are
// recognised BEFORE "mailbox unknown", because a server that will not talk to us has said nothing
// about the mailbox: calling such an address invalid is the worst mistake this product can make.

export type ReplyOutcome =
	/** 250/251/252: the server takes mail for the address. */
	| 'accepted'
	/** 5.1.x (but not sender problems), "user unknown" and the like: the mailbox does not exist. */
	| 'mailbox_not_found'
	/** 5.2.1: the mailbox exists but is disabled. */
	| 'mailbox_disabled'
	/** 4.2.2, 5.2.2, 552: the mailbox is full. */
	| 'mailbox_full'
	/** 4.5.3 / 452 "too many recipients": a limit of the session, never a verdict. */
	| 'too_many_recipients'
	/** 450/451 with 4.7.x or greylisting text: ask again later. */
	| 'greylisted'
	/** The server refuses us (our IP is on a block list, poor reputation): not about the mailbox. */
	| 'blocked'
	/** 421: the server is closing the session. */
	| 'closing'
	/** Any other 4xx. */
	| 'temporary'
	/** Any other 5xx: refused for a reason that does not prove the mailbox is missing (relaying, policy). */
	| 'rejected';

export interface ReplyLike {
	code: number;
	enhanced?: string;
	text: string;
}

// Each phrase list is matched on lower-cased reply text. Keep entries specific: a broad phrase in
// NOT_FOUND turns a policy refusal into a false "invalid".
const BLOCK_PHRASES = [
	'blocked', 'block list', 'blocklist', 'blacklist', 'black list', 'denylist', 'spamhaus',
	'spamcop', 'barracuda', 'sorbs', 'reputation', 'listed at', 'listed on', 'listed in', 'banned',
	'client host rejected', 'ip address rejected', 'not allowed to send', 'dynamic ip',
	'residential ip', 'reverse dns', 'rdns', 'ptr record',
];
/** Short tokens that must stand as words ("rbl", not "verbl..."). */
const BLOCK_WORDS = /\b(rbl|dnsbl|dnsrbl|uribl)\b/;

const GREYLIST_PHRASES = ['greylist', 'graylist', 'grey list', 'gray list', 'greylisted', 'try again later', 'please retry later', 'temporarily deferred', 'deferred'];

const TOO_MANY_PHRASES = ['too many recipients', 'too many rcpt', 'recipient limit', 'limit of recipients', 'maximum number of recipients'];

const FULL_PHRASES = ['mailbox full', 'mailbox is full', 'over quota', 'quota exceeded', 'exceeded storage', 'insufficient storage', 'mailbox size limit'];

const NOT_FOUND_PHRASES = [
	'user unknown', 'unknown user', 'no such user', 'user not found', 'unknown recipient',
	'recipient unknown', 'no such recipient', 'invalid recipient', 'recipient not found',
	'mailbox not found', 'mailbox unavailable', 'no mailbox', 'no such mailbox', 'mailbox does not exist',
	'address does not exist', 'does not exist', "doesn't exist", 'not a valid mailbox', 'unknown mailbox',
	'invalid mailbox', 'user does not exist', 'account does not exist', 'no such account',
	'address unknown', 'unrouteable address', 'unroutable address', 'not our customer',
];

const DISABLED_PHRASES = ['account disabled', 'account has been disabled', 'mailbox disabled', 'account is disabled', 'inactive account', 'account inactive'];

const has = (text: string, phrases: readonly string[]) => phrases.some((p) => text.includes(p));
const isBlock = (text: string) => has(text, BLOCK_PHRASES) || BLOCK_WORDS.test(text);

/** The enhanced code's class, subject and detail, e.g. "5.1.1" -> [5, 1, 1]. */
function parts(enhanced: string | undefined): [number, number, number] | undefined {
	const match = enhanced ? /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(enhanced) : null;
	return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Classifies a reply to RCPT TO (and, for blocks and greylisting, to the greeting or MAIL FROM). */
export function classifyReply(reply: ReplyLike): ReplyOutcome {
	const { code } = reply;
	const text = reply.text.toLowerCase();
	const status = parts(reply.enhanced);
	const [, subject, detail] = status ?? [0, -1, -1];

	if (code >= 200 && code < 300) return 'accepted';
	if (code === 421) return 'closing';

	if (code >= 400 && code < 500) {
		if ((subject === 5 && detail === 3) || has(text, TOO_MANY_PHRASES)) return 'too_many_recipients';
		if ((subject === 2 && detail === 2) || has(text, FULL_PHRASES)) return 'mailbox_full';
		if (isBlock(text) && !has(text, GREYLIST_PHRASES)) return 'blocked';
		if (((code === 450 || code === 451) && subject === 7) || has(text, GREYLIST_PHRASES)) return 'greylisted';
		return 'temporary';
	}

	if (code >= 500 && code < 600) {
		// Our IP is refused: whatever else the reply says, it says nothing about the mailbox.
		if (isBlock(text) && (subject === 7 || status === undefined || code === 554)) return 'blocked';
		if (subject === 5 && detail === 3) return 'too_many_recipients';
		if ((subject === 2 && detail === 2) || (code === 552 && status === undefined) || has(text, FULL_PHRASES)) return 'mailbox_full';
		if (subject === 2 && detail === 1) return 'mailbox_disabled';
		// 5.1.7 and 5.1.8 are about our sender address, not the recipient.
		if (subject === 1 && detail !== 7 && detail !== 8) return 'mailbox_not_found';
		// Microsoft 365's directory-based edge blocking: the recipient is not in the tenant.
		if (subject === 4 && detail === 1 && text.includes('recipient address rejected: access denied')) return 'mailbox_not_found';
		if (status === undefined || subject === 0) {
			if (has(text, DISABLED_PHRASES)) return 'mailbox_disabled';
			if ((code === 550 || code === 551 || code === 553) && has(text, NOT_FOUND_PHRASES)) return 'mailbox_not_found';
		}
		return 'rejected';
	}
	return 'rejected';
}
