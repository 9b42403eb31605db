import { suggestDomain } from '../../src/verification/typo';

describe('suggestDomain', () => {
	it.each([
		['gmaill.com', 'gmail.com'], // extra letter
		['gnail.com', 'gmail.com'], // wrong letter
		['outlok.com', 'outlook.com'], // missing letter
		['yahooo.com', 'yahoo.com'],
		['hotmial.com', 'hotmail.com'], // swapped letters
		['gmail.con', 'gmail.com'], // misspelt TLD
		['hotmial.con', 'hotmail.com'], // both at once
	])('suggests %s -> %s as a provider', (domain, expected) => {
		expect(suggestDomain(domain)).toEqual({ domain: expected, provider: true });
	});

	it('fixes a misspelt TLD of any domain, without calling it a provider', () => {
		expect(suggestDomain('example.con')).toEqual({ domain: 'example.com', provider: false });
		expect(suggestDomain('acme.nte')).toEqual({ domain: 'acme.net', provider: false });
	});

	it.each([
		'gmail.com', 'hotmail.co.uk', 'gmx.de', // providers themselves
		'ge.com', 'jive.com', 'aon.com', 'max.com', // short real names near me.com, live.com, aol.com, mac.com
		'gmx.fr', // two slips from gmx.de
		'example.com', 'company.co', 'bucher.de',
		'shop.om', // .om is Oman, not a typo of .com
	])('leaves %s alone', (domain) => {
		expect(suggestDomain(domain)).toBeUndefined();
	});

	it('never corrects a domain a known-domain list names as real', () => {
		expect(suggestDomain('gamil.com', (d) => d === 'gamil.com')).toBeUndefined();
		expect(suggestDomain('gamil.com')).toEqual({ domain: 'gmail.com', provider: true });
	});

	it('makes no suggestion when two providers are equally close', () => {
		// One slip from both yahoo.com and yahoo.ca: guessing would be wrong half the time.
		expect(suggestDomain('yahoo.co')).toBeUndefined();
	});
});
