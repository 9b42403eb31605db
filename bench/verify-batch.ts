// Benchmark: one batch of addresses through the verification engine (syntax, lists, typo check,
// DNS), with DNS answered by a loopback server. Prints throughput, DNS queries per domain and peak
// memory; asserts nothing. Run: npm run bench -- [addresses] [domains]
import { Verifier } from '../src/verification/engine';
import { startDnsServer, type DnsZone } from '../test/helpers/dnsServer';

const addresses = Number(process.argv[2] ?? 100_000);
const domains = Number(process.argv[3] ?? 5_000);

// A mixed world: most domains take mail, some are dead, some refuse mail, some are disposable.
function buildWorld() {
	const zone: DnsZone = {};
	const names: string[] = [];
	for (let i = 0; i < domains; i++) {
		const name = `d${i}.bench.test`;
		const kind = i % 20;
		if (kind === 0) zone[name] = { MX: [{ preference: 0, exchange: '.' }] };
		else if (kind === 1) {
			/* absent: NXDOMAIN */
		} else if (kind === 2) zone[name] = { A: ['192.0.2.1'] };
		else zone[name] = { MX: [{ preference: 10, exchange: `mx.${name}` }, { preference: 20, exchange: `mx2.${name}` }] };
		names.push(name);
	}
	for (const disposable of ['mailinator.com', 'yopmail.com', 'guerrillamail.com']) {
		zone[disposable] = { MX: [{ preference: 10, exchange: `mx.${disposable}` }] };
		names.push(disposable);
	}
	const list: string[] = [];
	for (let i = 0; i < addresses; i++) {
		if (i % 25 === 0) list.push(`broken address ${i}`);
		else if (i % 30 === 0 && i > 0) list.push(list[i - 1].toUpperCase()); // a repeat
		else list.push(`${i % 50 === 1 ? 'info' : `user.${i}`}@${names[i % names.length]}`);
	}
	return { zone, list };
}

async function main() {
	const { zone, list } = buildWorld();
	const server = await startDnsServer(zone);
	const rssBefore = process.memoryUsage().rss;
	let peakRss = rssBefore;
	const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

	const verifier = new Verifier({ dns: { servers: [server.address], timeoutMs: 5_000 } });
	const started = process.hrtime.bigint();
	const results = await verifier.verifyBatch(list);
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;

	clearInterval(sampler);
	peakRss = Math.max(peakRss, process.memoryUsage().rss);
	await server.close();

	const byStatus = new Map<string, number>();
	for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
	const uniqueDomains = new Set(server.queries.map((q) => q.name)).size;
	const mxLookups = server.queries.filter((q) => q.type === 'MX').length;
	const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

	const report = [
		`addresses           ${list.length.toLocaleString('en')} over ${uniqueDomains.toLocaleString('en')} domains`,
		`wall time           ${seconds.toFixed(2)} s`,
		`throughput          ${Math.round(list.length / seconds).toLocaleString('en')} addresses/s`,
		`DNS queries         ${server.queries.length.toLocaleString('en')} (${(mxLookups / uniqueDomains).toFixed(2)} MX lookups per domain)`,
		`peak RSS            ${mb(peakRss)} (${mb(rssBefore)} before the batch; includes the in-process DNS server and the input list)`,
		`statuses            ${[...byStatus].map(([s, n]) => `${s} ${n}`).join(', ')}`,
	];
	process.stdout.write(report.join('\n') + '\n');
}

void main();
