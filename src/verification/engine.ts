// The verification engine: runs the stages over a whole batch, sharing per-run caches (a domain's
// mail route is looked up once, a repeated address is verified once, a mail host gets one session
// for all of its domains).
import { classify, type Evidence } from './classify';
import { MailDns, type DnsOptions, type MailRoute } from './dns';
import { DomainLists, type ListOptions } from './lists';
import { parseAddress, type SyntaxResult } from './syntax';
import { SmtpProber, type DomainProbe, type SmtpEvidence, type SmtpOptions, type SmtpRunSummary } from './smtp/prober';
import { suggestDomain, type DomainSuggestion } from './typo';
import type { SmtpResult, Verification, VerificationFlags } from './types';

export interface VerifyOptions {
	dns?: DnsOptions;
	lists?: ListOptions;
	/** Ask the mail servers (SMTP probing); off when absent or false. */
	smtp?: SmtpOptions | false;
	/** Clock for `checkedAt` (tests pin it). */
	now?: () => Date;
	/** Progress: unique addresses settled so far, of all unique addresses in the batch. */
	onProgress?: (settled: number, total: number) => void;
}

const NO_FLAGS: VerificationFlags = { disposable: false, role: false, free: false };

/** What one run did, for summaries and benchmarks. */
export interface RunSummary {
	dnsQueries: number;
	/** Absent when SMTP was not checked. */
	smtp?: SmtpRunSummary;
}

interface DomainFacts {
	disposable: boolean;
	free: boolean;
	typo?: DomainSuggestion;
	route: MailRoute;
}

export class Verifier {
	private readonly dns: MailDns;
	private readonly lists: DomainLists;
	private readonly now: () => Date;
	private readonly smtp: SmtpOptions | undefined;
	private smtpSummary: SmtpRunSummary | undefined;
	private readonly onProgress?: (settled: number, total: number) => void;

	constructor(options: VerifyOptions = {}) {
		this.dns = new MailDns(options.dns);
		this.lists = new DomainLists(options.lists);
		this.now = options.now ?? (() => new Date());
		this.smtp = options.smtp || undefined;
		this.onProgress = options.onProgress;
	}

	get dnsQueries(): number {
		return this.dns.queries;
	}

	/** What the last batch did. */
	get summary(): RunSummary {
		return { dnsQueries: this.dns.queries, smtp: this.smtpSummary };
	}

	/** Verifies every address; the result array lines up with the input. */
	async verifyBatch(addresses: readonly string[]): Promise<Verification[]> {
		const results: Verification[] = new Array(addresses.length);
		const parsed: SyntaxResult[] = new Array(addresses.length);
		const firstOf: number[] = new Array(addresses.length);
		const firstIndex = new Map<string, number>();
		// Unique, well-formed addresses grouped by domain: a domain's evidence is gathered once.
		const byDomain = new Map<string, number[]>();
		const settled = new Set<number>();
		let unique = 0;
		const progress = (indices: Iterable<number>) => {
			if (!this.onProgress) return;
			for (const index of indices) settled.add(index);
			this.onProgress(settled.size, unique);
		};

		addresses.forEach((input, index) => {
			const syntax = (parsed[index] = parseAddress(input));
			// Local parts are compared without case: no mainstream provider distinguishes them.
			const key = syntax.ok
				? `${syntax.address.localPart.toLowerCase()}@${syntax.address.domain}`
				: `\0${input.trim().toLowerCase()}`;
			const first = firstIndex.get(key);
			firstOf[index] = first ?? index;
			if (first !== undefined) return;
			firstIndex.set(key, index);
			unique++;
			if (!syntax.ok) {
				settled.add(index);
				results[index] = this.verdict({ syntax, flags: NO_FLAGS });
				return;
			}
			const group = byDomain.get(syntax.address.domain);
			if (group) group.push(index);
			else byDomain.set(syntax.address.domain, [index]);
		});

		progress([]);
		const facts = new Map<string, DomainFacts>();
		await Promise.all(
			[...byDomain].map(async ([domain, indices]) => {
				const route = await this.dns.route(domain);
				facts.set(domain, {
					disposable: this.lists.isDisposable(domain),
					free: this.lists.isFree(domain),
					typo: suggestDomain(domain, (d) => this.lists.isFree(d)),
					route,
				});
				// Without a mail host to ask (or without SMTP), DNS settles these addresses.
				if (!this.smtp || (route.kind !== 'mx' && route.kind !== 'implicit')) progress(indices);
			}),
		);

		const smtp = this.smtp ? await this.probe(byDomain, facts, parsed, this.onProgress ? (id) => progress([id]) : undefined) : undefined;
		for (const [domain, indices] of byDomain) {
			const { disposable, free, typo, route } = facts.get(domain)!;
			for (const index of indices) {
				const syntax = parsed[index];
				const role = syntax.ok && this.lists.isRole(syntax.address.localPart);
				results[index] = this.verdict({
					syntax,
					flags: { disposable, role, free },
					typo,
					route,
					smtp: smtp?.evidence.get(index),
					port25Blocked: smtp?.summary.port25Blocked,
				});
			}
		}

		// Later occurrences share the first one's verdict, keep their own spelling, and say they repeat.
		for (let index = 0; index < addresses.length; index++) {
			if (firstOf[index] === index) continue;
			const result: Verification = { ...results[firstOf[index]], duplicate: true };
			const syntax = parsed[index];
			if (syntax.ok) {
				result.normalized = syntax.address.normalized;
				if (result.suggestion) result.suggestion = `${syntax.address.localPart}@${result.suggestion.split('@').pop()}`;
			}
			results[index] = result;
		}
		return results;
	}

	/** Asks the mail hosts about every address whose domain has a mail route. */
	private async probe(
		byDomain: Map<string, number[]>,
		facts: Map<string, DomainFacts>,
		parsed: SyntaxResult[],
		onRecord?: (id: number) => void,
	) {
		const probes: DomainProbe[] = [];
		for (const [domain, indices] of byDomain) {
			const { route } = facts.get(domain)!;
			if (route.kind !== 'mx' && route.kind !== 'implicit') continue;
			const recipients = indices.flatMap((id) => {
				const syntax = parsed[id];
				return syntax.ok ? [{ id, address: `${syntax.address.localPart}@${domain}`, smtputf8: syntax.address.smtputf8 }] : [];
			});
			probes.push({ domain, hosts: route.hosts, recipients });
		}
		const prober = new SmtpProber(this.dns, this.smtp, onRecord);
		const evidence = await prober.probe(probes);
		this.smtpSummary = prober.summary;
		return { evidence, summary: prober.summary };
	}

	private verdict(evidence: Evidence): Verification {
		const { syntax, typo, route } = evidence;
		const verdict = classify(evidence);
		const result: Verification = {
			status: verdict.status,
			category: verdict.category,
			reason: verdict.reason,
			detail: verdict.detail,
			flags: evidence.flags,
			checkedAt: this.now().toISOString(),
		};
		if (syntax.ok) {
			result.normalized = syntax.address.normalized;
			if (typo) result.suggestion = `${syntax.address.localPart}@${typo.domain}`;
			if (route?.kind === 'mx' || route?.kind === 'implicit') result.mx = route.hosts;
			if (evidence.smtp) result.smtp = smtpResult(evidence.smtp);
		}
		return result;
	}
}

/** The evidence as results show it: without the prober's internal outcome or empty fields. */
function smtpResult(evidence: SmtpEvidence): SmtpResult {
	const result: SmtpResult = {};
	for (const [key, value] of Object.entries(evidence) as Array<[keyof SmtpEvidence, unknown]>) {
		if (key !== 'outcome' && value !== undefined) (result as Record<string, unknown>)[key] = value;
	}
	return result;
}

/** One-shot helper: verifies a batch with fresh caches. */
export function verifyAddresses(addresses: readonly string[], options: VerifyOptions = {}): Promise<Verification[]> {
	return new Verifier(options).verifyBatch(addresses);
}
