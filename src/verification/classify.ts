// The verdict: an ordered rule table over the evidence the stages gathered; the first rule that
// matches decides (DESIGN.md §3). Wrongly saying `invalid` is the worst mistake this product can
// make, so only proof (bad syntax, a domain that does not exist or takes no mail) reaches it;
// anything a lookup could not settle stays `unknown`.
import type { MailRoute } from './dns';
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
	(e, domain) => {
		const route = e.route;
		if (route?.kind !== 'error') return undefined;
		const why = route.reason === 'dns_timeout' ? 'timed out' : route.reason === 'dns_servfail' ? 'failed (SERVFAIL)' : `failed (${route.code})`;
		return { status: 'unknown', reason: route.reason, detail: `The DNS lookup for ${domain} ${why}; the address could not be checked.` };
	},
	() => ({
		status: 'unknown',
		reason: 'smtp_not_checked',
		detail: 'Syntax and DNS are fine, but no mail server was asked whether the mailbox exists.',
	}),
];

export function classify(evidence: Evidence): Verdict & { category: (typeof CATEGORY_OF_STATUS)[VerificationStatus] } {
	const domain = evidence.syntax.ok ? evidence.syntax.address.domain : '';
	for (const rule of RULES) {
		const verdict = rule(evidence, domain);
		if (verdict) return { ...verdict, category: CATEGORY_OF_STATUS[verdict.status] };
	}
	// The last rule always matches; this keeps the type checker honest.
	throw new Error('classify: no rule matched');
}
