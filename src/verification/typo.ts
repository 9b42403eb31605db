// Typo suggestions for the mailbox providers most lists are made of. A domain one keystroke
// away from a major provider ("gmial.com", "hotmail.con") is rarely a real mail domain of its own:
// it is either a typing mistake or a domain registered to catch such mistakes (a trap).

/** Major consumer providers: a domain on this list is never "corrected". */
const PROVIDERS = [
	'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.es',
	'yahoo.it', 'yahoo.ca', 'yahoo.co.in', 'yahoo.com.br', 'ymail.com', 'rocketmail.com',
	'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'hotmail.de', 'hotmail.es', 'hotmail.it',
	'outlook.com', 'outlook.fr', 'outlook.de', 'live.com', 'live.co.uk', 'live.fr', 'msn.com',
	'icloud.com', 'me.com', 'mac.com', 'aol.com', 'aim.com', 'comcast.net', 'verizon.net',
	'att.net', 'sbcglobal.net', 'bellsouth.net', 'cox.net', 'charter.net', 'earthlink.net',
	'protonmail.com', 'proton.me', 'pm.me', 'tutanota.com', 'zoho.com', 'fastmail.com',
	'gmx.com', 'gmx.de', 'gmx.net', 'gmx.at', 'web.de', 't-online.de', 'freenet.de', 'mail.com',
	'yandex.ru', 'yandex.com', 'mail.ru', 'bk.ru', 'inbox.ru', 'list.ru', 'rambler.ru',
	'orange.fr', 'wanadoo.fr', 'free.fr', 'sfr.fr', 'laposte.net', 'libero.it', 'virgilio.it',
	'btinternet.com', 'sky.com', 'virginmedia.com', 'ntlworld.com', 'shaw.ca', 'rogers.com',
	'sympatico.ca', 'bigpond.com', 'optusnet.com.au', 'qq.com', '163.com', '126.com', 'naver.com',
	'hanmail.net', 'rediffmail.com', 'uol.com.br', 'bol.com.br', 'terra.com.br', 'seznam.cz',
	'wp.pl', 'o2.pl', 'onet.pl', 'interia.pl',
];
const PROVIDER_SET = new Set(PROVIDERS);

/** Misspelt top-level domains that do not exist, and what they almost always meant. */
const TLD_TYPOS: Readonly<Record<string, string>> = {
	con: 'com', cmo: 'com', ocm: 'com', vom: 'com', xom: 'com', cpm: 'com', comm: 'com',
	coom: 'com', copm: 'com', clm: 'com', cim: 'com', ckm: 'com', c0m: 'com',
	nte: 'net', nett: 'net', ner: 'net', met: 'net',
	ogr: 'org', orgg: 'org', prg: 'org',
};

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), capped. */
function editDistance(a: string, b: string, cap: number): number {
	if (Math.abs(a.length - b.length) > cap) return cap + 1;
	let prevPrev: number[] = [];
	let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
	for (let i = 1; i <= a.length; i++) {
		const row = [i];
		let rowMin = i;
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			let value = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				value = Math.min(value, prevPrev[j - 2] + 1);
			}
			row.push(value);
			rowMin = Math.min(rowMin, value);
		}
		if (rowMin > cap) return cap + 1;
		prevPrev = prev;
		prev = row;
	}
	return prev[b.length];
}

export interface DomainSuggestion {
	domain: string;
	/** True when the suggestion is a major provider: the given domain then looks like a trap. */
	provider: boolean;
}

/** Name labels shorter than this are never fuzzily matched: "ge.com" is not a slip of "me.com". */
const MIN_FUZZY_NAME = 5;

function nameLength(domain: string): number {
	return domain.split('.', 1)[0].length;
}

const FUZZY_PROVIDERS = PROVIDERS.filter((p) => nameLength(p) >= MIN_FUZZY_NAME);

/**
 * Suggests the domain the writer probably meant, or undefined. `domain` is lower-case A-labels;
 * `isKnownDomain` names real domains (e.g. a free-provider list) that must never be "corrected".
 */
export function suggestDomain(
	domain: string,
	isKnownDomain: (domain: string) => boolean = () => false,
): DomainSuggestion | undefined {
	if (PROVIDER_SET.has(domain)) return undefined;
	const labels = domain.split('.');
	const fixedTld = TLD_TYPOS[labels[labels.length - 1]];
	const candidate = fixedTld ? [...labels.slice(0, -1), fixedTld].join('.') : domain;
	if (PROVIDER_SET.has(candidate)) return { domain: candidate, provider: true };
	if (fixedTld === undefined && isKnownDomain(domain)) return undefined;

	// One slip (a wrong, missing, extra or swapped character) from exactly one provider.
	if (nameLength(candidate) >= MIN_FUZZY_NAME - 1) {
		const matches = FUZZY_PROVIDERS.filter((p) => editDistance(candidate, p, 1) <= 1);
		if (matches.length === 1) return { domain: matches[0], provider: true };
	}
	return fixedTld ? { domain: candidate, provider: false } : undefined;
}
