// npm start: install when needed, build the app and the CLI, then serve the build on localhost.
import { execSync } from 'node:child_process';
import { ensureDependencies } from './ensure-deps.mjs';

ensureDependencies();
execSync('npm run build', { stdio: 'inherit' });
const { serveBuild } = await import('./serve.mjs'); // after install: serve.mjs imports sirv
await serveBuild();
