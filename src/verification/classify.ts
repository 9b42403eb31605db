// The verdict: an ordered rule table over the evidence the stages gathered; the first rule that
// matches decides (DESIGN.md §3). Wrongly saying `invalid` is the worst mistake this product can
// make, so only proof (bad syntax, a domain that does not exist or takes no mail) reaches it;
// anything a lookup could not settle stays `unknown`.
import type { MailRoute } from './dns';
import type { SmtpEvidence } from './smtp/prober';
import type { SyntaxResult } from './syntax';
import type { DomainSuggestion } from './typo';
import {
	CATEGORY_OF_STATUS,
	type VerificationFlags,
	type VerificationReason,
	type VerificationStatus,
} from './types';

export interface Evidence {
	syntax: SyntaxResult;
	flags: VerificationFlags;
	typo?: DomainSuggestion;
	route?: MailRoute;
	/** Absent when SMTP was not checked. */
	smtp?: SmtpEvidence;
	/** No SMTP connection succeeded in the whole run although several hosts were tried. */
	port25Blocked?: boolean;
}

export interface Verdict {
	status: VerificationStatus;
	reason: VerificationReason;
	detail: string;
}

type Rule = (e: Evidence, domain: string) => Verdict | undefined;

const RULES: readonly Rule[] = [
	(e) => (e.syntax.ok ? undefined : { status: 'invalid', reason: e.syntax.reason, detail: e.syntax.detail }),
	(e, domain) => {
		switch (e.route?.kind) {
			case 'null_mx':
				return { status: 'invalid', reason: 'null_mx', detail: `${domain} publishes a null MX record (RFC 7505): it accepts no mail.` };
			case 'nxdomain':
				return { status: 'invalid', reason: 'domain_not_found', detail: `The domain ${domain} does not exist (NXDOMAIN).` };
			case 'no_mail_host':
				return { status: 'invalid', reason: 'no_mail_host', detail: `${domain} has no MX, A or AAAA record, so no host receives its mail.` };
			default:
				return undefined;
		}
	},
	(e) => {
		const smtp = e.smtp;
		if (smtp?.outcome === 'mailbox_not_found') {
			return { status: 'invalid', reason: 'mailbox_not_found', detail: `${smtp.host ?? 'The mail server'} said the mailbox does not exist${said(smtp)}.` };
		}
		if (smtp?.outcome === 'mailbox_disabled') {
			return { status: 'invalid', reason: 'mailbox_disabled', detail: `${smtp.host ?? 'The mail server'} said the mailbox is disabled${said(smtp)}.` };
		}
		return undefined;
	},
	(e, domain) =>
		e.flags.disposable
			? { status: 'disposable', reason: 'disposable_domain', detail: `${domain} is a disposable (throwaway) email domain.` }
			: undefined,
	(e, domain) =>
		e.typo?.provider
			? {
					status: 'spamtrap',
					reason: 'typo_domain',
					detail: `${domain} looks like a misspelling of ${e.typo.domain}; such domains are often registered as spam traps.`,
				}
			: undefined,
	(e) =>
		e.flags.role
			? { status: 'role_account', reason: 'role_account', detail: 'The local part names a role (a team or function), not a person.' }
			: undefined,
	(e, domain) =>
		e.smtp?.outcome === 'accepted' && e.smtp.catchAll === true
			? { status: 'catch_all', reason: 'catch_all', detail: `${domain} accepts mail for any address, so this mailbox cannot be confirmed.` }
			: undefined,
	(e, domain) => {
		if (e.smtp?.outcome === 'mailbox_full') {
			return { status: 'risky', reason: 'mailbox_full', detail: `The mailbox is full${said(e.smtp)}; mail to it bounces for now.` };
		}
		if (e.smtp?.outcome === 'accepted' && e.smtp.catchAll === undefined) {
			return {
				status: 'risky',
				reason: 'catch_all_unknown',
				detail: `The server accepted the address, but whether ${domain} accepts any address could not be determined.`,
			};
		}
		return undefined;
	},
	(e, domain) => {
		const route = e.route;
		if (route?.kind !== 'error') return undefined;
		const why = route.reason === 'dns_timeout' ? 'timed out' : route.reason === 'dns_servfail' ? 'failed (SERVFAIL)' : `failed (${route.code})`;
		return { status: 'unknown', reason: route.reason, detail: `The DNS lookup for ${domain} ${why}; the address could not be checked.` };
	},
	(e) => (e.smtp ? unknownFromSmtp(e.smtp, e.port25Blocked === true) : undefined),
	(e) =>
		e.smtp
			? undefined
			: {
					status: 'unknown',
					reason: 'smtp_not_checked',
					detail: 'Syntax and DNS are fine, but no mail server was asked whether the mailbox exists.',
				},
	(e) =>
		e.smtp?.outcome === 'accepted' && e.smtp.catchAll === false
			? { status: 'valid', reason: 'accepted', detail: `${e.smtp.host ?? 'The mail server'} accepted the address and rejects unknown ones${said(e.smtp)}.` }
			: undefined,
];

function said(smtp: SmtpEvidence): string {
	if (smtp.code === undefined) return '';
	const text = (smtp.text ?? '').replace(/\s+/g, ' ').trim().slice(0, 160);
	return ` (${[smtp.code, smtp.enhanced, text].filter(Boolean).join(' ')})`;
}

/** SMTP answers that prove nothing about the mailbox: all unknown, each with its own reason. */
function unknownFromSmtp(smtp: SmtpEvidence, port25Blocked: boolean): Verdict | undefined {
	const host = smtp.host ?? 'the mail host';
	switch (smtp.outcome) {
		case 'greylisted':
			return { status: 'unknown', reason: 'greylisted', detail: `${host} greylisted the probe (asked to try later)${said(smtp)}.` };
		case 'blocked':
			return { status: 'unknown', reason: 'blocked', detail: `${host} refuses connections from this machine's IP address${said(smtp)}; that says nothing about the mailbox.` };
		case 'timeout':
			return port25Blocked
				? { status: 'unknown', reason: 'port25_blocked', detail: PORT25_BLOCKED }
				: { status: 'unknown', reason: 'timeout', detail: `${host} did not answer in time.` };
		case 'unreachable':
			return port25Blocked
				? { status: 'unknown', reason: 'port25_blocked', detail: PORT25_BLOCKED }
				: { status: 'unknown', reason: 'smtp_unreachable', detail: `No mail host of the domain could be reached (${smtp.text ?? 'connection failed'}).` };
		case 'refused_private_target':
			return {
				status: 'unknown',
				reason: 'refused_private_target',
				detail: `${host} resolves to a private or reserved address (${smtp.ip ?? 'unknown'}); no connection was made. Turn on "allow private networks" only for your own mail servers.`,
			};
		case 'no_host_address':
			return { status: 'unknown', reason: 'no_host_address', detail: `${host} has no address to connect to (${smtp.text ?? 'no A or AAAA record'}).` };
		case 'smtputf8_unsupported':
			return { status: 'unknown', reason: 'smtputf8_unsupported', detail: `The local part has non-ASCII characters and ${host} does not offer SMTPUTF8, so it was not asked.` };
		case 'mail_from_rejected':
			return { status: 'unknown', reason: 'mail_from_rejected', detail: `${host} refused the probe's sender address${said(smtp)}; set another MAIL FROM address.` };
		case 'temporary':
		case 'closing':
		case 'too_many_recipients':
			return { status: 'unknown', reason: 'smtp_temporary', detail: `${host} answered with a temporary failure${said(smtp)}.` };
		case 'rejected':
			return { status: 'unknown', reason: 'smtp_rejected', detail: `${host} refused the address for a reason other than a missing mailbox${said(smtp)}.` };
		case 'protocol_error':
			return { status: 'unknown', reason: 'smtp_protocol_error', detail: `${host} broke the SMTP protocol (${smtp.text ?? 'unexpected reply'}).` };
		default:
			return undefined;
	}
}

const PORT25_BLOCKED =
	'No SMTP connection succeeded in this run although several mail hosts were tried: outbound port 25 looks blocked on this machine. ' +
	'Run the verifier where port 25 is open, or use a SOCKS5 proxy.';

export function classify(evidence: Evidence): Verdict & { category: (typeof CATEGORY_OF_STATUS)[VerificationStatus] } {
	const domain = evidence.syntax.ok ? evidence.syntax.address.domain : '';
	for (const rule of RULES) {
		const verdict = rule(evidence, domain);
		if (verdict) return { ...verdict, category: CATEGORY_OF_STATUS[verdict.status] };
	}
	// The last rule always matches; this keeps the type checker honest.
	throw new Error('classify: no rule matched');
}
