// One verifier over the whole world, in a process of its own (its memory figure is its own):
// `ours` is the engine of this package, `deep` is deep-email-validator run with a pool of
// `concurrency` calls at once. Reports wall time, memory, verdicts and agreement with the truth.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createRequire } from 'node:module';

import { buildWorld, TRUTHS, truthOf, type Truth, type WorldParams } from './model';

export interface RunnerInput {
	verifier: 'ours' | 'deep';
	params: WorldParams;
	/** The world's DNS server, `ip:port`. */
	dns: string;
	concurrency: number;
	connectTimeoutMs: number;
	commandTimeoutMs: number;
	recipientsPerTransaction: number;
}

export interface Agreement {
	total: number;
	matched: number;
	/** Per true verdict: how many addresses, and what the verifier said about them. */
	byTruth: Record<string, { total: number; matched: number; said: Record<string, number> }>;
}

export interface RunnerResult {
	type: 'result';
	verifier: RunnerInput['verifier'];
	addresses: number;
	seconds: number;
	rssBeforeBytes: number;
	peakRssBytes: number;
	verdicts: Record<string, number>;
	agreement: Agreement;
	/** deep-email-validator's own outcomes: valid, or the failing check and its reason. */
	reasons?: Record<string, number>;
	/** Our engine's run summary. */
	summary?: unknown;
	/** Our engine: the reason codes per status. */
	reasonCodes?: Record<string, number>;
}

export type RunnerMessage = RunnerResult | { type: 'error'; message: string };

const send = (message: RunnerMessage) =>
	new Promise<void>((resolve) => {
		if (process.send) process.send(message, () => resolve());
		else resolve();
	});

function count(into: Record<string, number>, key: string) {
	into[key] = (into[key] ?? 0) + 1;
}

async function runOurs(input: RunnerInput, addresses: string[]) {
	const { Verifier } = await import('../../src/verification/engine');
	const verifier = new Verifier({
		dns: { servers: [input.dns], timeoutMs: 2_000, concurrency: 32 },
		smtp: {
			port: 25,
			allowPrivateNetworks: true,
			heloName: 'bench.test',
			mailFrom: 'probe@bench.test',
			connectTimeoutMs: input.connectTimeoutMs,
			commandTimeoutMs: input.commandTimeoutMs,
			concurrency: input.concurrency,
			perHostConcurrency: 1,
			recipientsPerTransaction: input.recipientsPerTransaction,
			greylistRetryDelayMs: undefined,
		},
	});
	return async () => {
		const results = await verifier.verifyBatch(addresses);
		const reasonCodes: Record<string, number> = {};
		for (const r of results) count(reasonCodes, `${r.status}/${r.reason}`);
		return { verdicts: results.map((r) => r.status as string), summary: verifier.summary, reasonCodes };
	};
}

/**
 * deep-email-validator resolves the MX with dns.resolveMx (the resolver that dns.setServers sets)
 * and then connects with net.createConnection(25, exchange), which resolves the host name with
 * dns.lookup, i.e. the system resolver. Here the system resolver is the world's DNS server: the
 * lookup below answers from it (A records) in dns.lookup's calling conventions.
 */
function pointSystemResolverAt(server: string) {
	// The module object itself (net reads dns.lookup from it), not an import's copy of its bindings.
	const dns = createRequire(__filename)('node:dns') as typeof import('node:dns');
	dns.setServers([server]);
	const resolver = new dns.Resolver();
	resolver.setServers([server]);
	type Callback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
	const lookup = (hostname: string, options: LookupOptions | number | Callback, callback?: Callback) => {
		const done = (typeof options === 'function' ? options : callback) as Callback;
		const all = typeof options === 'object' && options.all === true;
		resolver.resolve4(hostname, (error, addresses) => {
			if (error || addresses.length === 0) {
				const failure = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
				done(failure, all ? [] : '');
				return;
			}
			if (all) done(null, addresses.map((address) => ({ address, family: 4 })));
			else done(null, addresses[0], 4);
		});
	};
	(dns as unknown as { lookup: typeof lookup }).lookup = lookup;
}

type DeepOutput = { valid: boolean; reason?: string; validators: Record<string, { valid?: boolean; reason?: string } | undefined> };

async function runDeep(input: RunnerInput, addresses: string[]) {
	pointSystemResolverAt(input.dns);
	const { validate } = (await import('deep-email-validator')) as unknown as { validate: (options: object) => Promise<DeepOutput> };
	return async () => {
		const verdicts: string[] = new Array(addresses.length);
		const reasons: Record<string, number> = {};
		let next = 0;
		const worker = async () => {
			for (let i = next++; i < addresses.length; i = next++) {
				const out = await validate({ email: addresses[i], sender: 'probe@bench.test' });
				const why = out.valid ? '' : (out.validators[out.reason ?? '']?.reason ?? '');
				count(reasons, out.valid ? 'valid' : `${out.reason}: ${why}`);
				// The most charitable reading of its answer in our vocabulary.
				verdicts[i] = out.valid
					? 'valid'
					: out.reason !== 'smtp'
						? 'invalid'
						: why === 'Mailbox not found.'
							? 'invalid'
							: why.includes('run out of space')
								? 'risky'
								: 'unknown';
			}
		};
		await Promise.all(Array.from({ length: input.concurrency }, worker));
		return { verdicts, reasons };
	};
}

async function main() {
	process.on('disconnect', () => process.exit(1));
	const input = JSON.parse(process.argv[2]) as RunnerInput;
	const world = buildWorld(input.params);
	const addresses = world.addresses;
	const run = input.verifier === 'ours' ? await runOurs(input, addresses) : await runDeep(input, addresses);

	const rssBeforeBytes = process.memoryUsage().rss;
	const started = process.hrtime.bigint();
	const outcome = await run();
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	// The kernel's high-water mark of this process's resident set (since the process started).
	const peakRssBytes = process.resourceUsage().maxRSS * 1024;

	const verdicts: Record<string, number> = {};
	const agreement: Agreement = { total: addresses.length, matched: 0, byTruth: {} };
	for (const truth of TRUTHS) agreement.byTruth[truth] = { total: 0, matched: 0, said: {} };
	outcome.verdicts.forEach((verdict, i) => {
		count(verdicts, verdict);
		const truth: Truth = truthOf(world, i);
		const row = agreement.byTruth[truth];
		row.total++;
		count(row.said, verdict);
		if (verdict === truth) {
			row.matched++;
			agreement.matched++;
		}
	});
	await send({
		type: 'result',
		verifier: input.verifier,
		addresses: addresses.length,
		seconds,
		rssBeforeBytes,
		peakRssBytes,
		verdicts,
		agreement,
		reasons: 'reasons' in outcome ? outcome.reasons : undefined,
		summary: 'summary' in outcome ? outcome.summary : undefined,
		reasonCodes: 'reasonCodes' in outcome ? outcome.reasonCodes : undefined,
	});
	process.exit(0);
}

main().catch(async (error: unknown) => {
	await send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
	process.exit(1);
});
