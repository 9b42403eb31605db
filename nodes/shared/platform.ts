// What the nodes share about platforms: the Platform selector, the credential choice for each
// platform, the list picker, and an API client for the chosen platform inside an execution.
import {
	NodeOperationError,
	type IExecuteFunctions,
	type ILoadOptionsFunctions,
	type INodeCredentialDescription,
	type INodeListSearchResult,
	type INodeProperties,
	type IPollFunctions,
} from 'n8n-workflow';

import type { ApiClient } from '../../src/http/client';
import { createApiClient, getPlatform, listPlatforms } from '../../src/platforms/registry';
import type { CredentialChoice, Platform } from '../../src/platforms/types';
import { N8nTransport } from './transport';

const authenticationParameter = (platform: Platform) => `${platform.id}Authentication`;

/** Which platforms a node offers (all by default; the trigger offers those it can poll). */
type PlatformFilter = (platform: Platform) => boolean;
const everyPlatform: PlatformFilter = () => true;

/** Platform, and "Authentication" for each platform that has more than one kind of credential. */
export function platformProperties(only: PlatformFilter = everyPlatform): INodeProperties[] {
	const platforms = listPlatforms().filter(only);
	const properties: INodeProperties[] = [
		{
			displayName: 'Platform',
			name: 'platform',
			type: 'options',
			noDataExpression: true,
			options: platforms.map((p) => ({ name: p.name, value: p.id })),
			default: platforms[0]?.id ?? '',
			description: 'The email platform that holds the list',
		},
	];
	for (const platform of platforms.filter((p) => p.credentials.length > 1)) {
		properties.push({
			displayName: 'Authentication',
			name: authenticationParameter(platform),
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: { platform: [platform.id] } },
			options: platform.credentials.map((c) => ({ name: c.displayName, value: c.authentication })),
			default: platform.credentials[0].authentication,
		});
	}
	return properties;
}

/** One credential entry per platform credential type, shown for its platform (and authentication). */
export function platformCredentials(only: PlatformFilter = everyPlatform): INodeCredentialDescription[] {
	return listPlatforms().filter(only).flatMap((platform) =>
		platform.credentials.map((choice) => ({
			name: choice.name,
			required: true,
			displayOptions: {
				show:
					platform.credentials.length > 1
						? { platform: [platform.id], [authenticationParameter(platform)]: [choice.authentication] }
						: { platform: [platform.id] },
			},
		})),
	);
}

type Context = IExecuteFunctions | ILoadOptionsFunctions | IPollFunctions;

/** A node-level parameter (item 0 where the context has items; a trigger has none). */
function nodeParameter(context: Context, name: string): unknown {
	return 'getInputData' in context ? context.getNodeParameter(name, 0) : (context as ILoadOptionsFunctions | IPollFunctions).getNodeParameter(name);
}

function chosenCredential(context: Context, platform: Platform): CredentialChoice {
	if (platform.credentials.length === 1) return platform.credentials[0];
	const authentication = nodeParameter(context, authenticationParameter(platform)) as string;
	return platform.credentials.find((c) => c.authentication === authentication) ?? platform.credentials[0];
}

/** The chosen platform and an API client signed by n8n with the chosen credential. */
export async function platformClient(context: Context): Promise<{ platform: Platform; api: ApiClient }> {
	const id = nodeParameter(context, 'platform');
	let platform: Platform;
	try {
		platform = getPlatform(String(id));
	} catch (error) {
		throw new NodeOperationError(context.getNode(), error as Error, { description: 'Choose a platform from the list.' });
	}
	const credential = chosenCredential(context, platform);
	const fields = await context.getCredentials(credential.name);
	const transport = new N8nTransport(context, credential.name);
	return { platform, api: await createApiClient(platform, fields, transport) };
}

/** The list picker: the platform's lists with their member counts, searchable by name. */
export async function searchLists(this: ILoadOptionsFunctions, filter?: string, paginationToken?: string): Promise<INodeListSearchResult> {
	const { platform, api } = await platformClient(this);
	const { lists, cursor } = await platform.lists(api, { filter, cursor: paginationToken });
	return {
		results: lists.map((list) => ({
			name: list.memberCount === undefined ? list.name : `${list.name} (${list.memberCount.toLocaleString('en')} members)`,
			value: list.id,
		})),
		paginationToken: cursor,
	};
}

export const listLocator: INodeProperties = {
	displayName: 'List',
	name: 'listId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	description: 'The list (audience, segment or list, as the platform calls it)',
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			placeholder: 'Select a list...',
			typeOptions: { searchListMethod: 'searchLists', searchable: true },
		},
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: 'e.g. 4ca5ea3b2c',
		},
	],
};
