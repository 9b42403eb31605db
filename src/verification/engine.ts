// The verification engine: runs the stages over a whole batch, sharing per-run caches (a domain's
// mail route is looked up once, a repeated address is verified once).
import { classify, type Evidence } from './classify';
import { MailDns, type DnsOptions } from './dns';
import { DomainLists, type ListOptions } from './lists';
import { parseAddress, type SyntaxResult } from './syntax';
import { suggestDomain } from './typo';
import type { Verification, VerificationFlags } from './types';

export interface VerifyOptions {
	dns?: DnsOptions;
	lists?: ListOptions;
	/** Clock for `checkedAt` (tests pin it). */
	now?: () => Date;
}

const NO_FLAGS: VerificationFlags = { disposable: false, role: false, free: false };

export class Verifier {
	private readonly dns: MailDns;
	private readonly lists: DomainLists;
	private readonly now: () => Date;

	constructor(options: VerifyOptions = {}) {
		this.dns = new MailDns(options.dns);
		this.lists = new DomainLists(options.lists);
		this.now = options.now ?? (() => new Date());
	}

	get dnsQueries(): number {
		return this.dns.queries;
	}

	/** Verifies every address; the result array lines up with the input. */
	async verifyBatch(addresses: readonly string[]): Promise<Verification[]> {
		const results: Verification[] = new Array(addresses.length);
		const parsed: SyntaxResult[] = new Array(addresses.length);
		const firstOf: number[] = new Array(addresses.length);
		const firstIndex = new Map<string, number>();
		// Unique, well-formed addresses grouped by domain: a domain's evidence is gathered once.
		const byDomain = new Map<string, number[]>();

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
			if (!syntax.ok) {
				results[index] = this.verdict({ syntax, flags: NO_FLAGS });
				return;
			}
			const group = byDomain.get(syntax.address.domain);
			if (group) group.push(index);
			else byDomain.set(syntax.address.domain, [index]);
		});

		await Promise.all(
			[...byDomain].map(async ([domain, indices]) => {
				const disposable = this.lists.isDisposable(domain);
				const free = this.lists.isFree(domain);
				const typo = suggestDomain(domain, (d) => this.lists.isFree(d));
				const route = await this.dns.route(domain);
				for (const index of indices) {
					const syntax = parsed[index];
					const role = syntax.ok && this.lists.isRole(syntax.address.localPart);
					results[index] = this.verdict({ syntax, flags: { disposable, role, free }, typo, route });
				}
			}),
		);

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
		}
		return result;
	}
}

/** One-shot helper: verifies a batch with fresh caches. */
export function verifyAddresses(addresses: readonly string[], options: VerifyOptions = {}): Promise<Verification[]> {
	return new Verifier(options).verifyBatch(addresses);
}
