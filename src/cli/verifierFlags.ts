// The verification flags shared by `verify` and `clean`, and the Verifier they configure.
import { DnsConfigError } from '../verification/dns';
import { Verifier } from '../verification/engine';
import type { SmtpOptions } from '../verification/smtp/prober';
import { parseProxyUrl, ProxyConfigError } from '../verification/smtp/summary';
import { CliError } from './errors';
import { positiveInteger } from './flags';

export const VERIFIER_FLAGS = {
	'dns-server': { type: 'string', multiple: true },
	'timeout-ms': { type: 'string' },
	'no-smtp': { type: 'boolean' },
	'smtp-port': { type: 'string' },
	helo: { type: 'string' },
	'mail-from': { type: 'string' },
	concurrency: { type: 'string' },
	'per-host': { type: 'string' },
	'greylist-retry': { type: 'string' },
	'allow-private-networks': { type: 'boolean' },
	proxy: { type: 'string' },
} as const;

export const VERIFIER_FLAGS_HELP = `  --dns-server HOST:PORT    DNS resolver to ask (IP with optional port; repeatable)
  --timeout-ms N            time allowed for one DNS lookup or SMTP reply, in ms (default 5000 for
                            DNS, 30000 for SMTP replies)
  --no-smtp                 skip the SMTP check (addresses that pass get reason smtp_not_checked)
  --smtp-port N             port of the mail servers (default 25)
  --helo NAME               name to give in EHLO (default: this machine's host name)
  --mail-from ADDR          envelope sender of the probe (default verify@<helo name>)
  --concurrency N           SMTP sessions open at once (default 16)
  --per-host N              SMTP sessions open at once to one mail host (default 1)
  --greylist-retry SECONDS  probe greylisted addresses once more after this delay
  --allow-private-networks  allow mail hosts on private, loopback and reserved addresses
  --proxy URL               reach mail servers through a SOCKS5 proxy: socks5://user:pass@host:port
`;

function proxyFlag(value: string) {
	try {
		return parseProxyUrl(value);
	} catch (error) {
		if (error instanceof ProxyConfigError) throw new CliError(`--proxy: ${error.message}`, 2);
		throw error;
	}
}

/** A Verifier from the parsed verification flags; a bad flag is a usage error. */
export function verifierFromFlags(values: Record<string, unknown>, onProgress?: (settled: number, total: number) => void): Verifier {
	const integer = (flag: string) => {
		const value = values[flag] as string | undefined;
		return value === undefined ? undefined : positiveInteger(`--${flag}`, value);
	};
	const timeoutMs = integer('timeout-ms');
	const port = integer('smtp-port');
	if (port !== undefined && port > 65535) throw new CliError(`--smtp-port must be between 1 and 65535, not ${port}.`, 2);
	const greylistRetry = integer('greylist-retry');
	const smtp: SmtpOptions | false = values['no-smtp']
		? false
		: {
				port,
				heloName: values.helo as string | undefined,
				mailFrom: values['mail-from'] as string | undefined,
				commandTimeoutMs: timeoutMs,
				concurrency: integer('concurrency'),
				perHostConcurrency: integer('per-host'),
				greylistRetryDelayMs: greylistRetry === undefined ? undefined : greylistRetry * 1000,
				allowPrivateNetworks: values['allow-private-networks'] === true,
				proxy: values.proxy === undefined ? undefined : proxyFlag(values.proxy as string),
			};
	try {
		return new Verifier({ dns: { servers: values['dns-server'] as string[] | undefined, timeoutMs }, smtp, onProgress });
	} catch (error) {
		if (error instanceof DnsConfigError) throw new CliError(`--dns-server: ${error.message}`, 2);
		throw error;
	}
}
