// Copies the runtime libraries the pages load from node_modules into vendor/ (committed), so
// query-svc serves them without npm. Run after changing a pinned version in package.json.

import { copyFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${web}node_modules/qrcode-generator/package.json`, 'utf8'));
copyFileSync(`${web}node_modules/qrcode-generator/dist/qrcode.mjs`, `${web}vendor/qrcode-generator-${version}.mjs`);
console.log(`vendor/qrcode-generator-${version}.mjs (MIT, licence header kept)`);
