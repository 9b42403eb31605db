import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/** What the List Hygiene operations need: lists, contacts (read, archive, GDPR delete) and the email opt-out. */
const scopes = ['oauth', 'crm.lists.read', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'communication_preferences.write'];

/**
 * Asked for as optional, so every account can connect: the batch unsubscribe scope only Marketing Hub
 * Enterprise can grant; the schema scopes let Tag find or create its contact property.
 */
const optionalScopes = ['communication_preferences.statuses.batch.write', 'crm.schemas.contacts.read', 'crm.schemas.contacts.write'];

/** HubSpot OAuth2 through a public app of your own (authorization code; tokens from the OAuth v3 token endpoint). */
export class ListHygieneHubspotOAuth2Api implements ICredentialType {
	name = 'listHygieneHubspotOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'List Hygiene HubSpot OAuth2 API';

	icon: Icon = { light: 'file:../icons/emailList.svg', dark: 'file:../icons/emailList.dark.svg' };

	documentationUrl = 'https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide';

	properties: INodeProperties[] = [
		{
			displayName: 'Grant Type',
			name: 'grantType',
			type: 'hidden',
			default: 'authorizationCode',
		},
		{
			displayName: 'Authorization URL',
			name: 'authUrl',
			type: 'hidden',
			default: 'https://app.hubspot.com/oauth/authorize',
			required: true,
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			// The v1 token endpoint is deprecated (sunset 2027-02-16); v3 takes the client credentials in the body.
			// With a Base URL Override (a proxy, a sandbox, our tests) tokens are refreshed there too.
			default:
				'={{$self["baseUrl"] ? $self["baseUrl"].replace(/\\/+$/, "") + "/oauth/v3/token" : "https://api.hubapi.com/oauth/v3/token"}}',
			required: true,
		},
		{
			displayName: 'Scope',
			name: 'scope',
			type: 'hidden',
			default: scopes.join(' '),
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: `optional_scope=${encodeURIComponent(optionalScopes.join(' '))}`,
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'hidden',
			default: 'body',
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
}
