// Benchmark: SMTP verification in a simulated mail world on loopback. A world process serves DNS
// and one SMTP server per MX host (port 25 of 127.1.x.y, every reply 50 ms after its command);
// our engine and deep-email-validator each verify the same list, in a process of their own, at the
// same concurrency. Prints throughput, sessions per host, MX lookups per domain, peak RSS,
// agreement with the world's truth and the latency lower bound; asserts nothing.
//
//   npm run bench:smtp                                        10,000 addresses, both verifiers
//   npm run bench:smtp -- --addresses 100000 --only ours      the memory run
//   options: --addresses N --domains N --hosts N --concurrency C --latency MS --slow-extra MS
//            --seed N --only ours|deep --connect-timeout MS --command-timeout MS
// Needs root (port 25). See bench/README.md for the world and the formulas.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import {
	buildWorld,
	defaultParams,
	perAddressBound,
	sessionBound,
	TRUTHS,
	type HostKind,
	type World,
	type WorldParams,
} from './smtp/model';
import type { RunnerInput, RunnerMessage, RunnerResult } from './smtp/runner';
import type { HostStats } from './smtp/server';
import type { DnsStats, WorldReply, WorldRequest } from './smtp/world-process';

/** deep-email-validator's socket timeout (src/smtp/smtp.ts: 10 s of inactivity), fixed in its code. */
const DEEP_TIMEOUT_MS = 10_000;

interface Options {
	params: WorldParams;
	concurrency: number;
	only?: 'ours' | 'deep';
	connectTimeoutMs: number;
	commandTimeoutMs: number;
	recipientsPerTransaction: number;
}

function parseArgs(argv: string[]): Options {
	const flags = new Map<string, string>();
	for (let i = 0; i < argv.length; i++) {
		const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
		if (!match) fail(`unexpected argument ${argv[i]}`);
		flags.set(match[1], match[2] ?? argv[++i] ?? '');
	}
	const number = (name: string, fallback: number) => {
		if (!flags.has(name)) return fallback;
		const value = Number(flags.get(name));
		if (!Number.isFinite(value) || value < 0) fail(`--${name} needs a number, got "${flags.get(name)}"`);
		flags.delete(name);
		return value;
	};
	const addresses = number('addresses', 10_000);
	const base = defaultParams(addresses);
	const domains = number('domains', base.domains);
	const params: WorldParams = {
		...base,
		domains,
		hosts: number('hosts', Math.max(10, Math.round(domains * 0.3))),
		latencyMs: number('latency', base.latencyMs),
		slowExtraMs: number('slow-extra', base.slowExtraMs),
		seed: number('seed', base.seed),
	};
	let only = flags.get('only') as Options['only'];
	flags.delete('only');
	if (only !== undefined && only !== 'ours' && only !== 'deep') fail('--only takes ours or deep');
	if (only === undefined && addresses > 20_000) {
		only = 'ours';
		note(`${addresses.toLocaleString('en')} addresses: running our engine alone (deep-email-validator would take too long; --only deep to force it).`);
	}
	const options: Options = {
		params,
		concurrency: number('concurrency', 20),
		only,
		connectTimeoutMs: number('connect-timeout', 2_000),
		commandTimeoutMs: number('command-timeout', 5_000),
		recipientsPerTransaction: number('recipients', 20),
	};
	if (flags.size > 0) fail(`unknown option --${[...flags.keys()][0]}`);
	return options;
}

function note(text: string) {
	process.stdout.write(`${text}\n`);
}

function fail(text: string): never {
	process.stderr.write(`bench:smtp: ${text}\n`);
	process.exit(2);
}

// --- the child processes -----------------------------------------------------------------------

function spawn(file: string, arg: unknown): ChildProcess {
	// The same loader as this process (tsx), so that the children run TypeScript too.
	return fork(join(__dirname, 'smtp', file), [JSON.stringify(arg)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

class WorldProcess {
	private constructor(
		private readonly child: ChildProcess,
		readonly dns: string,
	) {}

	static start(params: WorldParams): Promise<WorldProcess> {
		const child = spawn('world-process.ts', params);
		return new Promise((resolve, reject) => {
			child.once('message', (message: WorldReply) => {
				if (message.type === 'ready') resolve(new WorldProcess(child, message.dns));
				else reject(new Error(message.type === 'error' ? message.message : `unexpected ${message.type}`));
			});
			child.once('exit', (code) => reject(new Error(`the world process exited (${code}) before it was ready`)));
		});
	}

	private ask<T extends WorldReply['type']>(request: WorldRequest, answer: T): Promise<Extract<WorldReply, { type: T }>> {
		return new Promise((resolve) => {
			const onMessage = (message: WorldReply) => {
				if (message.type !== answer) return;
				this.child.off('message', onMessage);
				resolve(message as Extract<WorldReply, { type: T }>);
			};
			this.child.on('message', onMessage);
			this.child.send(request);
		});
	}

	reset() {
		return this.ask({ type: 'reset' }, 'reset');
	}

	stats() {
		return this.ask({ type: 'stats' }, 'stats');
	}

	close(): Promise<void> {
		return new Promise((resolve) => {
			this.child.once('exit', () => resolve());
			this.child.send({ type: 'close' });
		});
	}
}

function runVerifier(input: RunnerInput): Promise<RunnerResult> {
	const child = spawn('runner.ts', input);
	return new Promise((resolve, reject) => {
		let settled = false;
		child.on('message', (message: RunnerMessage) => {
			settled = true;
			if (message.type === 'result') resolve(message);
			else reject(new Error(message.message));
		});
		child.once('exit', (code) => {
			if (!settled) reject(new Error(`the ${input.verifier} runner exited (${code}) without a result`));
		});
	});
}

// --- the report --------------------------------------------------------------------------------

interface Measured {
	result: RunnerResult;
	hosts: HostStats[];
	dns: DnsStats;
}

const int = (n: number) => Math.round(n).toLocaleString('en');
const mb = (bytes: number) => `${int(bytes / 1024 / 1024)} MB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function sessionFigures(world: World, hosts: HostStats[]) {
	const used = hosts.map((h, i) => ({ ...h, host: world.hosts[i] })).filter((h) => h.sessions > 0);
	const sessions = used.reduce((n, h) => n + h.sessions, 0);
	return {
		sessions,
		hostsUsed: used.length,
		perHost: used.length ? sessions / used.length : 0,
		max: Math.max(0, ...used.map((h) => h.sessions)),
		peakOpen: Math.max(0, ...used.map((h) => h.peakOpen)),
		transactions: used.reduce((n, h) => n + h.transactions, 0),
		recipients: used.reduce((n, h) => n + h.recipients, 0),
		tooMany: used.reduce((n, h) => n + h.tooMany, 0),
		roundTrips: used.reduce((n, h) => n + h.roundTrips, 0),
		openMs: used.reduce((n, h) => n + h.openMs, 0),
		/** From the first connection opened to the last one closed. */
		start: Math.min(...used.map((h) => h.firstOpenMs ?? Infinity)),
		end: Math.max(0, ...used.map((h) => h.lastCloseMs ?? 0)),
		over: used.filter((h) => h.sessions > 1),
		used,
	};
}

/** Why a host may see more than one session: it is the backup of a dead primary, or it caps recipients. */
function excuse(world: World, index: number): string {
	const host = world.hosts[index];
	const reasons: string[] = [];
	if (host.kind === 'limit') reasons.push('caps recipients (452)');
	const backupOf = world.domains.filter((d) => {
		const at = d.mx.indexOf(index);
		return at > 0 && d.mx.slice(0, at).every((i) => world.hosts[i].kind === 'refused' || world.hosts[i].kind === 'blackhole');
	});
	if (backupOf.length > 0) reasons.push(`fail-over target for ${backupOf.map((d) => d.name).join(', ')}`);
	return reasons.join('; ');
}

/** The average number of connections open in each whole second from `start` to `end`, run-length coded. */
function openProfile(spans: Array<[number, number]>, start: number, end: number): string[] {
	const seconds = Math.max(1, Math.ceil((end - start) / 1000));
	const open = new Array<number>(seconds).fill(0);
	for (const [from, to] of spans) {
		const first = Math.max(0, Math.floor((from - start) / 1000));
		const last = Math.min(seconds - 1, Math.floor((to - start) / 1000));
		for (let b = first; b <= last; b++) {
			const overlap = Math.min(to, start + (b + 1) * 1000) - Math.max(from, start + b * 1000);
			if (overlap > 0) open[b] += overlap / 1000;
		}
	}
	// Runs of the same figure are written once: "20 x12".
	const runs: string[] = [];
	for (let i = 0; i < seconds; ) {
		const figure = open[i].toFixed(0);
		let j = i + 1;
		while (j < seconds && open[j].toFixed(0) === figure) j++;
		runs.push(j - i > 1 ? `${figure} x${j - i}` : figure);
		i = j;
	}
	return runs;
}

function table(rows: Array<[string, ...string[]]>): string {
	const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
	return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] + 2))).join('').trimEnd()).join('\n');
}

function report(options: Options, world: World, runs: Measured[]) {
	const { params, concurrency } = options;
	const kinds = new Map<HostKind, number>();
	for (const h of world.hosts) kinds.set(h.kind, (kinds.get(h.kind) ?? 0) + 1);
	const catchAll = world.domains.filter((d) => d.kind === 'catch_all').length;
	const lines: string[] = [];
	const out = (text = '') => lines.push(text);

	out(`world        ${int(world.addresses.length)} addresses over ${int(world.domains.length)} domains, ${int(world.hosts.length)} MX hosts: ${[...kinds].map(([k, n]) => `${int(n)} ${k}`).join(', ')}`);
	out(`             ${catchAll} catch-all domains; every reply ${params.latencyMs} ms after its command (slow hosts ${params.latencyMs + params.slowExtraMs} ms); seed ${params.seed}`);
	out(`concurrency  ${concurrency}: ours ${concurrency} SMTP sessions (1 per host), deep-email-validator ${concurrency} validate() calls at once`);
	out(`timeouts     ours: connect ${options.connectTimeoutMs} ms, command and greeting ${options.commandTimeoutMs} ms; deep-email-validator: ${DEEP_TIMEOUT_MS} ms of socket inactivity (fixed)`);
	out();

	// Our engine pipelines MAIL, the RCPTs and RSET where the host offers PIPELINING: one round trip
	// per transaction is its bound; three waits per transaction is shown for comparison.
	const bound = sessionBound(world, {
		concurrency,
		recipientsPerTransaction: options.recipientsPerTransaction,
		greetingTimeoutMs: options.commandTimeoutMs,
		roundTripsPerTransaction: 1,
	});
	const unpipelined = sessionBound(world, {
		concurrency,
		recipientsPerTransaction: options.recipientsPerTransaction,
		greetingTimeoutMs: options.commandTimeoutMs,
		roundTripsPerTransaction: 3,
	});
	const deepBound = perAddressBound(world, concurrency, DEEP_TIMEOUT_MS);

	const header: [string, ...string[]] = ['', ...runs.map((r) => (r.result.verifier === 'ours' ? 'ours' : 'deep-email-validator 0.1.27'))];
	const row = (label: string, f: (m: Measured) => string): [string, ...string[]] => [label, ...runs.map(f)];
	const n = world.addresses.length;
	out(
		table([
			header,
			row('wall time', (m) => `${m.result.seconds.toFixed(2)} s`),
			row('addresses/s', (m) => int(n / m.result.seconds)),
			row('SMTP sessions (server side)', (m) => {
				const s = sessionFigures(world, m.hosts);
				return `${int(s.sessions)} on ${int(s.hostsUsed)} hosts`;
			}),
			row('sessions per MX host', (m) => {
				const s = sessionFigures(world, m.hosts);
				return `${s.perHost.toFixed(2)} mean, ${s.max} max`;
			}),
			row('most sessions open on one host', (m) => String(sessionFigures(world, m.hosts).peakOpen)),
			row('transactions / RCPTs', (m) => {
				const s = sessionFigures(world, m.hosts);
				return `${int(s.transactions)} / ${int(s.recipients)}${s.tooMany ? ` (${s.tooMany} x 452)` : ''}`;
			}),
			row('round trips waited (server side)', (m) => int(sessionFigures(world, m.hosts).roundTrips)),
			row('connections open, on average', (m) => {
				const s = sessionFigures(world, m.hosts);
				return `${(s.openMs / Math.max(1, s.end - s.start)).toFixed(1)} of ${concurrency}`;
			}),
			row('MX lookups per domain', (m) => `${(m.dns.mx / Math.max(1, m.dns.domainsAsked)).toFixed(2)} mean, ${m.dns.maxMxPerDomain} max`),
			row('DNS queries (MX / A / AAAA)', (m) => `${int(m.dns.queries)} (${int(m.dns.mx)} / ${int(m.dns.a)} / ${int(m.dns.aaaa)})`),
			row('peak RSS', (m) => `${mb(m.result.peakRssBytes)} (${mb(m.result.rssBeforeBytes)} before)`),
			row('agreement with the truth', (m) => `${int(m.result.agreement.matched)} / ${int(n)} (${((100 * m.result.agreement.matched) / n).toFixed(1)}%)`),
		]),
	);
	out();
	out('verdicts by true verdict (truth: what the verifier said)');
	for (const m of runs) {
		out(`  ${m.result.verifier}`);
		for (const truth of TRUTHS) {
			const t = m.result.agreement.byTruth[truth];
			if (!t || t.total === 0) continue;
			const said = Object.entries(t.said)
				.sort((a, b) => b[1] - a[1])
				.map(([v, c]) => `${v} ${int(c)}`)
				.join(', ');
			out(`    ${truth.padEnd(10)} ${int(t.total).padStart(6)}: ${said}`);
		}
	}
	out();

	out('lower bounds at this concurrency (bench/README.md)');
	out(
		`  one session per host, greeting + EHLO, then MAIL + RCPTs + RSET pipelined per transaction: ${sec(bound.ms)} = max(${sec(bound.spreadMs)} spread over ${concurrency} sessions, ${sec(bound.longestHostMs)} for the longest host ${bound.longestHost}); ${int(bound.roundTrips)} round trips, ${int(n / (bound.ms / 1000))} addresses/s`,
	);
	out(`  the same with three waits per transaction (MAIL, RCPTs, RSET apart): ${sec(unpipelined.ms)} (${sec(unpipelined.spreadMs)} spread, ${sec(unpipelined.longestHostMs)} longest host)`);
	out(`  one connection per address (greeting, HELO, MAIL, RCPT; ${DEEP_TIMEOUT_MS / 1000} s per blackholed address): ${sec(deepBound)}`);
	out();

	const ours = runs.find((m) => m.result.verifier === 'ours');
	const deep = runs.find((m) => m.result.verifier === 'deep');
	out('ratios');
	if (ours && deep) out(`  throughput ours / deep-email-validator: ${(deep.result.seconds / ours.result.seconds).toFixed(1)}x (target: at least 20x; the bounds above allow ${(deepBound / bound.ms).toFixed(1)}x)`);
	if (deep) out(`  deep-email-validator wall time / its own bound: ${(deep.result.seconds / (deepBound / 1000)).toFixed(2)}x`);
	if (ours) {
		out(`  ours wall time / lower bound: ${(ours.result.seconds / (bound.ms / 1000)).toFixed(2)}x (target: at most 1.5x)`);
		const s = sessionFigures(world, ours.hosts);
		out(`  ours sessions per host: ${s.perHost.toFixed(2)} (target: at most 1.1 fail-over and 452 aside); MX lookups per domain ${(ours.dns.mx / Math.max(1, ours.dns.domainsAsked)).toFixed(2)} (target 1)`);
		out(`  ours peak RSS ${mb(ours.result.peakRssBytes)} for ${int(n)} addresses (target for 100,000: under 300 MB)`);
		const when = (name: string) => {
			const h = s.used.find((u) => u.host.name === name);
			if (!h) return `${name}: no session`;
			const spans = h.spans.map(([from, to]) => `${sec(from - s.start)}-${sec(to - s.start)}`).join(', ');
			return `${h.host.name} (${h.host.kind}, ${int(h.recipients)} RCPTs, ${h.roundTrips} round trips): open ${spans}`;
		};
		const last = [...s.used].sort((a, b) => (b.lastCloseMs ?? 0) - (a.lastCloseMs ?? 0)).slice(0, 3);
		out(`  ours, first connection to last close: ${sec(s.end - s.start)}; round trips ${int(s.roundTrips)} (bound counts ${int(bound.roundTrips)})`);
		out(`  ours, connections open in each second (N xK: K seconds in a row): ${openProfile(s.used.flatMap((h) => h.spans), s.start, s.end).join(', ')}`);
		for (const h of last) out(`  among the last hosts to finish: ${when(h.host.name)}`);
		out(`  longest host of the bound: ${when(bound.longestHost)}`);
		const excused = s.over.filter((h) => excuse(world, h.host.index));
		const unexcused = s.over.filter((h) => !excuse(world, h.host.index));
		const plain = s.used.filter((h) => !excuse(world, h.host.index));
		const plainMean = plain.reduce((n, h) => n + h.sessions, 0) / Math.max(1, plain.length);
		out(
			`  hosts with more than one session of ours: ${s.over.length} (${excused.length} fail-over targets or recipient-capped, ${unexcused.length} without such a reason); ` +
				`sessions per host without them: ${plainMean.toFixed(2)} over ${plain.length} hosts`,
		);
		for (const h of [...unexcused, ...excused.slice(0, 5)]) {
			out(`    ${h.host.name} (${h.host.kind}): ${h.sessions} sessions${excuse(world, h.host.index) ? ` - ${excuse(world, h.host.index)}` : ''}`);
		}
		if (excused.length > 5) out(`    ... and ${excused.length - 5} more fail-over targets or recipient-capped hosts`);
		if (ours.result.summary) out(`  engine summary: ${JSON.stringify(ours.result.summary)}`);
		if (ours.result.reasonCodes) out(`  engine status/reason: ${Object.entries(ours.result.reasonCodes).map(([k, v]) => `${k} ${int(v)}`).join(', ')}`);
	}
	if (deep?.result.reasons) {
		out(`  deep-email-validator outcomes: ${Object.entries(deep.result.reasons).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k || 'valid'} ${int(v)}`).join('; ')}`);
	}
	out('peak RSS: the verifier process (Node, tsx, the verifier, the input list and the world description); DNS and SMTP servers run in another process.');
	process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
	const options = parseArgs(process.argv.slice(2));
	const world = buildWorld(options.params);
	let worldProcess: WorldProcess;
	try {
		worldProcess = await WorldProcess.start(options.params);
	} catch (error) {
		process.stderr.write(`bench:smtp: could not start the simulated world: ${(error as Error).message}\n`);
		process.exit(1);
	}

	const verifiers: Array<'ours' | 'deep'> = options.only ? [options.only] : ['ours', 'deep'];
	const runs: Measured[] = [];
	try {
		for (const verifier of verifiers) {
			await worldProcess.reset();
			note(`running ${verifier === 'ours' ? 'our engine' : 'deep-email-validator'} ...`);
			const result = await runVerifier({
				verifier,
				params: options.params,
				dns: worldProcess.dns,
				concurrency: options.concurrency,
				connectTimeoutMs: options.connectTimeoutMs,
				commandTimeoutMs: options.commandTimeoutMs,
				recipientsPerTransaction: options.recipientsPerTransaction,
			});
			const stats = await worldProcess.stats();
			runs.push({ result, hosts: stats.hosts, dns: stats.dns });
		}
	} catch (error) {
		process.stderr.write(`bench:smtp: ${(error as Error).message}\n`);
		await worldProcess.close();
		process.exit(1);
	}
	await worldProcess.close();
	report(options, world, runs);
}

void main();
