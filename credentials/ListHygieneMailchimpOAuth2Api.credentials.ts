import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * Mailchimp OAuth2 through an app registered in your Mailchimp account (authorization code).
 * Mailchimp's tokens do not expire; the account's data centre is read from its metadata endpoint.
 */
export class ListHygieneMailchimpOAuth2Api implements ICredentialType {
	name = 'listHygieneMailchimpOAuth2Api';

	extends = ['oAuth2Api'];

	displayName = 'List Hygiene Mailchimp OAuth2 API';

	icon: Icon = { light: 'file:../icons/emailList.svg', dark: 'file:../icons/emailList.dark.svg' };

	documentationUrl = 'https://mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/';

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
			default: 'https://login.mailchimp.com/oauth2/authorize',
			required: true,
		},
		{
			displayName: 'Access Token URL',
			name: 'accessTokenUrl',
			type: 'hidden',
			default: 'https://login.mailchimp.com/oauth2/token',
			required: true,
		},
		{
			// Mailchimp has no scopes: a token can do what its user's role allows.
			displayName: 'Scope',
			name: 'scope',
			type: 'hidden',
			default: '',
		},
		{
			displayName: 'Auth URI Query Parameters',
			name: 'authQueryParameters',
			type: 'hidden',
			default: '',
		},
		{
			// The token request carries the client id and secret in its body.
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
			placeholder: 'https://us6.api.mailchimp.com/3.0',
			description: 'Leave empty for Mailchimp’s API in the account’s data centre. Set it to reach Mailchimp through a proxy, or a test server.',
		},
	];
}
