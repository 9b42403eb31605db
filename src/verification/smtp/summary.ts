// Helpers shared by the node and the CLI around SMTP: the proxy URL form and the warnings a run's
// summary calls for.
import type { RunSummary } from '../engine';
import type { Socks5Proxy } from './session';

export class ProxyConfigError extends Error {
	override name = 'ProxyConfigError';
}

/** Parses `socks5://[user[:password]@]host:port`. The password never appears in an error message. */
export function parseProxyUrl(value: string): Socks5Proxy {
	let url: URL;
	try {
		url = new URL(value.trim());
	} catch {
		throw new ProxyConfigError('The proxy must be a URL like socks5://user:password@proxy.example:1080.');
	}
	if (url.protocol !== 'socks5:' && url.protocol !== 'socks5h:') {
		throw new ProxyConfigError(`Only SOCKS5 proxies are supported (socks5://host:port), not ${url.protocol.replace(/:$/, '')}.`);
	}
	const port = Number(url.port);
	if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
		throw new ProxyConfigError('The proxy URL needs a host and a port, e.g. socks5://proxy.example:1080.');
	}
	const host = url.hostname.replace(/^\[|\]$/g, '');
	return {
		host,
		port,
		username: url.username ? decodeURIComponent(url.username) : undefined,
		password: url.password ? decodeURIComponent(url.password) : undefined,
	};
}

/** Sentences for what went wrong across the whole run, beyond single addresses. */
export function runWarnings(summary: RunSummary): string[] {
	const warnings: string[] = [];
	const smtp = summary.smtp;
	if (!smtp) return warnings;
	if (smtp.port25Blocked) {
		warnings.push(
			`no SMTP connection succeeded although ${smtp.hostsTried} mail hosts were tried: outbound port 25 looks blocked on this machine. ` +
				'Run the verifier where port 25 is open, or use a SOCKS5 proxy.',
		);
	}
	for (const blocked of smtp.blockedHosts) {
		warnings.push(`${blocked.host}${blocked.ip ? ` (${blocked.ip})` : ''} refuses this machine's IP address: ${blocked.reply}`);
	}
	return warnings;
}
