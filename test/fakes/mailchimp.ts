// The fake Mailchimp lives in src/sandbox, where `npm start` and `list-hygiene sandbox` serve it too.
export * from '../../src/sandbox/mailchimp';
