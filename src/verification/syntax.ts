// Address syntax and normalisation (DESIGN.md §3, "Syntax"): the address as it is used in an SMTP
// envelope (RFC 5321 §4.1.2 Mailbox, RFC 5322 addr-spec without comments, folding whitespace or
// obsolete forms), with UTF-8 local parts (RFC 6531) and internationalised domains in A-labels.
//
// Linear scans over the input, no regular expressions, no per-call tables: this runs on every
// address of a list (100,000 and more per run).
import { domainToASCII, domainToUnicode } from 'node:url';

export type SyntaxFailure =
	| 'empty'
	| 'invalid_syntax'
	| 'local_part_too_long'
	| 'address_too_long'
	| 'invalid_domain'
	| 'domain_too_long'
	| 'quoted_local_part'
	| 'domain_literal';

export interface ParsedAddress {
	/** As given (case kept), Unicode NFC-normalised. */
	localPart: string;
	/** Lower-case A-label (punycode) form, no trailing dot. */
	domain: string;
	/** U-label form, for display. */
	unicodeDomain: string;
	/** `${localPart}@${domain}` */
	normalized: string;
	/** The local part has non-ASCII characters (RFC 6531): only a server offering SMTPUTF8 can take it. */
	smtputf8: boolean;
}

export type SyntaxResult =
	| { ok: true; address: ParsedAddress }
	| { ok: false; reason: SyntaxFailure; detail: string };

/** RFC 5321 §4.5.3.1.1: a local part has at most 64 octets. */
const MAX_LOCAL_OCTETS = 64;
/** RFC 5321 §4.5.3.1.3 path of 256 octets minus the angle brackets. */
const MAX_ADDRESS_OCTETS = 254;
/** RFC 1035 §2.3.4: 255 octets on the wire is 253 characters in text form, without a trailing dot. */
const MAX_DOMAIN_OCTETS = 253;
/** RFC 1035 §2.3.4. */
const MAX_LABEL_OCTETS = 63;
/** How much of an offending part a detail quotes. */
const MAX_QUOTE = 60;

/** ASCII characters allowed in an atom (RFC 5322 §3.2.3 atext), indexed by character code. */
const ATEXT: readonly boolean[] = (() => {
	const table: boolean[] = new Array<boolean>(128).fill(false);
	const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~";
	for (let i = 0; i < allowed.length; i++) table[allowed.charCodeAt(i)] = true;
	return table;
})();

function fail(reason: SyntaxFailure, detail: string): SyntaxResult {
	return { ok: false, reason, detail };
}

/** A part of the input, in quotes, cut short when long. Callers only quote text without controls. */
function quote(text: string): string {
	return text.length > MAX_QUOTE ? `"${text.slice(0, MAX_QUOTE)}…"` : `"${text}"`;
}

function hex(code: number): string {
	return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Characters trimmed from both ends: spaces and tabs, including Unicode space separators and a BOM. */
function isTrimmable(code: number): boolean {
	return (
		code === 0x20 ||
		code === 0x09 ||
		code === 0xa0 ||
		code === 0x1680 ||
		(code >= 0x2000 && code <= 0x200a) ||
		code === 0x2028 ||
		code === 0x2029 ||
		code === 0x202f ||
		code === 0x205f ||
		code === 0x3000 ||
		code === 0xfeff
	);
}

/** C0 controls (which include CR, LF, NUL and TAB), DEL and C1 controls. */
function isControl(code: number): boolean {
	return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

function controlName(code: number): string {
	switch (code) {
		case 0x00:
			return 'a NUL character (U+0000)';
		case 0x09:
			return 'a tab (U+0009)';
		case 0x0a:
			return 'a line feed (LF, U+000A)';
		case 0x0d:
			return 'a carriage return (CR, U+000D)';
		case 0x7f:
			return 'a DEL character (U+007F)';
		default:
			return `a control character (${hex(code)})`;
	}
}

function spaceName(code: number): string {
	if (code === 0x20) return 'a space';
	if (code === 0xfeff) return 'a byte order mark (U+FEFF)';
	return `a space character (${hex(code)})`;
}

function utf8Length(text: string): number {
	let octets = 0;
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (code < 0x80) octets += 1;
		else if (code < 0x800) octets += 2;
		else if (code >= 0xd800 && code <= 0xdbff) {
			// A surrogate pair (well-formedness is checked before lengths are measured).
			octets += 4;
			i++;
		} else octets += 3;
	}
	return octets;
}

function isAscii(text: string): boolean {
	for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
	return true;
}

function isLetterOrDigit(code: number): boolean {
	return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39);
}

function isDigit(code: number): boolean {
	return code >= 0x30 && code <= 0x39;
}

/** Position (1-based) for a human: "at the start", "at the end" or "at position N". */
function where(index: number, length: number): string {
	if (index === 0) return 'at the start';
	if (index === length - 1) return 'at the end';
	return `at position ${index + 1}`;
}

/** The first control character or lone surrogate, as a failure; otherwise undefined. */
function checkCharacters(text: string): SyntaxResult | undefined {
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		if (isControl(code)) {
			return fail(
				'invalid_syntax',
				`The address contains ${controlName(code)} ${where(i, text.length)}; control characters and line breaks are never allowed in an address.`,
			);
		}
		if (code >= 0xd800 && code <= 0xdfff) {
			const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
			if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
				i++;
				continue;
			}
			return fail(
				'invalid_syntax',
				`The address contains a broken Unicode character (lone surrogate ${hex(code)}) ${where(i, text.length)}; it was probably damaged by an export or a conversion.`,
			);
		}
	}
	return undefined;
}

function checkSpaces(text: string): SyntaxResult | undefined {
	for (let i = 0; i < text.length; i++) {
		const code = text.charCodeAt(i);
		// Every white space character that is not a control is trimmable (controls are rejected first).
		if (isTrimmable(code)) {
			return fail(
				'invalid_syntax',
				`The address contains ${spaceName(code)} at position ${i + 1}; an address has no spaces inside it.`,
			);
		}
	}
	return undefined;
}

/** `Name <a@b.com>` or `<a@b.com>`: the address is there, with things around it that are not. */
function checkAngleBrackets(text: string): SyntaxResult | undefined {
	const open = text.indexOf('<');
	const close = text.lastIndexOf('>');
	if (open < 0 && close < 0) return undefined;
	if (open >= 0 && close === text.length - 1 && close > open) {
		const inner = text.slice(open + 1, close).trim();
		if (inner.length > 0 && inner.indexOf('<') < 0 && inner.indexOf('>') < 0) {
			const named = text.slice(0, open).trim().length > 0;
			return fail(
				'invalid_syntax',
				named
					? `This is a name with an address in angle brackets; give only the address, ${quote(inner)}.`
					: `The address is wrapped in angle brackets; give only the address, ${quote(inner)}.`,
			);
		}
	}
	return fail(
		'invalid_syntax',
		'The address contains an angle bracket ("<" or ">"); give only the address, without a name or brackets.',
	);
}

/** The input starts with a quotation mark: a quoted-string local part, or something broken. */
function checkQuoted(text: string): SyntaxResult {
	let i = 1;
	while (i < text.length) {
		const ch = text.charCodeAt(i);
		if (ch === 0x5c /* \ */) i += 2;
		else if (ch === 0x22 /* " */) break;
		else i++;
	}
	if (i >= text.length) {
		return fail('invalid_syntax', 'The address opens a quotation mark that is never closed.');
	}
	if (text.charCodeAt(i + 1) === 0x40 /* @ */ && i + 2 < text.length) {
		return fail(
			'quoted_local_part',
			`The local part ${quote(text.slice(1, i))} is written in quotation marks (a quoted string); mail servers and email platforms refuse addresses that need quoting, so this one cannot be used.`,
		);
	}
	return fail(
		'invalid_syntax',
		`The quoted text ${quote(text.slice(0, i + 1))} is not followed by "@" and a domain; quotation marks may only enclose the whole local part.`,
	);
}

/** The local part as a dot-atom: atext and, for SMTPUTF8, any non-ASCII character; dots only between atoms. */
function checkLocalPart(local: string): SyntaxResult | undefined {
	if (local.charCodeAt(0) === 0x2e) {
		return fail('invalid_syntax', `The local part ${quote(local)} starts with a dot, which is not allowed.`);
	}
	if (local.charCodeAt(local.length - 1) === 0x2e) {
		return fail('invalid_syntax', `The local part ${quote(local)} ends with a dot, which is not allowed.`);
	}
	for (let i = 0; i < local.length; i++) {
		const code = local.charCodeAt(i);
		if (code === 0x2e) {
			if (local.charCodeAt(i + 1) === 0x2e) {
				return fail('invalid_syntax', `The local part ${quote(local)} has two dots in a row, which is not allowed.`);
			}
		} else if (code < 0x80 && !ATEXT[code]) {
			const ch = local[i];
			if (i === 6 && local.slice(0, 7).toLowerCase() === 'mailto:') {
				return fail('invalid_syntax', `The address starts with "mailto:"; give only the address, without the prefix.`);
			}
			if (ch === '"') {
				return fail(
					'invalid_syntax',
					`The local part ${quote(local)} has a quotation mark inside it; quotes may only enclose a whole local part.`,
				);
			}
			if (ch === ',' || ch === ';') {
				return fail(
					'invalid_syntax',
					`The local part ${quote(local)} contains "${ch}"; give one address per item, not a list.`,
				);
			}
			return fail(
				'invalid_syntax',
				`The local part ${quote(local)} contains "${ch}", which is not allowed in an address.`,
			);
		}
	}
	return undefined;
}

/** Labels of an A-label domain: count, lengths, letters-digits-hyphen, numeric top-level domain. */
function checkLabels(ascii: string, shown: string): SyntaxResult | undefined {
	if (ascii.length > MAX_DOMAIN_OCTETS) return domainTooLong(ascii, shown);
	let start = 0;
	let labels = 0;
	let lastAllDigits = false;
	while (start <= ascii.length) {
		let end = ascii.indexOf('.', start);
		if (end < 0) end = ascii.length;
		const length = end - start;
		if (length === 0) {
			return fail('invalid_domain', `The domain ${quote(shown)} has an empty label (two dots in a row, or a dot at one end).`);
		}
		if (length > MAX_LABEL_OCTETS) {
			return fail(
				'invalid_domain',
				`The domain label ${quote(ascii.slice(start, end))} has ${length} characters; the limit is ${MAX_LABEL_OCTETS}.`,
			);
		}
		if (ascii.charCodeAt(start) === 0x2d || ascii.charCodeAt(end - 1) === 0x2d) {
			return fail(
				'invalid_domain',
				`The domain label ${quote(ascii.slice(start, end))} starts or ends with a hyphen, which is not allowed.`,
			);
		}
		let allDigits = true;
		for (let i = start; i < end; i++) {
			const code = ascii.charCodeAt(i);
			if (!isDigit(code)) allDigits = false;
			if (code !== 0x2d && !isLetterOrDigit(code)) {
				return fail(
					'invalid_domain',
					`The domain ${quote(shown)} contains "${ascii[i]}"; a domain has only letters, digits, hyphens and dots.`,
				);
			}
		}
		lastAllDigits = allDigits;
		labels++;
		start = end + 1;
	}
	if (labels < 2) {
		return fail(
			'invalid_domain',
			`The domain ${quote(shown)} has a single label; a mail domain needs at least two, such as "example.com".`,
		);
	}
	if (lastAllDigits) return numericTopLevel(shown);
	return undefined;
}

function domainTooLong(ascii: string, shown: string): SyntaxResult {
	return fail(
		'domain_too_long',
		`The domain ${quote(shown)} has ${ascii.length} characters${isAscii(shown) ? '' : ' in its ASCII (A-label) form'}; the limit is ${MAX_DOMAIN_OCTETS}.`,
	);
}

/**
 * The last label is a number: all digits, or "0x" and hex digits, which URL host parsing (and so
 * domainToASCII) reads as part of an IPv4 address.
 */
function endsInNumber(domain: string): boolean {
	const start = domain.lastIndexOf('.') + 1;
	let i = start;
	const hex = domain.length - start >= 2 && domain.charCodeAt(i) === 0x30 && (domain.charCodeAt(i + 1) | 0x20) === 0x78;
	if (hex) i += 2;
	for (; i < domain.length; i++) {
		const code = domain.charCodeAt(i);
		const lower = code | 0x20;
		if (!isDigit(code) && !(hex && lower >= 0x61 && lower <= 0x66)) return false;
	}
	return true;
}

function numericTopLevel(shown: string): SyntaxResult {
	return fail(
		'invalid_domain',
		`The domain ${quote(shown)} ends in a number, so it is an IP address or a typo, not a mail domain.`,
	);
}

/** The domain after "@": not a literal, converted to lower-case A-labels, then checked label by label. */
function checkDomain(domain: string): { ascii: string; unicode: string } | SyntaxResult {
	if (domain.charCodeAt(0) === 0x5b /* [ */) {
		if (domain.charCodeAt(domain.length - 1) === 0x5d /* ] */) {
			return fail(
				'domain_literal',
				`The domain ${quote(domain)} is a domain literal (an address in square brackets), which cannot be checked through DNS; give the address with a domain name.`,
			);
		}
		return fail('invalid_syntax', `The domain ${quote(domain)} opens a "[" that is never closed.`);
	}
	if (domain.charCodeAt(domain.length - 1) === 0x2e) {
		return fail('invalid_domain', `The domain ${quote(domain)} ends with a dot; remove the trailing dot.`);
	}
	// ASCII characters are checked before the IDNA conversion: domainToASCII parses its input as a URL
	// host, so it would percent-decode "%41" or cut "a/b.com" short at the slash.
	let ascii = true;
	for (let i = 0; i < domain.length; i++) {
		const code = domain.charCodeAt(i);
		if (code > 0x7f) ascii = false;
		else if (code !== 0x2e && code !== 0x2d && !isLetterOrDigit(code)) {
			return fail(
				'invalid_domain',
				`The domain ${quote(domain)} contains "${domain[i]}"; a domain has only letters, digits, hyphens and dots.`,
			);
		}
	}
	// An ASCII domain keeps its length through the conversion, and one whose last label is a number
	// would be read as an IPv4 address by it.
	if (ascii && domain.length > MAX_DOMAIN_OCTETS) return domainTooLong(domain, domain);
	if (ascii && endsInNumber(domain)) return numericTopLevel(domain);
	const converted = domainToASCII(domain).toLowerCase();
	if (converted.length === 0) {
		return fail(
			'invalid_domain',
			ascii
				? `The domain ${quote(domain)} is not a valid domain name.`
				: `The domain ${quote(domain)} is not a valid internationalised domain name.`,
		);
	}
	const bad = checkLabels(converted, domain);
	if (bad) return bad;
	return { ascii: converted, unicode: ascii && !converted.includes('xn--') ? converted : domainToUnicode(converted) };
}

/**
 * Parse and normalise one address for use in an SMTP envelope. Pure; never throws. Leading and
 * trailing spaces, tabs and a byte order mark are trimmed; anything else that is white space or a
 * control character (CR, LF and NUL included, at either end too) makes the address invalid.
 */
export function parseAddress(input: string): SyntaxResult {
	const raw: unknown = input;
	if (raw === null || raw === undefined) return fail('empty', 'There is no address.');
	if (typeof raw !== 'string') return fail('invalid_syntax', `The address is a ${typeof raw}, not text.`);

	let start = 0;
	let end = raw.length;
	while (start < end && isTrimmable(raw.charCodeAt(start))) start++;
	while (end > start && isTrimmable(raw.charCodeAt(end - 1))) end--;
	if (start === end) {
		return fail('empty', raw.length === 0 ? 'The address is empty.' : 'The address has only white space in it.');
	}
	const trimmed = start === 0 && end === raw.length ? raw : raw.slice(start, end);

	const badCharacter = checkCharacters(trimmed);
	if (badCharacter) return badCharacter;

	const text = isAscii(trimmed) ? trimmed : trimmed.normalize('NFC');

	const brackets = checkAngleBrackets(text);
	if (brackets) return brackets;
	if (text.charCodeAt(0) === 0x22 /* " */) return checkQuoted(text);

	const space = checkSpaces(text);
	if (space) return space;
	if (text.includes('(') || text.includes(')')) {
		return fail('invalid_syntax', 'The address contains a comment in parentheses; give only the address itself.');
	}

	const at = text.indexOf('@');
	if (at < 0) {
		return fail('invalid_syntax', `${quote(text)} has no "@"; an address looks like name@example.com.`);
	}
	if (text.indexOf('@', at + 1) >= 0) {
		return fail('invalid_syntax', `${quote(text)} has more than one "@"; an address has exactly one.`);
	}
	const local = text.slice(0, at);
	const domain = text.slice(at + 1);
	if (local.length === 0) return fail('invalid_syntax', 'The address has nothing before the "@".');
	if (domain.length === 0) {
		return fail('invalid_syntax', 'The address has nothing after the "@"; it needs a domain such as example.com.');
	}

	const badLocal = checkLocalPart(local);
	if (badLocal) return badLocal;
	const localOctets = utf8Length(local);
	if (localOctets > MAX_LOCAL_OCTETS) {
		return fail(
			'local_part_too_long',
			localOctets === local.length
				? `The local part has ${localOctets} characters; the limit is ${MAX_LOCAL_OCTETS}.`
				: `The local part has ${localOctets} octets in UTF-8; the limit is ${MAX_LOCAL_OCTETS}.`,
		);
	}

	const checked = checkDomain(domain);
	if ('ok' in checked) return checked;

	const total = localOctets + 1 + checked.ascii.length;
	if (total > MAX_ADDRESS_OCTETS) {
		return fail(
			'address_too_long',
			`The address has ${total} ${localOctets === local.length ? 'characters' : 'octets'}${isAscii(domain) ? '' : ' with its domain in ASCII (A-label) form'}; the limit is ${MAX_ADDRESS_OCTETS}.`,
		);
	}

	return {
		ok: true,
		address: {
			localPart: local,
			domain: checked.ascii,
			unicodeDomain: checked.unicode,
			normalized: `${local}@${checked.ascii}`,
			smtputf8: localOctets !== local.length,
		},
	};
}
