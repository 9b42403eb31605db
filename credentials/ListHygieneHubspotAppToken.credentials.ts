import type { IAuthenticateGeneric, ICredentialTestRequest, ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** A HubSpot private app's access token (Settings › Integrations › Private Apps), sent as a Bearer token. */
export class ListHygieneHubspotAppToken implements ICredentialType {
	name = 'listHygieneHubspotAppToken';

	displayName = 'List Hygiene HubSpot Private App Token';

	icon: Icon = { light: 'file:../icons/emailList.svg', dark: 'file:../icons/emailList.dark.svg' };

	documentationUrl = 'https://developers.hubspot.com/docs/guides/apps/private-apps/overview';

	properties: INodeProperties[] = [
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: 'pat-eu1-…',
			description:
				'The private app’s access token. Give the app the scopes crm.lists.read, crm.objects.contacts.read, crm.objects.contacts.write and communication_preferences.write (communication_preferences.statuses.batch.write, on Marketing Hub Enterprise, unsubscribes 100 contacts a request).',
		},
		{
			displayName: 'Base URL Override',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.hubapi.com',
			description: 'Leave empty for HubSpot’s API. Set it to reach HubSpot through a proxy, or a test server.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.accessToken}}',
			},
		},
	};

	// One contact: proves the token and the contacts read scope, the cheapest call the adapter needs.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl || "https://api.hubapi.com"}}',
			url: '/crm/v3/objects/contacts',
			qs: { limit: 1 },
		},
	};
}
