import { parseAddress, type ParsedAddress, type SyntaxFailure, type SyntaxResult } from '../../src/verification/syntax';

function accepted(input: string): ParsedAddress {
	const result = parseAddress(input);
	if (!result.ok) throw new Error(`${JSON.stringify(input)} was refused: ${result.reason}: ${result.detail}`);
	return result.address;
}

function refused(input: string): { reason: SyntaxFailure; detail: string } {
	const result = parseAddress(input);
	if (result.ok) throw new Error(`${JSON.stringify(input)} was accepted as ${result.address.normalized}`);
	return { reason: result.reason, detail: result.detail };
}

function reasonOf(result: SyntaxResult): SyntaxFailure | 'ok' {
	return result.ok ? 'ok' : result.reason;
}

const a = (n: number) => 'a'.repeat(n);

/** Exactly `length` characters of "d" labels (at most 63 each) joined by dots. */
function labels(length: number): string {
	const parts: string[] = [];
	let remaining = length;
	while (remaining > 63) {
		const size = Math.min(63, remaining - 2); // leave room for a dot and a label of at least one
		parts.push('d'.repeat(size));
		remaining -= size + 1;
	}
	parts.push('d'.repeat(remaining));
	return parts.join('.');
}

/** A domain of exactly `length` characters ending in ".com". */
const domainOf = (length: number) => `${labels(length - 4)}.com`;

describe('parseAddress: accepted addresses', () => {
	test('a plain address keeps the local part and lower-cases the domain', () => {
		expect(accepted('John.Doe@Example.COM')).toEqual({
			localPart: 'John.Doe',
			domain: 'example.com',
			unicodeDomain: 'example.com',
			normalized: 'John.Doe@example.com',
			smtputf8: false,
		});
	});

	test.each([
		'a@b.co',
		'first.last@sub.example.co.uk',
		"!#$%&'*+-/=?^_`{|}~@example.com",
		'user+tag@example.com',
		'123@example.com',
		'a@123.com',
		'a@c--n.com',
		'a@iana.co-uk',
		'xn--test@example.com',
		'a@b.c',
		'a@a-b.example',
		'a@x1.y2',
	])('%s', (input) => {
		expect(reasonOf(parseAddress(input))).toBe('ok');
	});

	test.each([
		[' a@b.com', 'a@b.com'],
		['a@b.com  ', 'a@b.com'],
		['\ta@b.com\t', 'a@b.com'],
		['\u00a0a@b.com\u3000', 'a@b.com'],
		['\ufeffa@b.com', 'a@b.com'],
	])('surrounding white space is trimmed: %j', (input, normalized) => {
		expect(accepted(input).normalized).toBe(normalized);
	});
});

describe('parseAddress: internationalised addresses', () => {
	test('an IDN domain becomes A-labels, with the U-label form kept for display', () => {
		expect(accepted('user@bücher.de')).toEqual({
			localPart: 'user',
			domain: 'xn--bcher-kva.de',
			unicodeDomain: 'bücher.de',
			normalized: 'user@xn--bcher-kva.de',
			smtputf8: false,
		});
	});

	test('upper-case U-labels and A-labels are lower-cased', () => {
		expect(accepted('user@BÜCHER.DE').domain).toBe('xn--bcher-kva.de');
		expect(accepted('user@XN--BCHER-KVA.DE')).toMatchObject({ domain: 'xn--bcher-kva.de', unicodeDomain: 'bücher.de' });
	});

	test('a UTF-8 local part needs SMTPUTF8', () => {
		expect(accepted('用户@例子.广告')).toEqual({
			localPart: '用户',
			domain: 'xn--fsqu00a.xn--4rr70v',
			unicodeDomain: '例子.广告',
			normalized: '用户@xn--fsqu00a.xn--4rr70v',
			smtputf8: true,
		});
		expect(accepted('josé@example.com').smtputf8).toBe(true);
		expect(accepted('jose@exämple.com').smtputf8).toBe(false);
	});

	test('an A-label domain stays as it is and is shown in U-labels', () => {
		expect(accepted('test@xn--hxajbheg2az3al.xn--jxalpdlp')).toMatchObject({
			domain: 'xn--hxajbheg2az3al.xn--jxalpdlp',
			unicodeDomain: 'παράδειγμα.δοκιμή',
		});
	});

	test('ideographic full stops separate labels like dots', () => {
		expect(accepted('a@例子。广告').domain).toBe('xn--fsqu00a.xn--4rr70v');
	});

	test('the local part is NFC-normalised', () => {
		const decomposed = 'jose\u0301@example.com'; // e + combining acute accent
		const address = accepted(decomposed);
		expect(address.localPart).toBe('jos\u00e9');
		expect(address.normalized).toBe('jos\u00e9@example.com');
		expect(address.localPart.normalize('NFC')).toBe(address.localPart);
	});

	test('a decomposed domain gives the same A-label as a composed one', () => {
		expect(accepted('a@bu\u0308cher.de').domain).toBe('xn--bcher-kva.de');
	});

	test('an A-label that is not valid punycode is an invalid domain', () => {
		expect(refused('a@xn--zz.com').reason).toBe('invalid_domain');
		expect(refused('a@xn--.com').reason).toBe('invalid_domain');
	});

	test('a broken UTF-16 string (lone surrogate) is refused', () => {
		expect(refused('a\ud800@example.com').reason).toBe('invalid_syntax');
		expect(refused('a@example\udc00.com').reason).toBe('invalid_syntax');
	});

	test('a character outside the BMP counts four octets', () => {
		// 16 × U+1F600 = 64 octets: at the limit; one more ASCII letter is over it.
		const smiles = '\u{1F600}'.repeat(16);
		expect(accepted(`${smiles}@example.com`).smtputf8).toBe(true);
		expect(refused(`${smiles}a@example.com`).reason).toBe('local_part_too_long');
	});
});

describe('parseAddress: empty input', () => {
	test.each(['', '   ', '\t', '\u00a0\ufeff'])('%j', (input) => {
		expect(refused(input).reason).toBe('empty');
	});

	test('a non-string from untyped callers is refused, not thrown on', () => {
		expect(reasonOf(parseAddress(undefined as unknown as string))).toBe('empty');
		expect(reasonOf(parseAddress(null as unknown as string))).toBe('empty');
		expect(reasonOf(parseAddress(42 as unknown as string))).toBe('invalid_syntax');
	});
});

describe('parseAddress: control characters and header injection', () => {
	test.each([
		['CRLF then a second command', 'a@b.com\r\nRCPT TO:<x@y.com>'],
		['CRLF then DATA', 'a@b.com\r\nDATA\r\n'],
		['LF alone', 'a@b.com\nRCPT TO:<x@y.com>'],
		['CR alone', 'a@b.com\rRCPT TO:<x@y.com>'],
		['trailing CRLF', 'a@b.com\r\n'],
		['trailing CR (a Windows line ending)', 'a@b.com\r'],
		['leading LF', '\na@b.com'],
		['NUL at the end', 'a@b.com\0'],
		['NUL in the local part', 'a\0b@c.com'],
		['NUL in the domain', 'a@b\0.com'],
		['CRLF inside the local part', 'a\r\nb@c.com'],
		['CRLF in a quoted local part', '"a\r\nb"@c.com'],
		['BEL', 'a\u0007@b.com'],
		['DEL', 'a\u007f@b.com'],
		['C1 control (NEL)', 'a@b.com\u0085'],
		['C1 control (CSI)', 'a\u009b@b.com'],
		['vertical tab at the end', 'a@b.com\u000b'],
		['tab inside', 'a\tb@c.com'],
	])('%s', (_name, input) => {
		const { reason, detail } = refused(input);
		expect(reason).toBe('invalid_syntax');
		// The detail names the character; it never carries it.
		expect([...detail].filter((ch) => ch.charCodeAt(0) < 0x20 || (ch >= '\u007f' && ch <= '\u009f'))).toEqual([]);
	});

	test('the detail names a CR and where it is', () => {
		expect(refused('a@b.com\r').detail).toBe(
			'The address contains a carriage return (CR, U+000D) at the end; control characters and line breaks are never allowed in an address.',
		);
		expect(refused('a@b.com\r\nRCPT TO:<x@y.com>').detail).toContain('carriage return (CR, U+000D) at position 8');
		expect(refused('\0a@b.com').detail).toContain('NUL character (U+0000) at the start');
	});

	test('no accepted address ever contains CR, LF or NUL', () => {
		const pieces = ['a', '@', 'b.com', '\r', '\n', '\0', ' ', '"', '.', 'é'];
		for (const x of pieces) {
			for (const y of pieces) {
				for (const z of pieces) {
					const input = `a${x}b@c${y}d.com${z}`;
					const result = parseAddress(input);
					if (/[\r\n\0]/.test(input)) expect(reasonOf(result)).not.toBe('ok');
					if (result.ok) expect(result.address.normalized).not.toMatch(/[\r\n\0]/);
				}
			}
		}
	});
});

describe('parseAddress: local part', () => {
	test.each([
		['.a@b.com', 'starts with a dot'],
		['a.@b.com', 'ends with a dot'],
		['a..b@c.com', 'two dots in a row'],
		['a b@c.com', 'a space'],
		['a\u00a0b@c.com', 'a space character (U+00A0)'],
		['a\u2003b@c.com', 'a space character (U+2003)'],
		['a\ufeffb@c.com', 'byte order mark'],
		['a\\b@c.com', '"\\"'],
		['a[b]@c.com', '"["'],
		['a:b@c.com', '":"'],
		['test"text"@c.com', 'quotation mark inside it'],
		['a,b@c.com', 'one address per item'],
		['a;b@c.com', 'one address per item'],
		['mailto:a@b.com', 'mailto:'],
		['@b.com', 'nothing before the "@"'],
		['a', 'has no "@"'],
		['a@b@c.com', 'more than one "@"'],
		['a@', 'nothing after the "@"'],
		['@', 'nothing before the "@"'],
	])('%j is invalid syntax (%s)', (input, fragment) => {
		const { reason, detail } = refused(input);
		expect(reason).toBe('invalid_syntax');
		expect(detail).toContain(fragment);
	});

	test('a local part of exactly 64 characters is accepted; 65 is too long', () => {
		expect(accepted(`${a(64)}@example.com`).localPart).toHaveLength(64);
		expect(refused(`${a(65)}@example.com`)).toEqual({
			reason: 'local_part_too_long',
			detail: 'The local part has 65 characters; the limit is 64.',
		});
		expect(refused(`${a(70)}@example.com`).detail).toBe('The local part has 70 characters; the limit is 64.');
	});

	test('the local part is measured in UTF-8 octets', () => {
		// "é" is two octets: 32 of them are 64 octets, 33 are 66.
		expect(accepted(`${'é'.repeat(32)}@example.com`).smtputf8).toBe(true);
		expect(refused(`${'é'.repeat(33)}@example.com`)).toEqual({
			reason: 'local_part_too_long',
			detail: 'The local part has 66 octets in UTF-8; the limit is 64.',
		});
		// "用" is three octets: 21 of them are 63, plus one ASCII letter is 64; two are 65.
		expect(reasonOf(parseAddress(`${'用'.repeat(21)}a@example.com`))).toBe('ok');
		expect(reasonOf(parseAddress(`${'用'.repeat(21)}ab@example.com`))).toBe('local_part_too_long');
	});
});

describe('parseAddress: quoted local parts, comments, display names', () => {
	test.each(['"a b"@x.com', '"test"@iana.org', '""@iana.org', '"a\\"b"@x.com', '"a@b"@x.com'])(
		'%s is a quoted local part',
		(input) => {
			expect(refused(input).reason).toBe('quoted_local_part');
		},
	);

	test('the detail quotes the local part and says why it is refused', () => {
		expect(refused('"a b"@x.com').detail).toBe(
			'The local part "a b" is written in quotation marks (a quoted string); mail servers and email platforms refuse addresses that need quoting, so this one cannot be used.',
		);
	});

	test.each(['"a@x.com', '"a"b@x.com', '"a".b@x.com', '"a"', '"a"@', '"a\\"@x.com'])(
		'%s is broken quoting, not a quoted local part',
		(input) => {
			expect(refused(input).reason).toBe('invalid_syntax');
		},
	);

	test.each(['(c)a@b.com', 'a(c)@b.com', 'a@(c)b.com', 'a@b.com(c)', 'a@b.com)'])('%s: comments are refused', (input) => {
		const { reason, detail } = refused(input);
		expect(reason).toBe('invalid_syntax');
		expect(detail).toContain('comment');
	});

	test.each(['a @b.com', 'a@ b.com', 'a . b@c.com', 'a@b .com'])('%j: white space around the parts is refused', (input) => {
		expect(refused(input).reason).toBe('invalid_syntax');
	});

	test('a name with an address asks for the address alone', () => {
		expect(refused('John <j@x.com>')).toEqual({
			reason: 'invalid_syntax',
			detail: 'This is a name with an address in angle brackets; give only the address, "j@x.com".',
		});
		expect(refused('"Doe, John" <j@x.com>').detail).toContain('give only the address, "j@x.com"');
		expect(refused('<j@x.com>').detail).toBe('The address is wrapped in angle brackets; give only the address, "j@x.com".');
		expect(refused('j@x.com>').detail).toContain('give only the address');
		expect(refused('<>').reason).toBe('invalid_syntax');
	});
});

describe('parseAddress: domain', () => {
	test.each([
		['a@[1.2.3.4]'],
		['a@[IPv6:2001:db8::1]'],
		['a@[127.0.0.1]'],
		['a@[RFC-5322-domain-literal]'],
	])('%s is a domain literal', (input) => {
		const { reason, detail } = refused(input);
		expect(reason).toBe('domain_literal');
		expect(detail).toContain(input.slice(2));
	});

	test('an unclosed domain literal is bad syntax', () => {
		expect(refused('a@[1.2.3.4').reason).toBe('invalid_syntax');
	});

	test.each([
		['a@com', 'single label'],
		['a@localhost', 'single label'],
		['a@1.2.3.4', 'ends in a number'],
		['a@iana.123', 'ends in a number'],
		['a@123', 'ends in a number'],
		['a@example.0x1f', 'ends in a number'],
		['a@0x7f.0.0.1', 'ends in a number'],
		['a@b.com.', 'trailing dot'],
		['a@.b.com', 'empty label'],
		['a@b..com', 'empty label'],
		['a@-b.com', 'hyphen'],
		['a@b-.com', 'hyphen'],
		['a@b.com-', 'hyphen'],
		['a@b_c.com', '"_"'],
		['a@b*c.com', '"*"'],
		['a@iana/icann.org', '"/"'],
		['a@b.com:25', '":"'],
		['a@%41.com', '"%"'],
		['a@a[1.2.3.4]', '"["'],
		['a@b.com?x', '"?"'],
		['a@b.c_m', '"_"'],
		['a@bü_cher.de', '"_"'],
		['a@b。.com', 'empty label'],
	])('%s is an invalid domain (%s)', (input, fragment) => {
		const { reason, detail } = refused(input);
		expect(reason).toBe('invalid_domain');
		expect(detail).toContain(fragment);
	});

	test('a label of 63 characters is accepted; 64 is an invalid domain', () => {
		expect(accepted(`a@${'l'.repeat(63)}.com`).domain).toBe(`${'l'.repeat(63)}.com`);
		expect(refused(`a@${'l'.repeat(64)}.com`)).toEqual({
			reason: 'invalid_domain',
			detail: `The domain label "${'l'.repeat(60)}…" has 64 characters; the limit is 63.`,
		});
	});

	test('labels are measured in A-label form', () => {
		const label = 'ü'.repeat(58); // 58 characters, but "xn--tda" and 57 × "a" in A-label form
		expect(accepted(`a@${'ü'.repeat(56)}.de`).domain).toBe(`xn--tda${'a'.repeat(55)}.de`);
		const { reason, detail } = refused(`a@${label}.de`);
		expect(reason).toBe('invalid_domain');
		expect(detail).toContain('has 64 characters; the limit is 63.');
	});

	test('a domain of 253 characters is within the domain limit; 254 is over it', () => {
		// With the shortest local part, a 253-character domain already makes a 255-character address.
		expect(refused(`a@${domainOf(253)}`).reason).toBe('address_too_long');
		expect(accepted(`a@${domainOf(252)}`).domain).toHaveLength(252);
		const { reason, detail } = refused(`a@${domainOf(254)}`);
		expect(reason).toBe('domain_too_long');
		expect(detail).toContain('has 254 characters; the limit is 253.');
	});

	test('the domain is measured in A-label form', () => {
		// 10 labels of 20 × "ü" and ".de": 212 characters as given, 272 in A-labels.
		const unicodeLabel = 'ü'.repeat(20); // "xn--tda" and 19 × "a": 26 characters
		const domain = `${Array.from({ length: 10 }, () => unicodeLabel).join('.')}.de`;
		expect(domain).toHaveLength(212);
		const { reason, detail } = refused(`a@${domain}`);
		expect(reason).toBe('domain_too_long');
		expect(detail).toContain('has 272 characters in its ASCII (A-label) form; the limit is 253.');
	});
});

describe('parseAddress: whole address length', () => {
	test('254 characters are accepted; 255 are too long', () => {
		// 64 + 1 + 189 = 254
		const at254 = `${a(64)}@${domainOf(189)}`;
		expect(at254).toHaveLength(254);
		expect(accepted(at254).normalized).toHaveLength(254);
		const at255 = `${a(64)}@${domainOf(190)}`;
		expect(refused(at255)).toEqual({
			reason: 'address_too_long',
			detail: 'The address has 255 characters; the limit is 254.',
		});
	});

	test('the address is measured in octets with the domain in A-labels', () => {
		// 30 × "é" is 60 octets; "bücher.de" is 16 characters as "xn--bcher-kva.de".
		const local = 'é'.repeat(30);
		// 60 + 1 + (176 + 1 + 16) = 254 octets
		expect(accepted(`${local}@${labels(176)}.bücher.de`).domain).toHaveLength(193);
		// 60 + 1 + (177 + 1 + 16) = 255 octets, though the input has only 218 characters
		const input = `${local}@${labels(177)}.bücher.de`;
		expect(input).toHaveLength(218);
		expect(refused(input)).toEqual({
			reason: 'address_too_long',
			detail: 'The address has 255 octets with its domain in ASCII (A-label) form; the limit is 254.',
		});
	});
});

describe('parseAddress: very long input', () => {
	// Throughput is measured in bench/, not here: these only show that huge inputs are refused
	// cleanly (a backtracking or quadratic parser would hit the test timeout).
	test('megabyte-sized inputs are refused with the right reason', () => {
		expect(refused(`${'a'.repeat(1_000_000)}@${'b.'.repeat(500_000)}com`).reason).toBe('local_part_too_long');
		expect(refused(`${'a.'.repeat(500_000)}@b.com`).reason).toBe('invalid_syntax');
		expect(refused(`a@${'b.'.repeat(500_000)}com`).reason).toBe('domain_too_long');
		expect(refused(`a@${'ü.'.repeat(500_000)}com`).reason).toBe('domain_too_long');
		expect(refused(`${'"'.repeat(1_000_000)}`).reason).toBe('invalid_syntax');
		expect(refused(`${'a'.repeat(1_000_000)}`).reason).toBe('invalid_syntax');
		expect(refused(`a@${'-'.repeat(1_000_000)}`).reason).toBe('domain_too_long');
	});
});

describe('parseAddress: details', () => {
	const samples = [
		'',
		'a',
		'a@b.com\r\nRCPT TO:<x@y.com>',
		'John <j@x.com>',
		'"a b"@x.com',
		'(c)a@b.com',
		'a..b@c.com',
		`${a(65)}@example.com`,
		`${a(64)}@${domainOf(190)}`,
		'a@[1.2.3.4]',
		'a@com',
		'a@b_c.com',
		`a@${domainOf(254)}`,
		'a@xn--zz.com',
		'a\ud800@b.com',
	];

	test.each(samples.map((input) => [JSON.stringify(input), input]))('%s: one sentence, no raw controls', (_shown, input) => {
		const { detail } = refused(input);
		expect(detail).toMatch(/^["A-Z].*\.$/);
		expect(detail.split('. ')).toHaveLength(1);
		expect([...detail].filter((ch) => ch < ' ' || (ch >= '\u007f' && ch <= '\u009f'))).toEqual([]);
	});

	test('every reason is reachable', () => {
		const reasons = new Set(samples.map((input) => refused(input).reason));
		expect([...reasons].sort()).toEqual(
			[
				'address_too_long',
				'domain_literal',
				'domain_too_long',
				'empty',
				'invalid_domain',
				'invalid_syntax',
				'local_part_too_long',
				'quoted_local_part',
			].sort(),
		);
	});
});
