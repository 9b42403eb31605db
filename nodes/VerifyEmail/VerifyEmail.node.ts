import {
	NodeConnectionTypes,
	NodeOperationError,
	type ICredentialDataDecryptedObject,
	type ICredentialsDecrypted,
	type ICredentialTestFunctions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeCredentialTestResult,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { DnsConfigError } from '../../src/verification/dns';
import { Verifier } from '../../src/verification/engine';
import { checkSocks5Proxy } from '../../src/verification/smtp/socks5';
import { runWarnings } from '../../src/verification/smtp/summary';
import type { Socks5Proxy } from '../../src/verification/smtp/session';
import { describeType, readField } from '../shared/items';
import { CATEGORY_ORDER } from './categories';
import { OUTPUTS_EXPRESSION, properties } from './description';
import { verifierOptions, type VerifyEmailOptions } from './options';

function proxyFrom(credentials: ICredentialDataDecryptedObject): Socks5Proxy {
	return {
		host: String(credentials.host ?? '').trim(),
		port: Number(credentials.port),
		username: (credentials.username as string) || undefined,
		password: (credentials.password as string) || undefined,
	};
}

export class VerifyEmail implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Verify Email',
		name: 'verifyEmail',
		icon: { light: 'file:../../icons/verifyEmail.svg', dark: 'file:../../icons/verifyEmail.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{"Address in: " + $parameter["emailField"]}}',
		description:
			'Verify email addresses on your own machine: syntax, DNS, disposable and role addresses, and the mailbox over SMTP',
		defaults: { name: 'Verify Email' },
		inputs: [NodeConnectionTypes.Main],
		outputs: OUTPUTS_EXPRESSION,
		usableAsTool: true,
		credentials: [
			{
				name: 'listHygieneSocks5Proxy',
				required: true,
				testedBy: 'socks5ProxyTest',
				displayOptions: { show: { useProxy: [true] } },
			},
		],
		properties,
	};

	methods = {
		credentialTest: {
			async socks5ProxyTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				try {
					await checkSocks5Proxy(proxyFrom(credential.data ?? {}), 10_000);
					return { status: 'OK', message: 'The proxy accepted the connection' };
				} catch (error) {
					return { status: 'Error', message: (error as Error).message };
				}
			},
		},
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const emailField = (this.getNodeParameter('emailField', 0) as string).trim();
		const routeByCategory = this.getNodeParameter('routeByCategory', 0, false) as boolean;
		const options = this.getNodeParameter('options', 0, {}) as VerifyEmailOptions;
		const proxy = (this.getNodeParameter('useProxy', 0, false) as boolean)
			? proxyFrom(await this.getCredentials('listHygieneSocks5Proxy'))
			: undefined;
		const outputField = options.outputField?.trim() || 'verification';

		let verifier: Verifier;
		try {
			verifier = new Verifier(verifierOptions(options, proxy));
		} catch (error) {
			throw new NodeOperationError(this.getNode(), error as Error, {
				description:
					error instanceof DnsConfigError ? 'Fix the DNS Servers or DNS Timeout option.' : 'Check the SMTP options of the node.',
			});
		}

		// Read every address first, so the whole input is verified as one batch.
		const addresses: string[] = [];
		const batchIndex: Array<number | NodeOperationError> = items.map((item, itemIndex) => {
			const value = readField(item.json, emailField);
			const problem =
				value === undefined
					? `Item ${itemIndex + 1} has no field "${emailField}"`
					: typeof value !== 'string'
						? `Item ${itemIndex + 1}: the field "${emailField}" holds ${describeType(value)}, not an email address`
						: value.trim() === ''
							? `Item ${itemIndex + 1}: the field "${emailField}" is empty`
							: undefined;
			if (problem) {
				const seen = Object.keys(item.json).slice(0, 20).join(', ') || 'none';
				return new NodeOperationError(this.getNode(), problem, {
					itemIndex,
					description: `Set "Email Field" to the field that holds the address. Fields on this item: ${seen}.`,
				});
			}
			addresses.push(value as string);
			return addresses.length - 1;
		});

		const firstError = batchIndex.find((entry) => entry instanceof NodeOperationError);
		if (firstError && !this.continueOnFail()) throw firstError;

		const results = await verifier.verifyBatch(addresses);
		// Run-level problems (port 25 closed, our IP blocked) show above the output, not only per item.
		const warnings = runWarnings(verifier.summary);
		for (const warning of warnings) this.logger.warn(`Verify Email: ${warning}`);
		if (warnings.length > 0) {
			this.addExecutionHints?.(...warnings.map((message) => ({ message, type: 'warning' as const, location: 'outputPane' as const })));
		}

		const routeErrors = this.getNode().onError === 'continueErrorOutput';
		const outputs: INodeExecutionData[][] = routeByCategory ? CATEGORY_ORDER.map(() => []) : [[]];
		items.forEach((item, itemIndex) => {
			const entry = batchIndex[itemIndex];
			const pairedItem = { item: itemIndex };
			if (entry instanceof NodeOperationError) {
				// The item keeps its fields either way. n8n sends an item whose JSON is only `error` to the
				// error output of "Continue (using error output)" and merges the input item's fields back
				// in there; on a regular output (Unknown, when routing) the fields travel with the error.
				const json = routeErrors ? { error: entry.message } : { ...item.json, error: entry.message };
				outputs[routeByCategory ? CATEGORY_ORDER.indexOf('unknown') : 0].push({ json, binary: item.binary, pairedItem });
				return;
			}
			const result = results[entry];
			const json: IDataObject = { ...item.json, [outputField]: result as unknown as IDataObject };
			outputs[routeByCategory ? CATEGORY_ORDER.indexOf(result.category) : 0].push({ json, binary: item.binary, pairedItem });
		});
		return outputs;
	}
}
