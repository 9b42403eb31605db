import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { DnsConfigError } from '../../src/verification/dns';
import { Verifier } from '../../src/verification/engine';
import { describeType, readField, splitList } from '../shared/items';

interface VerifyEmailOptions {
	dnsServers?: string;
	dnsTimeoutMs?: number;
	extraDisposableDomains?: string;
	neverDisposableDomains?: string;
	outputField?: string;
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
			'Verify email addresses on your own machine: syntax, DNS mail routes, disposable and role addresses',
		defaults: { name: 'Verify Email' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		usableAsTool: true,
		properties: [
			{
				displayName: 'Email Field',
				name: 'emailField',
				type: 'string',
				default: 'email',
				required: true,
				placeholder: 'email',
				description:
					'Name of the input field that holds the address. Use dots for a nested field, e.g. contact.email.',
			},
			{
				displayName: 'Options',
				name: 'options',
				type: 'collection',
				placeholder: 'Add option',
				default: {},
				options: [
					{
						displayName: 'DNS Servers',
						name: 'dnsServers',
						type: 'string',
						default: '',
						placeholder: '1.1.1.1, 127.0.0.1:5353',
						description:
							'Resolvers to ask, as IP or IP:port, separated by commas. Leave empty to use the resolvers of the machine n8n runs on.',
					},
					{
						displayName: 'DNS Timeout (Ms)',
						name: 'dnsTimeoutMs',
						type: 'number',
						default: 5000,
						typeOptions: { minValue: 100 },
						description:
							'Time allowed for one DNS lookup, retries included. A lookup that times out makes the address Unknown, never Invalid.',
					},
					{
						displayName: 'Extra Disposable Domains',
						name: 'extraDisposableDomains',
						type: 'string',
						default: '',
						placeholder: 'throwaway.example, temp.example',
						description:
							'Domains to treat as disposable on top of the built-in list, separated by commas. Subdomains match too.',
					},
					{
						displayName: 'Never Disposable Domains',
						name: 'neverDisposableDomains',
						type: 'string',
						default: '',
						placeholder: 'partner.example',
						description:
							'Domains never to treat as disposable, even if the built-in list names them, separated by commas',
					},
					{
						displayName: 'Output Field',
						name: 'outputField',
						type: 'string',
						default: 'verification',
						description: 'Name of the field the result is written to',
					},
				],
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const emailField = (this.getNodeParameter('emailField', 0) as string).trim();
		const options = this.getNodeParameter('options', 0, {}) as VerifyEmailOptions;
		const outputField = options.outputField?.trim() || 'verification';

		let verifier: Verifier;
		try {
			verifier = new Verifier({
				dns: { servers: splitList(options.dnsServers), timeoutMs: options.dnsTimeoutMs },
				lists: {
					extraDisposableDomains: splitList(options.extraDisposableDomains),
					neverDisposableDomains: splitList(options.neverDisposableDomains),
				},
			});
		} catch (error) {
			const description =
				error instanceof DnsConfigError ? 'Fix the DNS Servers or DNS Timeout option.' : undefined;
			throw new NodeOperationError(this.getNode(), error as Error, { description });
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
		const routeErrors = this.getNode().onError === 'continueErrorOutput';

		return [
			items.map((item, itemIndex): INodeExecutionData => {
				const entry = batchIndex[itemIndex];
				const pairedItem = { item: itemIndex };
				if (entry instanceof NodeOperationError) {
					// The item keeps its fields either way. n8n sends an item whose JSON is only `error` to the
					// error output of "Continue (using error output)" and merges the input item's fields back
					// in there; on the regular output the fields must travel with the error.
					const json = routeErrors ? { error: entry.message } : { ...item.json, error: entry.message };
					return { json, binary: item.binary, pairedItem };
				}
				const json: IDataObject = { ...item.json, [outputField]: results[entry] as unknown as IDataObject };
				return { json, binary: item.binary, pairedItem };
			}),
		];
	}
}
