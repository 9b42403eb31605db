// Mail DNS: where mail for a domain goes (RFC 5321 §5.1). MX records by preference; with no MX,
// the domain's own A/AAAA record is an implicit MX; a lone `MX 0 .` is a null MX (RFC 7505): the
// domain accepts no mail. NXDOMAIN means the domain does not exist. A timeout or SERVFAIL proves
// nothing about the address, so those stay errors for the classifier to call unknown.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

import { createLimiter, type Limiter } from '../util/limit';

export type DnsErrorReason = 'dns_timeout' | 'dns_servfail' | 'dns_error';

export type MailRoute =
	| { kind: 'mx'; hosts: string[] }
	| { kind: 'implicit'; hosts: string[] }
	| { kind: 'null_mx' }
	| { kind: 'nxdomain' }
	| { kind: 'no_mail_host' }
	| { kind: 'error'; reason: DnsErrorReason; code: string };

export interface DnsOptions {
	/** Resolver addresses as `ip` or `ip:port` (`[v6]:port`); the system's resolvers when empty. */
	servers?: readonly string[];
	/** Time allowed for one lookup of one record type, retries included. */
	timeoutMs?: number;
	/** Lookups in flight at once. */
	concurrency?: number;
}

export const DEFAULT_DNS_TIMEOUT_MS = 5_000;
const DEFAULT_DNS_CONCURRENCY = 32;

export class DnsConfigError extends Error {
	override name = 'DnsConfigError';
}

/** Checks `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port` and returns it in the form c-ares takes. */
export function parseDnsServer(value: string): string {
	const text = value.trim();
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
	const hostPort = /^([^:]+):(\d+)$/.exec(text);
	const [host, port] = bracketed
		? [bracketed[1], bracketed[2]]
		: hostPort
			? [hostPort[1], hostPort[2]]
			: [text, undefined];
	const portNumber = port === undefined ? 53 : Number(port);
	if (!isIP(host) || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
		throw new DnsConfigError(
			`DNS server "${value}" is not an IP address with an optional port. ` +
				'Use e.g. 1.1.1.1, 127.0.0.1:5353 or [::1]:53 (host names are not accepted).',
		);
	}
	if (port === undefined) return host;
	return isIP(host) === 6 ? `[${host}]:${portNumber}` : `${host}:${portNumber}`;
}

function errorCode(error: unknown): string {
	return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'UNKNOWN';
}

function asError(code: string): MailRoute {
	if (code === 'ETIMEOUT') return { kind: 'error', reason: 'dns_timeout', code };
	if (code === 'ESERVFAIL') return { kind: 'error', reason: 'dns_servfail', code };
	return { kind: 'error', reason: 'dns_error', code };
}

type Lookup = { records: string[] } | { code: string };

/** A mail host's addresses; `error` when the lookup failed rather than found nothing. */
export interface HostAddresses {
	addresses: string[];
	error?: Extract<MailRoute, { kind: 'error' }>;
}

export class MailDns {
	private readonly resolver: Resolver;
	private readonly limit: Limiter;
	private readonly timeoutMs: number;
	private readonly routes = new Map<string, Promise<MailRoute>>();
	private readonly hosts = new Map<string, Promise<HostAddresses>>();
	/** Queries sent (one per record type per domain), for run summaries and benchmarks. */
	queries = 0;

	constructor(options: DnsOptions = {}) {
		const timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
		if (!Number.isFinite(timeoutMs) || timeoutMs < 1) {
			throw new DnsConfigError(`DNS timeout must be a positive number of milliseconds, got ${timeoutMs}.`);
		}
		this.timeoutMs = timeoutMs;
		// c-ares retries with growing, jittered waits; a second try fits in about half the budget,
		// and our own deadline (see query) makes the budget exact.
		this.resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 4)), tries: 2 });
		const servers = (options.servers ?? []).map((s) => s.trim()).filter(Boolean);
		if (servers.length > 0) this.resolver.setServers(servers.map(parseDnsServer));
		this.limit = createLimiter(options.concurrency ?? DEFAULT_DNS_CONCURRENCY);
	}

	/** The mail route for a lower-case A-label domain; looked up once per instance. */
	route(domain: string): Promise<MailRoute> {
		let route = this.routes.get(domain);
		if (!route) {
			route = this.limit(() => this.lookupRoute(domain));
			this.routes.set(domain, route);
		}
		return route;
	}

	/**
	 * The addresses of a mail host (IPv4 first, then IPv6); looked up once per instance. A host
	 * given as an IP literal (a broken but real-world MX) is returned as it is.
	 */
	hostAddresses(host: string): Promise<HostAddresses> {
		let addresses = this.hosts.get(host);
		if (!addresses) {
			addresses = isIP(host)
				? Promise.resolve({ addresses: [host] })
				: this.limit(async () => {
						const [a, aaaa] = await Promise.all([this.query(host, 'A'), this.query(host, 'AAAA')]);
						const found = [...('records' in a ? a.records : []), ...('records' in aaaa ? aaaa.records : [])];
						if (found.length > 0) return { addresses: found };
						const failed = [a, aaaa].find((r): r is { code: string } => 'code' in r && r.code !== 'ENODATA' && r.code !== 'ENOTFOUND');
						return failed ? { addresses: [], error: asError(failed.code) as Extract<MailRoute, { kind: 'error' }> } : { addresses: [] };
					});
			this.hosts.set(host, addresses);
		}
		return addresses;
	}

	private async query(domain: string, type: 'MX' | 'A' | 'AAAA'): Promise<Lookup> {
		this.queries++;
		let timer: NodeJS.Timeout | undefined;
		const deadline = new Promise<Lookup>((resolve) => {
			timer = setTimeout(() => resolve({ code: 'ETIMEOUT' }), this.timeoutMs);
		});
		try {
			return await Promise.race([this.ask(domain, type), deadline]);
		} finally {
			clearTimeout(timer);
		}
	}

	private async ask(domain: string, type: 'MX' | 'A' | 'AAAA'): Promise<Lookup> {
		try {
			if (type === 'MX') {
				const records = await this.resolver.resolveMx(domain);
				// Equal preferences keep the server's order; RFC 5321 leaves their order to us.
				return {
					records: records
						.slice()
						.sort((a, b) => a.priority - b.priority)
						.map((r) => (r.exchange === '' ? '.' : r.exchange.toLowerCase().replace(/\.$/, ''))),
				};
			}
			return { records: type === 'A' ? await this.resolver.resolve4(domain) : await this.resolver.resolve6(domain) };
		} catch (error) {
			return { code: errorCode(error) };
		}
	}

	private async lookupRoute(domain: string): Promise<MailRoute> {
		const mx = await this.query(domain, 'MX');
		if ('records' in mx && mx.records.length > 0) {
			const hosts = mx.records.filter((h) => h !== '.');
			// A null MX must stand alone (RFC 7505 §3); beside real hosts it is ignored.
			return hosts.length > 0 ? { kind: 'mx', hosts } : { kind: 'null_mx' };
		}
		const code = 'code' in mx ? mx.code : 'ENODATA';
		if (code === 'ENOTFOUND') return { kind: 'nxdomain' };
		if (code !== 'ENODATA') return asError(code);

		const [a, aaaa] = await Promise.all([this.query(domain, 'A'), this.query(domain, 'AAAA')]);
		if (('records' in a && a.records.length > 0) || ('records' in aaaa && aaaa.records.length > 0)) {
			return { kind: 'implicit', hosts: [domain] };
		}
		for (const answer of [a, aaaa]) {
			if ('code' in answer && answer.code !== 'ENODATA' && answer.code !== 'ENOTFOUND') return asError(answer.code);
		}
		if ('code' in a && a.code === 'ENOTFOUND') return { kind: 'nxdomain' };
		return { kind: 'no_mail_host' };
	}
}
