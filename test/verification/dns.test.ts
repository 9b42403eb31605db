// Mail DNS against a real DNS server on loopback (UDP, real packets).
import { DnsConfigError, MailDns, parseDnsServer } from '../../src/verification/dns';
import { startDnsServer, type TestDnsServer } from '../helpers/dnsServer';

let server: TestDnsServer;

beforeAll(async () => {
	server = await startDnsServer({
		'mx.test': {
			MX: [
				{ preference: 20, exchange: 'backup.mx.test' },
				{ preference: 5, exchange: 'Primary.MX.test' },
				{ preference: 10, exchange: 'second.mx.test' },
			],
		},
		'nullmx.test': { MX: [{ preference: 0, exchange: '.' }] },
		'nullmx-mixed.test': {
			MX: [
				{ preference: 0, exchange: '.' },
				{ preference: 10, exchange: 'real.mx.test' },
			],
		},
		'a-only.test': { A: ['192.0.2.10'] },
		'aaaa-only.test': { AAAA: ['2001:db8::10'] },
		'txt-only.test': {},
		'servfail.test': { rcode: 'SERVFAIL' },
		'refused.test': { rcode: 'REFUSED' },
		'silent.test': { drop: true },
		'a-silent.test': {},
		'slow.test': { MX: [{ preference: 1, exchange: 'mx.slow.test' }], delayMs: 150 },
	});
});

afterAll(() => server.close());

function dns(timeoutMs = 1_500) {
	return new MailDns({ servers: [server.address], timeoutMs });
}

describe('MailDns.route', () => {
	it('orders MX hosts by preference and lower-cases them', async () => {
		await expect(dns().route('mx.test')).resolves.toEqual({
			kind: 'mx',
			hosts: ['primary.mx.test', 'second.mx.test', 'backup.mx.test'],
		});
	});

	it('reads a lone MX 0 . as a null MX (RFC 7505)', async () => {
		await expect(dns().route('nullmx.test')).resolves.toEqual({ kind: 'null_mx' });
	});

	it('ignores a null MX that stands beside real hosts', async () => {
		await expect(dns().route('nullmx-mixed.test')).resolves.toEqual({ kind: 'mx', hosts: ['real.mx.test'] });
	});

	it('falls back to an implicit MX from an A or AAAA record (RFC 5321 §5.1)', async () => {
		await expect(dns().route('a-only.test')).resolves.toEqual({ kind: 'implicit', hosts: ['a-only.test'] });
		await expect(dns().route('aaaa-only.test')).resolves.toEqual({ kind: 'implicit', hosts: ['aaaa-only.test'] });
	});

	it('reports a domain that exists but has no MX, A or AAAA as having no mail host', async () => {
		await expect(dns().route('txt-only.test')).resolves.toEqual({ kind: 'no_mail_host' });
	});

	it('reports NXDOMAIN', async () => {
		await expect(dns().route('does-not-exist.test')).resolves.toEqual({ kind: 'nxdomain' });
	});

	it('keeps SERVFAIL and REFUSED as errors, never as a verdict on the domain', async () => {
		await expect(dns().route('servfail.test')).resolves.toMatchObject({ kind: 'error', reason: 'dns_servfail' });
		await expect(dns().route('refused.test')).resolves.toMatchObject({ kind: 'error', reason: 'dns_error' });
	});

	it('turns a server that never answers into a timeout within the configured budget', async () => {
		const started = Date.now();
		await expect(dns(600).route('silent.test')).resolves.toMatchObject({ kind: 'error', reason: 'dns_timeout' });
		// Generous upper bound: the point is that the lookup ends, not how fast the machine is.
		expect(Date.now() - started).toBeLessThan(3_000);
	});

	it('reports a resolver that is not listening as an error', async () => {
		const closed = await startDnsServer({});
		const address = closed.address;
		await closed.close();
		const route = await new MailDns({ servers: [address], timeoutMs: 600 }).route('mx.test');
		expect(route).toMatchObject({ kind: 'error' });
	});

	it('looks each domain up once per instance, however many callers ask', async () => {
		const resolver = dns();
		const before = server.queries.filter((q) => q.name === 'slow.test').length;
		const routes = await Promise.all(Array.from({ length: 20 }, () => resolver.route('slow.test')));
		expect(new Set(routes.map((r) => JSON.stringify(r))).size).toBe(1);
		expect(server.queries.filter((q) => q.name === 'slow.test').length - before).toBe(1);
		expect(resolver.queries).toBe(1);
	});

	it('asks A and AAAA only when there is no MX', async () => {
		const resolver = dns();
		await resolver.route('mx.test');
		await resolver.route('a-only.test');
		expect(resolver.queries).toBe(1 + 3);
	});
});

describe('parseDnsServer', () => {
	it.each([
		['1.1.1.1', '1.1.1.1'],
		['127.0.0.1:5353', '127.0.0.1:5353'],
		[' 127.0.0.1:53 ', '127.0.0.1:53'],
		['::1', '::1'],
		['[::1]:5353', '[::1]:5353'],
		['[2001:db8::1]', '2001:db8::1'],
	])('accepts %j', (input, expected) => {
		expect(parseDnsServer(input)).toBe(expected);
	});

	it.each(['dns.google', 'localhost:53', '127.0.0.1:0', '127.0.0.1:70000', '1.2.3', '', '127.0.0.1:abc'])(
		'rejects %j with advice',
		(input) => {
			expect(() => parseDnsServer(input)).toThrow(DnsConfigError);
			expect(() => parseDnsServer(input)).toThrow(/IP address with an optional port/);
		},
	);

	it('rejects a bad server when the resolver is created', () => {
		expect(() => new MailDns({ servers: ['resolver.example'] })).toThrow(DnsConfigError);
		expect(() => new MailDns({ timeoutMs: 0 })).toThrow(/positive number/);
	});
});
