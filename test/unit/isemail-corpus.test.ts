// The is_email test corpus (Dominic Sayers, BSD-3-Clause), read from the shared corpora folder and
// never copied into this repository. Every case is run through parseAddress and must agree with the
// policy below: which of is_email's diagnoses an address used in an SMTP envelope may have.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { parseAddress, type SyntaxFailure } from '../../src/verification/syntax';
import { whenAvailable, type Availability } from '../helpers/requirement';

const CORPUS = path.resolve(__dirname, '../../../shared/corpora/isemail/tests.xml');

interface Policy {
	valid: boolean;
	/** For invalid verdicts: the reasons parseAddress may give for this diagnosis. */
	reasons?: readonly SyntaxFailure[];
	why: string;
}

const SYNTAX: readonly SyntaxFailure[] = ['invalid_syntax'];
const SYNTAX_OR_DOMAIN: readonly SyntaxFailure[] = ['invalid_syntax', 'invalid_domain'];
const LITERAL: readonly SyntaxFailure[] = ['domain_literal'];
const NO_CFWS = 'comments and folding white space are not allowed in an SMTP envelope';
const NO_OBSOLETE = 'obsolete (deprecated) forms are not allowed in an SMTP envelope';
const NOT_RFC5322 = 'not an RFC 5322 addr-spec at all';
const NO_LITERAL = 'a domain literal cannot be checked through DNS and would aim the verifier at arbitrary IPs';

/** Every diagnosis in the corpus: is it an address we accept for mail, and why. */
const POLICY: Readonly<Record<string, Policy>> = {
	ISEMAIL_VALID: { valid: true, why: 'valid for mail' },
	ISEMAIL_DNSWARN_NO_MX_RECORD: { valid: true, why: 'syntax is fine; DNS decides later' },
	ISEMAIL_DNSWARN_NO_RECORD: { valid: true, why: 'syntax is fine; DNS decides later' },

	ISEMAIL_RFC5321_TLD: { valid: false, reasons: ['invalid_domain'], why: 'a bare TLD is not a public mail domain' },
	ISEMAIL_RFC5321_TLDNUMERIC: {
		valid: false,
		reasons: ['invalid_domain'],
		why: 'a numeric TLD is an unbracketed IP address, not a public mail domain',
	},
	ISEMAIL_RFC5321_QUOTEDSTRING: {
		valid: false,
		reasons: ['quoted_local_part'],
		why: 'RFC 5321 §4.1.2: avoid quoted local parts; ESPs refuse them on import',
	},
	ISEMAIL_RFC5321_ADDRESSLITERAL: { valid: false, reasons: LITERAL, why: NO_LITERAL },
	ISEMAIL_RFC5321_IPV6DEPRECATED: { valid: false, reasons: LITERAL, why: NO_LITERAL },

	ISEMAIL_CFWS_COMMENT: { valid: false, reasons: SYNTAX, why: NO_CFWS },
	ISEMAIL_CFWS_FWS: { valid: false, reasons: SYNTAX, why: NO_CFWS },

	ISEMAIL_DEPREC_CFWS_NEAR_AT: { valid: false, reasons: SYNTAX, why: NO_OBSOLETE },
	ISEMAIL_DEPREC_COMMENT: { valid: false, reasons: SYNTAX, why: NO_OBSOLETE },
	ISEMAIL_DEPREC_CTEXT: { valid: false, reasons: SYNTAX, why: NO_OBSOLETE },
	ISEMAIL_DEPREC_FWS: { valid: false, reasons: SYNTAX, why: NO_OBSOLETE },
	ISEMAIL_DEPREC_LOCALPART: { valid: false, reasons: SYNTAX, why: NO_OBSOLETE },
	// Obsolete quoted-pair / qtext: control characters inside a quoted string.
	ISEMAIL_DEPREC_QP: { valid: false, reasons: ['invalid_syntax', 'quoted_local_part'], why: NO_OBSOLETE },
	ISEMAIL_DEPREC_QTEXT: { valid: false, reasons: ['invalid_syntax', 'quoted_local_part'], why: NO_OBSOLETE },

	ISEMAIL_RFC5322_DOMAIN: { valid: false, reasons: ['invalid_domain'], why: 'RFC 5322 dot-atom domain, but not LDH labels' },
	ISEMAIL_RFC5322_DOMAIN_TOOLONG: { valid: false, reasons: ['domain_too_long'], why: 'domain over 253 octets' },
	ISEMAIL_RFC5322_LABEL_TOOLONG: { valid: false, reasons: ['invalid_domain'], why: 'domain label over 63 octets' },
	ISEMAIL_RFC5322_LOCAL_TOOLONG: {
		valid: false,
		reasons: ['local_part_too_long', 'quoted_local_part'],
		why: 'local part over 64 octets',
	},
	// is_email's domain limit is 255 octets (wire form), ours 253 characters (text form, RFC 1035 §2.3.4),
	// so a 255-character domain (#40) fails on the domain before the whole address is measured.
	ISEMAIL_RFC5322_TOOLONG: {
		valid: false,
		reasons: ['address_too_long', 'domain_too_long'],
		why: 'address over 254 octets',
	},
	// Domain literals that are not valid RFC 5321 address literals: refused as literals all the same
	// (or as bad syntax when they also hold spaces, controls or comments).
	ISEMAIL_RFC5322_DOMAINLITERAL: { valid: false, reasons: ['domain_literal', 'invalid_syntax'], why: NO_LITERAL },
	ISEMAIL_RFC5322_DOMLIT_OBSDTEXT: { valid: false, reasons: ['domain_literal', 'invalid_syntax'], why: NO_LITERAL },
	ISEMAIL_RFC5322_IPV6_2X2XCOLON: { valid: false, reasons: LITERAL, why: NO_LITERAL },
	ISEMAIL_RFC5322_IPV6_BADCHAR: { valid: false, reasons: LITERAL, why: NO_LITERAL },
	ISEMAIL_RFC5322_IPV6_COLONEND: { valid: false, reasons: LITERAL, why: NO_LITERAL },
	ISEMAIL_RFC5322_IPV6_COLONSTRT: { valid: false, reasons: LITERAL, why: NO_LITERAL },
	ISEMAIL_RFC5322_IPV6_GRPCOUNT: { valid: false, reasons: LITERAL, why: NO_LITERAL },
	ISEMAIL_RFC5322_IPV6_MAXGRPS: { valid: false, reasons: LITERAL, why: NO_LITERAL },

	ISEMAIL_ERR_ATEXT_AFTER_CFWS: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_ATEXT_AFTER_DOMLIT: { valid: false, reasons: ['invalid_syntax', 'domain_literal'], why: NOT_RFC5322 },
	ISEMAIL_ERR_ATEXT_AFTER_QS: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_BACKSLASHEND: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_CONSECUTIVEDOTS: { valid: false, reasons: SYNTAX_OR_DOMAIN, why: NOT_RFC5322 },
	ISEMAIL_ERR_CR_NO_LF: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_DOMAINHYPHENEND: { valid: false, reasons: ['invalid_domain'], why: NOT_RFC5322 },
	ISEMAIL_ERR_DOMAINHYPHENSTART: { valid: false, reasons: ['invalid_domain'], why: NOT_RFC5322 },
	ISEMAIL_ERR_DOT_END: { valid: false, reasons: SYNTAX_OR_DOMAIN, why: NOT_RFC5322 },
	ISEMAIL_ERR_DOT_START: { valid: false, reasons: SYNTAX_OR_DOMAIN, why: NOT_RFC5322 },
	ISEMAIL_ERR_EXPECTING_ATEXT: { valid: false, reasons: SYNTAX_OR_DOMAIN, why: NOT_RFC5322 },
	ISEMAIL_ERR_EXPECTING_CTEXT: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_EXPECTING_DTEXT: { valid: false, reasons: ['invalid_syntax', 'domain_literal'], why: NOT_RFC5322 },
	ISEMAIL_ERR_EXPECTING_QPAIR: { valid: false, reasons: ['invalid_syntax', 'quoted_local_part'], why: NOT_RFC5322 },
	ISEMAIL_ERR_EXPECTING_QTEXT: { valid: false, reasons: ['invalid_syntax', 'quoted_local_part'], why: NOT_RFC5322 },
	ISEMAIL_ERR_FWS_CRLF_END: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_FWS_CRLF_X2: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_NODOMAIN: { valid: false, reasons: ['empty', 'invalid_syntax'], why: NOT_RFC5322 },
	ISEMAIL_ERR_NOLOCALPART: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	ISEMAIL_ERR_UNCLOSEDCOMMENT: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
	// "[...\]" ends in "]": we refuse it as a literal without parsing quoted-pairs inside it.
	ISEMAIL_ERR_UNCLOSEDDOMLIT: { valid: false, reasons: ['invalid_syntax', 'domain_literal'], why: NOT_RFC5322 },
	ISEMAIL_ERR_UNCLOSEDQUOTEDSTR: { valid: false, reasons: SYNTAX, why: NOT_RFC5322 },
};

interface Exception {
	address: string;
	valid: boolean;
	reasons?: readonly SyntaxFailure[];
	why: string;
}

/** Cases whose diagnosis we deliberately do not follow, by corpus id (the address guards against renumbering). */
const EXCEPTIONS: Readonly<Record<string, Exception>> = {
	'5': {
		address: 'test@io',
		valid: false,
		reasons: ['invalid_domain'],
		why: 'is_email calls it valid because the io TLD itself had an MX record; a bare TLD is not a public mail domain (same as #166, test@org)',
	},
	'157': {
		address: ' test@iana.org',
		valid: true,
		why: 'leading white space is trimmed (CSV exports have it); the address itself is fine',
	},
	'158': {
		address: 'test@iana.org ',
		valid: true,
		why: 'trailing white space is trimmed (CSV exports have it); the address itself is fine',
	},
};

interface Case {
	id: string;
	address: string;
	diagnosis: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
	const unescaped = text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
		if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
		if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
		const named = ENTITIES[name];
		if (named === undefined) throw new Error(`Unknown XML entity ${whole} in the is_email corpus.`);
		return named;
	});
	// The corpus's own note 1: U+2400 + n stands for the ASCII control character n (XML cannot hold
	// most of them); U+2421 is the symbol for DEL.
	return unescaped.replace(/[\u2400-\u241f\u2421]/g, (symbol) => {
		const code = symbol.charCodeAt(0);
		return String.fromCharCode(code === 0x2421 ? 0x7f : code - 0x2400);
	});
}

function field(block: string, name: string, id: string): string {
	if (new RegExp(`<${name}\\s*/>`).test(block)) return '';
	const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(block);
	if (!match) throw new Error(`Test ${id} in the is_email corpus has no <${name}>.`);
	return decode(match[1]);
}

function readCorpus(file: string): Case[] {
	const xml = readFileSync(file, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
	const cases: Case[] = [];
	for (const match of xml.matchAll(/<test id="([^"]+)">([\s\S]*?)<\/test>/g)) {
		const [, id, block] = match;
		cases.push({
			id,
			address: field(block, 'address', id),
			diagnosis: field(block, 'diagnosis', id),
		});
	}
	return cases;
}

/** The address in a test name: JSON escapes C0 controls, and DEL and C1 controls are escaped too. */
function show(address: string): string {
	return JSON.stringify(address).replace(/[\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const corpusAvailability: Availability = existsSync(CORPUS) ? { ok: true } : { ok: false, reason: `the shared is_email corpus is not at ${CORPUS} (check out ../shared next to the repository)` };

whenAvailable('is_email corpus suite', corpusAvailability, () => {
	const cases = readCorpus(CORPUS);

	describe('is_email corpus', () => {
		test('the corpus was read', () => {
			expect(cases.length).toBeGreaterThan(100);
			expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
		});

		test('every diagnosis in the corpus has a policy', () => {
			const missing = [...new Set(cases.map((c) => c.diagnosis))].filter((d) => !(d in POLICY)).sort();
			expect(missing).toEqual([]);
		});

		test('every policy names a diagnosis that is in the corpus', () => {
			const seen = new Set(cases.map((c) => c.diagnosis));
			expect(Object.keys(POLICY).filter((d) => !seen.has(d))).toEqual([]);
		});

		test('every exception names a corpus case with the same address', () => {
			const byId = new Map(cases.map((c) => [c.id, c]));
			for (const [id, exception] of Object.entries(EXCEPTIONS)) {
				expect({ id, address: byId.get(id)?.address }).toEqual({ id, address: exception.address });
			}
		});

		test('every exception departs from the policy for its diagnosis (otherwise it is not needed)', () => {
			const byId = new Map(cases.map((c) => [c.id, c]));
			for (const [id, exception] of Object.entries(EXCEPTIONS)) {
				const diagnosis = byId.get(id)?.diagnosis ?? '';
				expect({ id, diagnosis, policyValid: POLICY[diagnosis]?.valid }).toEqual({
					id,
					diagnosis,
					policyValid: !exception.valid,
				});
			}
		});

		test.each(cases.map((c) => [c.id, show(c.address), c.diagnosis, c.address] as const))(
			'#%s %s (%s)',
			(id, shown, diagnosis, address) => {
				const expected = EXCEPTIONS[id] ?? POLICY[diagnosis];
				if (!expected) throw new Error(`No policy for diagnosis ${diagnosis} (test #${id}): add it to POLICY.`);
				const result = parseAddress(address);
				const got = result.ok ? `accepted as ${show(result.address.normalized)}` : `${result.reason}: ${result.detail}`;
				const agrees = result.ok
					? expected.valid
					: !expected.valid && (expected.reasons === undefined || expected.reasons.includes(result.reason));
				if (!agrees) {
					const want = expected.valid ? 'valid' : `invalid (${expected.reasons?.join(' or ') ?? 'any reason'})`;
					throw new Error(`#${id} ${shown}: the policy says ${want}, because ${expected.why}; parseAddress said ${got}`);
				}
				// Nothing with CR, LF or NUL in it may ever be accepted.
				if (/[\r\n\0]/.test(address)) expect(result.ok).toBe(false);
			},
		);
	});
});
