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
		const firstIndex = new Map<string, number>();
		const firstOf: number[] = new Array(addresses.length);
		const parsed: SyntaxResult[] = new Array(addresses.length);
		const pending: Array<Promise<void>> = [];
		const results: Verification[] = new Array(addresses.length);

		addresses.forEach((input, index) => {
			const syntax = (parsed[index] = parseAddress(input));
			// Local parts are compared without case: no mainstream provider distinguishes them.
			const key = syntax.ok
				? `${syntax.address.localPart.toLowerCase()}@${syntax.address.domain}`
				: `\0${input.trim().toLowerCase()}`;
			const first = firstIndex.get(key);
			if (first !== undefined) {
				firstOf[index] = first;
				return;
			}
			firstIndex.set(key, index);
			firstOf[index] = index;
			pending.push(this.verifyOne(input, syntax).then((v) => void (results[index] = v)));
		});
		await Promise.all(pending);

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

	private async verifyOne(input: string, syntax: SyntaxResult): Promise<Verification> {
		const evidence: Evidence = { input, syntax, flags: NO_FLAGS };
		if (syntax.ok) {
			const { domain, localPart } = syntax.address;
			evidence.flags = {
				disposable: this.lists.isDisposable(domain),
				role: this.lists.isRole(localPart),
				free: this.lists.isFree(domain),
			};
			evidence.typo = suggestDomain(domain, (d) => this.lists.isFree(d));
			evidence.route = await this.dns.route(domain);
		}
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
			if (evidence.typo) result.suggestion = `${syntax.address.localPart}@${evidence.typo.domain}`;
			const route = evidence.route;
			if (route?.kind === 'mx' || route?.kind === 'implicit') result.mx = route.hosts;
		}
		return result;
	}
}

/** One-shot helper: verifies a batch with fresh caches. */
export function verifyAddresses(addresses: readonly string[], options: VerifyOptions = {}): Promise<Verification[]> {
	return new Verifier(options).verifyBatch(addresses);
}
