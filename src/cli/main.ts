#!/usr/bin/env node
// The `list-hygiene` executable.
import { runCli } from './run';

// Output piped into a program that stops reading (e.g. `| head`) is not an error worth a trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	if (error.code === 'EPIPE') process.exit(0);
	throw error;
});

void runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
	(code) => {
		process.exitCode = code;
	},
);
