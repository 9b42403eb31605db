// The world's own process: the loopback DNS server and the mail hosts, so that the verifier under
// test has its process (and its memory figure) to itself. Driven by the benchmark over IPC.
import { startDnsServer, type DnsZone } from '../../test/helpers/dnsServer';
import { buildWorld, type WorldParams } from './model';
import { startMailHosts, type HostStats, type MailHosts } from './server';

export type WorldRequest = { type: 'reset' } | { type: 'stats' } | { type: 'close' };

export interface DnsStats {
	queries: number;
	mx: number;
	/** Distinct domains of the list asked for MX. */
	domainsAsked: number;
	maxMxPerDomain: number;
	a: number;
	aaaa: number;
}

export type WorldReply =
	| { type: 'ready'; dns: string }
	| { type: 'error'; message: string }
	| { type: 'reset' }
	| { type: 'stats'; hosts: HostStats[]; dns: DnsStats };

const send = (message: WorldReply) => process.send?.(message);

async function main() {
	const params = JSON.parse(process.argv[2]) as WorldParams;
	const world = buildWorld(params);

	const zone: DnsZone = {};
	for (const domain of world.domains) {
		zone[domain.name] = { MX: domain.mx.map((i, k) => ({ preference: 10 * (k + 1), exchange: world.hosts[i].name })) };
	}
	for (const host of world.hosts) zone[host.name] = { A: [host.ip] };

	let hosts: MailHosts;
	try {
		hosts = await startMailHosts(world);
	} catch (error) {
		send({ type: 'error', message: (error as Error).message });
		process.exit(1);
	}
	const dns = await startDnsServer(zone);
	const domainNames = new Set(world.domains.map((d) => d.name));

	process.on('message', async (request: WorldRequest) => {
		if (request.type === 'reset') {
			hosts.reset();
			dns.queries.length = 0;
			send({ type: 'reset' });
		} else if (request.type === 'stats') {
			const mxPerDomain = new Map<string, number>();
			let a = 0;
			let aaaa = 0;
			for (const q of dns.queries) {
				if (q.type === 'MX' && domainNames.has(q.name)) mxPerDomain.set(q.name, (mxPerDomain.get(q.name) ?? 0) + 1);
				else if (q.type === 'A') a++;
				else if (q.type === 'AAAA') aaaa++;
			}
			const mx = [...mxPerDomain.values()].reduce((x, y) => x + y, 0);
			send({
				type: 'stats',
				hosts: hosts.stats,
				dns: { queries: dns.queries.length, mx, domainsAsked: mxPerDomain.size, maxMxPerDomain: Math.max(0, ...mxPerDomain.values()), a, aaaa },
			});
		} else if (request.type === 'close') {
			await hosts.close();
			await dns.close();
			process.exit(0);
		}
	});
	// The benchmark went away (stopped, crashed): so does the world.
	process.on('disconnect', () => process.exit(0));
	send({ type: 'ready', dns: dns.address });
}

void main();
