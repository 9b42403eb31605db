// Domain and local-part lists: disposable domains, free providers, role local parts. The data is
// generated at build time (scripts/generate-lists.mjs) and read once, on first use.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cache: { disposable: Set<string>; free: Set<string>; role: Set<string> } | undefined;

function load(name: string): Set<string> {
	const file = join(__dirname, 'generated', `${name}.json`);
	let data: unknown;
	try {
		data = JSON.parse(readFileSync(file, 'utf8'));
	} catch (error) {
		throw new Error(
			`The ${name} list is missing or unreadable at ${file} (${(error as Error).message}). ` +
				'Run `npm run build` (or `npm run gen`) to generate it.',
		);
	}
	if (!Array.isArray(data)) throw new Error(`The ${name} list at ${file} is not a JSON array.`);
	return new Set(data as string[]);
}

function builtIn() {
	cache ??= { disposable: load('disposable'), free: load('free'), role: load('role') };
	return cache;
}

/** The domain itself and each parent domain above it, stopping before the top-level domain. */
export function domainAndParents(domain: string): string[] {
	const labels = domain.split('.');
	const result: string[] = [];
	for (let i = 0; i < labels.length - 1; i++) result.push(labels.slice(i).join('.'));
	return result;
}

function toDomainSet(domains: Iterable<string> | undefined): Set<string> {
	const set = new Set<string>();
	for (const d of domains ?? []) {
		const clean = d.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
		if (clean) set.add(clean);
	}
	return set;
}

export interface ListOptions {
	/** Domains to treat as disposable in addition to the built-in list (parents match too). */
	extraDisposableDomains?: Iterable<string>;
	/** Domains never treated as disposable, even when a built-in list names them. */
	neverDisposableDomains?: Iterable<string>;
}

export class DomainLists {
	private readonly extraDisposable: Set<string>;
	private readonly neverDisposable: Set<string>;

	constructor(options: ListOptions = {}) {
		this.extraDisposable = toDomainSet(options.extraDisposableDomains);
		this.neverDisposable = toDomainSet(options.neverDisposableDomains);
	}

	/** `domain` is lower-case A-label form. */
	isDisposable(domain: string): boolean {
		const { disposable } = builtIn();
		const candidates = domainAndParents(domain);
		if (candidates.some((d) => this.neverDisposable.has(d))) return false;
		return candidates.some((d) => disposable.has(d) || this.extraDisposable.has(d));
	}

	isFree(domain: string): boolean {
		const { free } = builtIn();
		return domainAndParents(domain).some((d) => free.has(d));
	}

	/** Role local parts (info, sales, ...), compared without case and without a +tag. */
	isRole(localPart: string): boolean {
		const base = localPart.toLowerCase().split('+', 1)[0];
		return builtIn().role.has(base);
	}
}
