// From the node's options to the verification core's.
import type { VerifyOptions } from '../../src/verification/engine';
import type { Socks5Proxy } from '../../src/verification/smtp/session';
import { splitList } from '../shared/items';

export interface VerifyEmailOptions {
	allowPrivateNetworks?: boolean;
	commandTimeoutMs?: number;
	concurrency?: number;
	connectTimeoutMs?: number;
	dnsServers?: string;
	dnsTimeoutMs?: number;
	extraDisposableDomains?: string;
	greylistRetrySeconds?: number;
	heloName?: string;
	mailFrom?: string;
	neverDisposableDomains?: string;
	outputField?: string;
	perHostConcurrency?: number;
	smtpCheck?: boolean;
	smtpPort?: number;
}

export function verifierOptions(options: VerifyEmailOptions, proxy: Socks5Proxy | undefined): VerifyOptions {
	return {
		dns: { servers: splitList(options.dnsServers), timeoutMs: options.dnsTimeoutMs },
		lists: {
			extraDisposableDomains: splitList(options.extraDisposableDomains),
			neverDisposableDomains: splitList(options.neverDisposableDomains),
		},
		smtp:
			options.smtpCheck === false
				? false
				: {
						port: options.smtpPort,
						heloName: options.heloName?.trim() || undefined,
						mailFrom: options.mailFrom?.trim() || undefined,
						connectTimeoutMs: options.connectTimeoutMs,
						commandTimeoutMs: options.commandTimeoutMs,
						concurrency: options.concurrency,
						perHostConcurrency: options.perHostConcurrency,
						allowPrivateNetworks: options.allowPrivateNetworks === true,
						greylistRetryDelayMs: options.greylistRetrySeconds ? options.greylistRetrySeconds * 1000 : undefined,
						proxy,
					},
	};
}
