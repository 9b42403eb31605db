// The verification result shape shared by the engine, the Verify Email node and the CLI.
import type { SyntaxFailure } from './syntax';

/** Final verdict for an address (DESIGN.md §3, "Classify"). */
export type VerificationStatus =
	| 'valid'
	| 'invalid'
	| 'disposable'
	| 'spamtrap'
	| 'role_account'
	| 'catch_all'
	| 'risky'
	| 'unknown';

/** The clean-up category a status falls into (DESIGN.md §5). */
export type VerificationCategory = 'valid' | 'invalid' | 'disposable' | 'catch_all' | 'unknown' | 'risky';

/** Stable machine codes for why an address got its status. */
export type VerificationReason =
	// syntax
	| SyntaxFailure
	// lists
	| 'disposable_domain'
	| 'role_account'
	| 'typo_domain'
	// DNS
	| 'null_mx'
	| 'domain_not_found'
	| 'no_mail_host'
	| 'dns_timeout'
	| 'dns_servfail'
	| 'dns_error'
	// SMTP
	| 'accepted'
	| 'mailbox_not_found'
	| 'mailbox_disabled'
	| 'catch_all'
	| 'catch_all_unknown'
	| 'mailbox_full'
	| 'greylisted'
	| 'blocked'
	| 'timeout'
	| 'smtp_unreachable'
	| 'port25_blocked'
	| 'refused_private_target'
	| 'no_host_address'
	| 'smtputf8_unsupported'
	| 'mail_from_rejected'
	| 'smtp_temporary'
	| 'smtp_rejected'
	| 'smtp_protocol_error'
	// not decided by a mail server
	| 'smtp_not_checked';

export interface VerificationFlags {
	disposable: boolean;
	role: boolean;
	free: boolean;
}

/** Evidence from the SMTP probe: where it was asked and what it answered. */
export interface SmtpResult {
	/** The MX host that gave the decisive answer (or the last one tried). */
	host?: string;
	ip?: string;
	port?: number;
	/** Basic reply code, enhanced status code (RFC 3463) and text of the decisive reply. */
	code?: number;
	enhanced?: string;
	text?: string;
	/** The session ran over STARTTLS. */
	tls?: boolean;
	/** The domain also accepted a random local part; absent when that could not be determined. */
	catchAll?: boolean;
}

export interface Verification {
	status: VerificationStatus;
	category: VerificationCategory;
	reason: VerificationReason;
	/** A human sentence that explains the reason. */
	detail: string;
	/** The address with its domain lower-cased and in A-labels, when the syntax allowed it. */
	normalized?: string;
	/** A likely intended address when the domain looks like a misspelt provider. */
	suggestion?: string;
	flags: VerificationFlags;
	/** Mail hosts by preference (the domain itself for an implicit MX). */
	mx?: string[];
	/** The mail server's decisive answer, when one was asked. */
	smtp?: SmtpResult;
	/** Set on the second and later occurrences of an address in one batch. */
	duplicate?: true;
	checkedAt: string;
}

export const CATEGORY_OF_STATUS: Readonly<Record<VerificationStatus, VerificationCategory>> = {
	valid: 'valid',
	invalid: 'invalid',
	disposable: 'disposable',
	spamtrap: 'risky',
	role_account: 'risky',
	risky: 'risky',
	catch_all: 'catch_all',
	unknown: 'unknown',
};
