// The engine end to end over a real loopback DNS server: every verdict this issue can reach.
import { Verifier, verifyAddresses } from '../../src/verification/engine';
import type { Verification } from '../../src/verification/types';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';

const mx = (host: string) => ({ MX: [{ preference: 10, exchange: host }] });

let server: TestDnsServer;
const fixedNow = () => new Date('2026-11-25T10:00:00.000Z');

beforeAll(async () => {
	server = await startDnsServer({
		'good.test': mx('mx.good.test'),
		'implicit.test': { A: ['192.0.2.7'] },
		'nullmx.test': { MX: [{ preference: 0, exchange: '.' }] },
		'nomail.test': {},
		'servfail.test': { rcode: 'SERVFAIL' },
		'silent.test': { drop: true },
		'mailinator.com': mx('mail.mailinator.com'),
		'sub.mailinator.com': mx('mail.mailinator.com'),
		'gmail.com': mx('gmail-smtp-in.l.google.com'),
		'gmaill.com': mx('mx.gmaill.com'),
		'xn--bcher-kva.test': mx('mx.bucher.test'),
		'throwaway.test': mx('mx.throwaway.test'),
		'partner.test': mx('mx.partner.test'),
	});
});

afterAll(() => server.close());

function verifier(extra: ConstructorParameters<typeof Verifier>[0] = {}) {
	return new Verifier({ dns: { servers: [server.address], timeoutMs: 800 }, now: fixedNow, ...extra });
}

async function verifyOne(address: string, extra?: ConstructorParameters<typeof Verifier>[0]): Promise<Verification> {
	const [result] = await verifier(extra).verifyBatch([address]);
	return result;
}

describe('verdicts', () => {
	it('never calls an address valid without asking its mail server', async () => {
		await expect(verifyOne('ann@good.test')).resolves.toEqual({
			status: 'unknown',
			category: 'unknown',
			reason: 'smtp_not_checked',
			detail: expect.stringContaining('no mail server was asked'),
			normalized: 'ann@good.test',
			flags: { disposable: false, role: false, free: false },
			mx: ['mx.good.test'],
			checkedAt: '2026-11-25T10:00:00.000Z',
		});
	});

	it('uses the domain itself as an implicit mail host', async () => {
		await expect(verifyOne('ann@implicit.test')).resolves.toMatchObject({
			status: 'unknown',
			reason: 'smtp_not_checked',
			mx: ['implicit.test'],
		});
	});

	it.each([
		['bob@nullmx.test', 'null_mx'],
		['bob@missing.test', 'domain_not_found'],
		['bob@nomail.test', 'no_mail_host'],
		['not-an-address', 'invalid_syntax'],
		['"quoted"@good.test', 'quoted_local_part'],
		['a@[192.0.2.1]', 'domain_literal'],
	])('%s is invalid (%s)', async (address, reason) => {
		const result = await verifyOne(address);
		expect(result).toMatchObject({ status: 'invalid', category: 'invalid', reason });
		expect(result.mx).toBeUndefined();
	});

	it.each([
		['bob@servfail.test', 'dns_servfail'],
		['bob@silent.test', 'dns_timeout'],
	])('%s is unknown (%s), never invalid', async (address, reason) => {
		await expect(verifyOne(address)).resolves.toMatchObject({ status: 'unknown', category: 'unknown', reason });
	});

	it('reports a DNS server that refuses connections as unknown', async () => {
		const gone = await startDnsServer({});
		await gone.close();
		const [result] = await new Verifier({ dns: { servers: [gone.address], timeoutMs: 800 } }).verifyBatch(['a@good.test']);
		expect(result).toMatchObject({ status: 'unknown', reason: expect.stringMatching(/^dns_/) });
	});

	it('finds disposable domains and their subdomains', async () => {
		await expect(verifyOne('x@mailinator.com')).resolves.toMatchObject({
			status: 'disposable',
			category: 'disposable',
			reason: 'disposable_domain',
			flags: { disposable: true },
		});
		await expect(verifyOne('x@sub.mailinator.com')).resolves.toMatchObject({ status: 'disposable' });
	});

	it('calls a disposable domain that does not exist invalid: proof beats a list', async () => {
		await expect(verifyOne('x@gone.mailinator.com')).resolves.toMatchObject({
			status: 'invalid',
			reason: 'domain_not_found',
			flags: { disposable: true },
		});
	});

	it('takes the user’s own disposable and never-disposable domains', async () => {
		await expect(verifyOne('x@throwaway.test', { lists: { extraDisposableDomains: ['throwaway.test'] } })).resolves.toMatchObject({
			status: 'disposable',
		});
		await expect(verifyOne('x@mailinator.com', { lists: { neverDisposableDomains: ['mailinator.com'] } })).resolves.toMatchObject({
			status: 'unknown',
			flags: { disposable: false },
		});
	});

	it('marks role accounts (a +tag does not hide them) as risky', async () => {
		await expect(verifyOne('Info+news@good.test')).resolves.toMatchObject({
			status: 'role_account',
			category: 'risky',
			reason: 'role_account',
			flags: { role: true },
		});
	});

	it('flags free providers without judging them', async () => {
		await expect(verifyOne('someone@gmail.com')).resolves.toMatchObject({
			status: 'unknown',
			reason: 'smtp_not_checked',
			flags: { free: true, disposable: false, role: false },
		});
	});

	it('treats a provider look-alike as a trap and suggests the provider', async () => {
		await expect(verifyOne('Ann@gmaill.com')).resolves.toMatchObject({
			status: 'spamtrap',
			category: 'risky',
			reason: 'typo_domain',
			suggestion: 'Ann@gmail.com',
		});
	});

	it('suggests the right TLD for a domain that does not exist', async () => {
		await expect(verifyOne('ann@good.con')).resolves.toMatchObject({
			status: 'invalid',
			reason: 'domain_not_found',
			suggestion: 'ann@good.com',
		});
	});

	it('looks IDN domains up by their A-label', async () => {
		await expect(verifyOne('jürgen@bücher.test')).resolves.toMatchObject({
			status: 'unknown',
			normalized: 'jürgen@xn--bcher-kva.test',
			mx: ['mx.bucher.test'],
		});
		expect(server.queries).toContainEqual({ name: 'xn--bcher-kva.test', type: 'MX' });
	});
});

describe('batches', () => {
	it('keeps input order and verifies each repeated address once, marking the repeats', async () => {
		const v = verifier();
		const before = server.queries.length;
		const results = await v.verifyBatch(['ann@good.test', 'bob@nullmx.test', 'ANN@Good.Test', 'junk', 'ann@good.test', ' junk ']);
		expect(results.map((r) => [r.status, r.duplicate ?? false])).toEqual([
			['unknown', false],
			['invalid', false],
			['unknown', true],
			['invalid', false],
			['unknown', true],
			['invalid', true],
		]);
		expect(results[2].normalized).toBe('ANN@good.test');
		// One MX query per domain: good.test and nullmx.test.
		expect(server.queries.length - before).toBe(2);
		expect(v.dnsQueries).toBe(2);
	});

	it('sends nothing to DNS for addresses whose syntax is wrong', async () => {
		const before = server.queries.length;
		const results = await verifyAddresses(['a@@b.test', 'plainly wrong', 'a@b'], { dns: { servers: [server.address] } });
		expect(results.every((r) => r.status === 'invalid')).toBe(true);
		expect(server.queries.length).toBe(before);
	});

	it('handles an empty batch', async () => {
		await expect(verifier().verifyBatch([])).resolves.toEqual([]);
	});

	it('looks up each of many domains once, concurrency-limited, and answers every address', async () => {
		const zone = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`d${i}.bulk.test`, mx(`mx.d${i}.bulk.test`)]));
		const bulk = await startDnsServer(zone);
		try {
			const addresses = Array.from({ length: 2_000 }, (_, i) => `user${i}@d${i % 200}.bulk.test`);
			const v = new Verifier({ dns: { servers: [bulk.address], concurrency: 8 } });
			const results = await v.verifyBatch(addresses);
			expect(results).toHaveLength(2_000);
			expect(results.every((r) => r.reason === 'smtp_not_checked')).toBe(true);
			expect(bulk.queries).toHaveLength(200);
		} finally {
			await bulk.close();
		}
	});
});
