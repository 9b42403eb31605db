#!/usr/bin/env node
// Generates the verification data lists from open lists installed as devDependencies, so the
// package ships plain JSON and has no runtime dependency for data. Output:
// src/verification/lists/generated/{disposable,free,role,sources}.json (copied into dist by gulp).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'src/verification/lists/generated');

function packageInfo(name) {
	const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
	return { package: name, version: pkg.version, license: pkg.license, homepage: pkg.homepage ?? pkg.repository?.url };
}

// Domains are compared lower-cased and as A-labels; anything that is not a plausible domain is dropped.
const domainPattern = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;
function cleanDomains(list) {
	return [...new Set(list.map((d) => String(d).trim().toLowerCase()).filter((d) => domainPattern.test(d)))].sort();
}

// Reserved names (RFC 2606 / RFC 6761) are never providers, whatever a list says.
const reserved = /(^|\.)(example\.(com|net|org)|test|invalid|localhost|example)$/;

// Disposable: the community-maintained CC0 disposable-email-domains blocklist (npm mirror).
const disposable = cleanDomains(require('disposable-email-domains-js/dist/dict/disposable_email_blocklist.json'));
const disposableSet = new Set(disposable);

// Free providers: email-providers (ISC). Its "all" list also carries throwaway domains; those are
// disposable, not free, so they are taken out here.
const free = cleanDomains(require('email-providers/all.json')).filter((d) => !disposableSet.has(d) && !reserved.test(d));

// Role local parts: role-based-email-addresses (MIT).
const role = [...new Set(require('role-based-email-addresses').map((r) => String(r).trim().toLowerCase()).filter(Boolean))].sort();

const sources = {
	disposable: { ...packageInfo('disposable-email-domains-js'), upstream: 'disposable-email-domains/disposable-email-domains (CC0-1.0)', count: disposable.length },
	free: { ...packageInfo('email-providers'), count: free.length },
	role: { ...packageInfo('role-based-email-addresses'), count: role.length },
};

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'disposable.json'), JSON.stringify(disposable));
writeFileSync(join(outDir, 'free.json'), JSON.stringify(free));
writeFileSync(join(outDir, 'role.json'), JSON.stringify(role));
writeFileSync(join(outDir, 'sources.json'), JSON.stringify(sources, null, 2) + '\n');
process.stdout.write(`lists: ${disposable.length} disposable, ${free.length} free, ${role.length} role local parts\n`);
